/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#include "log.h"

static LogTarget log_target = LOG_TARGET_STDERR;
static int max_level = LOG_INFO;
static const char *console_program;

LogTarget log_target_from_string(const char *s) {
        static const char *const names[_LOG_TARGET_MAX] = {
                [LOG_TARGET_AUTO] = "auto", [LOG_TARGET_STDERR] = "stderr",
                [LOG_TARGET_SYSLOG] = "syslog", [LOG_TARGET_JOURNAL] = "journal",
        };

        assert(s);
        /* LOG_TARGET_CONSOLE is no choice of bpfd's command line: it has no name here. */
        for (int i = 0; i < _LOG_TARGET_MAX; i++)
                if (names[i] && streq(s, names[i]))
                        return i;
        return _LOG_TARGET_INVALID;
}

static bool stderr_is_dev_null(void) {
        struct stat st;

        /* Closed, or /dev/null: what dbus-daemon's activation helper leaves a service it starts. */
        if (fstat(STDERR_FILENO, &st) < 0)
                return true;
        return S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

void log_setup_console(const char *program) {
        assert(program);
        console_program = program;
        log_target = LOG_TARGET_CONSOLE;
        max_level = LOG_INFO;
}

void log_setup(LogTarget target, bool debug) {
        assert(target >= 0 && target < _LOG_TARGET_MAX && target != LOG_TARGET_CONSOLE);

        if (target == LOG_TARGET_AUTO) {
                /* Under systemd stderr is usually the journal already, but native journal entries keep the
                 * priority. Where stderr goes nowhere, syslog is where an administrator looks. */
                if (getenv("INVOCATION_ID") || getenv("JOURNAL_STREAM"))
                        target = LOG_TARGET_JOURNAL;
                else if (stderr_is_dev_null())
                        target = LOG_TARGET_SYSLOG;
                else
                        target = LOG_TARGET_STDERR;
        }
        if (target == LOG_TARGET_SYSLOG)
                /* LOG_CONS: without a syslog daemon the console still gets the messages. */
                openlog("bpfd", LOG_PID | LOG_CONS | LOG_NDELAY, LOG_DAEMON);
        log_target = target;
        max_level = debug ? LOG_DEBUG : LOG_INFO;
}

static void log_va(int level, const char *fmt, va_list ap) {
        assert(level >= 0 && level <= LOG_DEBUG);

        if (level > max_level)
                return;
        if (log_target == LOG_TARGET_CONSOLE) {
                fflush(stdout);
                fprintf(stderr, "%s: ", console_program);
                vfprintf(stderr, fmt, ap);
                fputc('\n', stderr);
        } else if (log_target == LOG_TARGET_JOURNAL)
                sd_journal_printv(level, fmt, ap);
        else if (log_target == LOG_TARGET_SYSLOG)
                vsyslog(level, fmt, ap);
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
