/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-journal.h>

#include "log.h"

static bool log_to_journal;
static int max_level = LOG_INFO;

void log_setup(bool debug) {
        /* Under systemd stderr is usually the journal already, but native journal entries keep the priority. */
        log_to_journal = getenv("INVOCATION_ID") || getenv("JOURNAL_STREAM");
        max_level = debug ? LOG_DEBUG : LOG_INFO;
}

static void log_va(int level, const char *fmt, va_list ap) {
        if (level > max_level)
                return;
        if (log_to_journal)
                sd_journal_printv(level, fmt, ap);
        else {
                static const char *const prefix[] = {
                        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit", [LOG_ERR] = "error",
                        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
                };
                char buf[4096];
                vsnprintf(buf, sizeof buf, fmt, ap);
                fprintf(stderr, "bpfd[%s]: %s\n", prefix[level & 7], buf);
        }
}

void log_full(int level, const char *fmt, ...) {
        va_list ap;
        int saved = errno;

        va_start(ap, fmt);
        log_va(level, fmt, ap);
        va_end(ap);
        errno = saved;
}

int log_full_errno(int level, int error, const char *fmt, ...) {
        va_list ap;

        errno = error < 0 ? -error : error;
        va_start(ap, fmt);
        log_va(level, fmt, ap);
        va_end(ap);
        return error < 0 ? error : -error;
}
