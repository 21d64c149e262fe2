/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <syslog.h>
#include "util.h"

typedef enum LogTarget {
        LOG_TARGET_AUTO,        /* journal under systemd, syslog if stderr is /dev/null, else stderr */
        LOG_TARGET_STDERR,
        LOG_TARGET_SYSLOG,
        LOG_TARGET_JOURNAL,
        LOG_TARGET_CONSOLE,     /* a command line tool's: "PROGRAM: message" on stderr, no level */
        _LOG_TARGET_MAX,
        _LOG_TARGET_INVALID = -1,
} LogTarget;

LogTarget log_target_from_string(const char *s);
void log_setup(LogTarget target, bool debug);
/* For command line tools (bpfctl): messages go to stderr as "program: message", after whatever the tool
 * wrote to stdout so far, so that both keep their order on one terminal. */
void log_setup_console(const char *program);
void log_full(int level, const char *fmt, ...) _printf_(2, 3);
int log_full_errno(int level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)
/* These set errno so %m prints the error, and return the (negative) error. */
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
/* Logs and returns -ENOMEM, for "return log_oom();". Inline, so that callers' analysis sees the -ENOMEM. */
static inline int log_oom(void) {
        log_full(LOG_ERR, "out of memory");
        return -ENOMEM;
}
