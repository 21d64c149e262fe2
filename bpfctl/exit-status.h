/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* bpfctl's exit statuses and how D-Bus errors map onto them, so that
 * scripts can tell "not allowed" from "no such program" from "daemon down". */

#include <systemd/sd-bus.h>

typedef enum ExitStatus {
        EXIT_STATUS_SUCCESS = 0,
        EXIT_STATUS_FAILURE = 1,          /* org.bpfd.Error.Failed and anything unexpected */
        EXIT_STATUS_USAGE = 2,            /* bad command line */
        EXIT_STATUS_PERMISSION = 3,       /* PermissionDenied, AccessDenied, InteractiveAuthorizationRequired,
                                           * AuthenticationFailed (the registry's) */
        EXIT_STATUS_NOT_FOUND = 4,        /* ProgramNotFound, LinkNotFound, MapNotFound, KeyNotFound, no such interface,
                                           * ImageNotFound, ImageNotCached */
        EXIT_STATUS_BAD_OBJECT = 5,       /* InvalidObject, ProgramNameNotFound, FileNotFound, FILE unopenable,
                                           * InvalidImage, DigestMismatch, NoSignature, UnknownSigner,
                                           * SignatureDigestMismatch */
        EXIT_STATUS_VERIFIER = 6,         /* VerifierRejected */
        EXIT_STATUS_ATTACH = 7,           /* AttachFailed, AttachTargetNotFound, RegistryUnreachable */
        EXIT_STATUS_NOT_SUPPORTED = 8,    /* NotSupported */
        EXIT_STATUS_INVALID_ARGUMENT = 9, /* InvalidArgument */
        EXIT_STATUS_UNREACHABLE = 10,     /* no bus, no daemon, no answer */
} ExitStatus;

/* The exit status for a failed call: by the error name if error is set,
 * by the errno in r otherwise. */
ExitStatus exit_status_from_bus_error(const sd_bus_error *error, int r);

/* Reports a failed call and returns its exit status. A D-Bus error prints as
 * "bpfctl: MESSAGE" and "(ERROR.NAME)" on the next line, the message as the
 * daemon wrote it (a verifier log included); a local failure prints as
 * "bpfctl: WHAT: strerror". */
ExitStatus log_bus_error(const sd_bus_error *error, int r, const char *what);
