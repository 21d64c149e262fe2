/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpfd-error.h"

#define ELEMENTS(x) (sizeof(x) / sizeof((x)[0]))

static const struct {
        const char *name;
        int errno_value;
        ExitStatus status;
} table[_BPFD_ERR_MAX] = {
        [BPFD_ERR_FAILED]                   = { "org.bpfd.Error.Failed",                  EIO,        EXIT_STATUS_FAILURE },
        [BPFD_ERR_INVALID_ARGUMENT]         = { "org.bpfd.Error.InvalidArgument",         EINVAL,     EXIT_STATUS_INVALID_ARGUMENT },
        [BPFD_ERR_PERMISSION_DENIED]        = { "org.bpfd.Error.PermissionDenied",        EACCES,     EXIT_STATUS_PERMISSION },
        [BPFD_ERR_NOT_SUPPORTED]            = { "org.bpfd.Error.NotSupported",            EOPNOTSUPP, EXIT_STATUS_NOT_SUPPORTED },
        [BPFD_ERR_FILE_NOT_FOUND]           = { "org.bpfd.Error.FileNotFound",            ENOENT,     EXIT_STATUS_BAD_OBJECT },
        [BPFD_ERR_INVALID_OBJECT]           = { "org.bpfd.Error.InvalidObject",           EINVAL,     EXIT_STATUS_BAD_OBJECT },
        [BPFD_ERR_PROGRAM_NAME_NOT_FOUND]   = { "org.bpfd.Error.ProgramNameNotFound",     ENOENT,     EXIT_STATUS_BAD_OBJECT },
        [BPFD_ERR_VERIFIER_REJECTED]        = { "org.bpfd.Error.VerifierRejected",        EINVAL,     EXIT_STATUS_VERIFIER },
        [BPFD_ERR_PROGRAM_NOT_FOUND]        = { "org.bpfd.Error.ProgramNotFound",         ENOENT,     EXIT_STATUS_NOT_FOUND },
        [BPFD_ERR_LINK_NOT_FOUND]           = { "org.bpfd.Error.LinkNotFound",            ENOENT,     EXIT_STATUS_NOT_FOUND },
        [BPFD_ERR_MAP_NOT_FOUND]            = { "org.bpfd.Error.MapNotFound",             ENOENT,     EXIT_STATUS_NOT_FOUND },
        [BPFD_ERR_KEY_NOT_FOUND]            = { "org.bpfd.Error.KeyNotFound",             ENOENT,     EXIT_STATUS_NOT_FOUND },
        [BPFD_ERR_ATTACH_FAILED]            = { "org.bpfd.Error.AttachFailed",            EIO,        EXIT_STATUS_ATTACH },
        [BPFD_ERR_ATTACH_TARGET_NOT_FOUND]  = { "org.bpfd.Error.AttachTargetNotFound",    ENOENT,     EXIT_STATUS_ATTACH },
        [BPFD_ERR_SPEC_NOT_FOUND]           = { "org.bpfd.Error.SpecNotFound",            ENOENT,     EXIT_STATUS_NOT_FOUND },
        [BPFD_ERR_IMAGE_NOT_FOUND]          = { "org.bpfd.Error.ImageNotFound",           ENOENT,     EXIT_STATUS_NOT_FOUND },
        [BPFD_ERR_IMAGE_NOT_CACHED]         = { "org.bpfd.Error.ImageNotCached",          ENOENT,     EXIT_STATUS_NOT_FOUND },
        /* An image that is not what its registry, digest or signature says: as bad as a bad object. */
        [BPFD_ERR_INVALID_IMAGE]            = { "org.bpfd.Error.InvalidImage",            EINVAL,     EXIT_STATUS_BAD_OBJECT },
        [BPFD_ERR_DIGEST_MISMATCH]          = { "org.bpfd.Error.DigestMismatch",          EBADMSG,    EXIT_STATUS_BAD_OBJECT },
        [BPFD_ERR_NO_SIGNATURE]             = { "org.bpfd.Error.NoSignature",             EBADMSG,    EXIT_STATUS_BAD_OBJECT },
        [BPFD_ERR_UNKNOWN_SIGNER]           = { "org.bpfd.Error.UnknownSigner",           EBADMSG,    EXIT_STATUS_BAD_OBJECT },
        [BPFD_ERR_SIGNATURE_DIGEST_MISMATCH]= { "org.bpfd.Error.SignatureDigestMismatch", EBADMSG,    EXIT_STATUS_BAD_OBJECT },
        /* Not UNREACHABLE: that is bpfd being unreachable; here bpfd answered, the registry did not. */
        [BPFD_ERR_REGISTRY_UNREACHABLE]     = { "org.bpfd.Error.RegistryUnreachable",     EHOSTUNREACH, EXIT_STATUS_ATTACH },
        [BPFD_ERR_AUTHENTICATION_FAILED]    = { "org.bpfd.Error.AuthenticationFailed",    EACCES,     EXIT_STATUS_PERMISSION },
        /* Too many requests of one user in flight at once: nothing was done, the same call may be made again. */
        [BPFD_ERR_LIMIT_EXCEEDED]           = { "org.bpfd.Error.LimitExceeded",           EAGAIN,     EXIT_STATUS_FAILURE },
        /* bpfd's unprivileged helper (bpfd-inspect) did not answer in time (stopped by another process of its
         * uid, say): it was killed, nothing was done, the same call may be made again. */
        [BPFD_ERR_HELPER_TIMED_OUT]         = { "org.bpfd.Error.HelperTimedOut",          ETIMEDOUT,  EXIT_STATUS_FAILURE },
};

/* The bus's own errors, by what they mean to a script. */
static const struct {
        const char *name;
        ExitStatus status;
} bus_errors[] = {
        { "org.freedesktop.DBus.Error.AccessDenied",               EXIT_STATUS_PERMISSION },
        { "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", EXIT_STATUS_PERMISSION },
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

const char *bpfd_error_name(BpfdError e) {
        if ((unsigned) e >= _BPFD_ERR_MAX)
                e = BPFD_ERR_FAILED;
        return table[e].name;
}

bool bpfd_error_from_name(const char *name, BpfdError *ret) {
        if (!name)
                return false;
        for (unsigned i = 0; i < _BPFD_ERR_MAX; i++)
                if (strcmp(name, table[i].name) == 0) {
                        if (ret)
                                *ret = (BpfdError) i;
                        return true;
                }
        return false;
}

int bpfd_error_errno(BpfdError e) {
        if ((unsigned) e >= _BPFD_ERR_MAX)
                e = BPFD_ERR_FAILED;
        return table[e].errno_value;
}

BpfdError bpfd_error_from_errno(int error) {
        error = abs(error);
        return error == EACCES || error == EPERM ? BPFD_ERR_PERMISSION_DENIED : BPFD_ERR_FAILED;
}

BpfdError bpfd_error_for_open_errno(int error) {
        switch (abs(error)) {
        case ENOENT:
        case ENOTDIR:
        case ELOOP:
                return BPFD_ERR_FILE_NOT_FOUND;
        case EACCES:
        case EPERM:
                return BPFD_ERR_PERMISSION_DENIED;
        case ETIMEDOUT: /* a file system that does not answer (open_as_caller()) */
        case ECONNABORTED: /* a FUSE file system that went away while the file was being opened, */
        case ENOTCONN:     /* or before */
                return BPFD_ERR_INVALID_ARGUMENT;
        default:
                return BPFD_ERR_FAILED;
        }
}

ExitStatus exit_status_from_error_name(const char *name) {
        BpfdError e;

        if (!name)
                return EXIT_STATUS_FAILURE;
        if (bpfd_error_from_name(name, &e))
                return table[e].status;
        for (size_t i = 0; i < ELEMENTS(bus_errors); i++)
                if (strcmp(name, bus_errors[i].name) == 0)
                        return bus_errors[i].status;
        /* dbus-daemon failing to start an activatable service. */
        if (strncmp(name, "org.freedesktop.DBus.Error.Spawn.", 33) == 0)
                return EXIT_STATUS_UNREACHABLE;
        return EXIT_STATUS_FAILURE;
}
