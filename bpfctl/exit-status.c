/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "exit-status.h"
#include "messages.h"
#include "util.h"

static const struct {
        const char *name;
        ExitStatus status;
} error_map[] = {
        { "org.bpfd.Error.Failed",                                 EXIT_STATUS_FAILURE },
        { "org.bpfd.Error.PermissionDenied",                       EXIT_STATUS_PERMISSION },
        { "org.freedesktop.DBus.Error.AccessDenied",               EXIT_STATUS_PERMISSION },
        { "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", EXIT_STATUS_PERMISSION },
        { "org.bpfd.Error.AuthenticationFailed",                   EXIT_STATUS_PERMISSION }, /* the registry's */
        { "org.bpfd.Error.ProgramNotFound",                        EXIT_STATUS_NOT_FOUND },
        { "org.bpfd.Error.LinkNotFound",                           EXIT_STATUS_NOT_FOUND },
        { "org.bpfd.Error.MapNotFound",                            EXIT_STATUS_NOT_FOUND },
        { "org.bpfd.Error.KeyNotFound",                            EXIT_STATUS_NOT_FOUND },
        { "org.bpfd.Error.ImageNotFound",                          EXIT_STATUS_NOT_FOUND },
        { "org.bpfd.Error.SpecNotFound",                           EXIT_STATUS_NOT_FOUND },
        { "org.bpfd.Error.ImageNotCached",                         EXIT_STATUS_NOT_FOUND },
        { "org.bpfd.Error.InvalidObject",                          EXIT_STATUS_BAD_OBJECT },
        { "org.bpfd.Error.ProgramNameNotFound",                    EXIT_STATUS_BAD_OBJECT },
        { "org.bpfd.Error.FileNotFound",                           EXIT_STATUS_BAD_OBJECT },
        /* An image that is not what its registry, digest or signature says: as bad as a bad object. */
        { "org.bpfd.Error.InvalidImage",                           EXIT_STATUS_BAD_OBJECT },
        { "org.bpfd.Error.DigestMismatch",                         EXIT_STATUS_BAD_OBJECT },
        { "org.bpfd.Error.NoSignature",                            EXIT_STATUS_BAD_OBJECT },
        { "org.bpfd.Error.UnknownSigner",                          EXIT_STATUS_BAD_OBJECT },
        { "org.bpfd.Error.SignatureDigestMismatch",                EXIT_STATUS_BAD_OBJECT },
        { "org.bpfd.Error.VerifierRejected",                       EXIT_STATUS_VERIFIER },
        { "org.bpfd.Error.AttachFailed",                           EXIT_STATUS_ATTACH },
        { "org.bpfd.Error.AttachTargetNotFound",                   EXIT_STATUS_ATTACH },
        /* Not 10: that is bpfd being unreachable; here bpfd answered, the registry did not. */
        { "org.bpfd.Error.RegistryUnreachable",                    EXIT_STATUS_ATTACH },
        { "org.bpfd.Error.NotSupported",                           EXIT_STATUS_NOT_SUPPORTED },
        { "org.bpfd.Error.InvalidArgument",                        EXIT_STATUS_INVALID_ARGUMENT },
        /* The daemon refused the arguments' types: the same kind of problem for a script. */
        { "org.freedesktop.DBus.Error.InvalidArgs",                EXIT_STATUS_INVALID_ARGUMENT },
        /* Nobody there to answer. */
        { "org.freedesktop.DBus.Error.ServiceUnknown",             EXIT_STATUS_UNREACHABLE },
        { "org.freedesktop.DBus.Error.NameHasNoOwner",             EXIT_STATUS_UNREACHABLE },
        { "org.freedesktop.DBus.Error.NoReply",                    EXIT_STATUS_UNREACHABLE },
        { "org.freedesktop.DBus.Error.Timeout",                    EXIT_STATUS_UNREACHABLE },
        { "org.freedesktop.DBus.Error.TimedOut",                   EXIT_STATUS_UNREACHABLE },
        { "org.freedesktop.DBus.Error.Disconnected",               EXIT_STATUS_UNREACHABLE },
        { "org.freedesktop.DBus.Error.NoServer",                   EXIT_STATUS_UNREACHABLE },
        { "org.freedesktop.DBus.Error.NoNetwork",                  EXIT_STATUS_UNREACHABLE },
        { "org.freedesktop.DBus.Error.BadAddress",                 EXIT_STATUS_UNREACHABLE },
};

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

        for (size_t i = 0; i < ELEMENTSOF(error_map); i++)
                if (streq(error->name, error_map[i].name))
                        return error_map[i].status;

        /* dbus-daemon failing to start an activatable service. */
        if (strncmp(error->name, "org.freedesktop.DBus.Error.Spawn.", 33) == 0)
                return EXIT_STATUS_UNREACHABLE;

        /* sd-bus turns local socket errors into "System.Error.ECONNRESET" and the like. */
        if (strncmp(error->name, "System.Error.", 13) == 0)
                return exit_status_from_errno(sd_bus_error_get_errno(error));

        return EXIT_STATUS_FAILURE;
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
