/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "exit-status.h"
#include "messages.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

static ExitStatus exit_status_from_errno(int r) {
        switch (abs(r)) {
        case ECONNREFUSED:
        case ECONNRESET:
        case ENOTCONN:
        case EPIPE:
        case EHOSTUNREACH:
        case ETIMEDOUT:
        case ENOENT: /* a unix socket address that does not exist */
        case ESHUTDOWN:
                return EXIT_STATUS_UNREACHABLE;
        case EACCES:
        case EPERM:
                return EXIT_STATUS_PERMISSION;
        default:
                return EXIT_STATUS_FAILURE;
        }
}

ExitStatus exit_status_from_bus_error(const sd_bus_error *error, int r) {
        if (!sd_bus_error_is_set(error))
                return exit_status_from_errno(r);

        /* sd-bus turns local socket errors into "System.Error.ECONNRESET" and the like. */
        if (strncmp(error->name, "System.Error.", 13) == 0)
                return exit_status_from_errno(sd_bus_error_get_errno(error));

        return exit_status_from_error_name(error->name);
}

ExitStatus log_bus_error(const sd_bus_error *error, int r, const char *what) {
        if (sd_bus_error_is_set(error)) {
                const char *message = isempty(error->message) ? what : error->message;
                const char *hint = message_hint(error->name, error->message);
                _cleanup_free_ char *words = NULL;
                size_t n;

                /* The bus's own words for "nobody owns org.bpfd" mean nothing to a person: say it plainly. */
                if (hint && strncmp(error->name, "org.freedesktop.DBus.Error.", 27) == 0 &&
                    (strncmp(error->name, "org.freedesktop.DBus.Error.Spawn.", 33) != 0 ||
                     streq(error->name, "org.freedesktop.DBus.Error.Spawn.ServiceNotFound")))
                        message = hint, hint = NULL;
                else if (strncmp(error->name, "org.bpfd.Error.", 15) == 0) {
                        words = message_in_cli_words(message);
                        if (words)
                                message = words;
                }

                /* Verbatim, so a verifier log keeps its layout; just no doubled newline. */
                n = strlen(message);
                while (n > 0 && message[n - 1] == '\n')
                        n--;
                log_error("%.*s", (int) n, message);
                if (hint)
                        fprintf(stderr, "%s\n", hint);
                fprintf(stderr, "(%s)\n", error->name);
        } else
                log_error("%s: %s", what, strerror(abs(r)));

        return exit_status_from_bus_error(error, r);
}
