/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Every error bpfd answers with, in one table shared by the daemon and bpfctl: the code the daemon's layers
 * pass around (the engine knows only these, never a D-Bus name), the org.bpfd.Error name the bus edge sends,
 * and the exit status bpfctl turns it into, so that scripts can tell "not allowed" from "no such program"
 * from "daemon down". */

#include <stdbool.h>

typedef enum BpfdError {
        BPFD_ERR_FAILED,
        BPFD_ERR_INVALID_ARGUMENT,
        BPFD_ERR_PERMISSION_DENIED,
        BPFD_ERR_NOT_SUPPORTED,
        BPFD_ERR_FILE_NOT_FOUND,
        BPFD_ERR_INVALID_OBJECT,
        BPFD_ERR_PROGRAM_NAME_NOT_FOUND,
        BPFD_ERR_VERIFIER_REJECTED,
        BPFD_ERR_PROGRAM_NOT_FOUND,
        BPFD_ERR_LINK_NOT_FOUND,
        BPFD_ERR_MAP_NOT_FOUND,
        BPFD_ERR_KEY_NOT_FOUND,
        BPFD_ERR_ATTACH_FAILED,
        BPFD_ERR_ATTACH_TARGET_NOT_FOUND,
        BPFD_ERR_SPEC_NOT_FOUND,
        BPFD_ERR_IMAGE_NOT_FOUND,
        BPFD_ERR_IMAGE_NOT_CACHED,
        BPFD_ERR_INVALID_IMAGE,
        BPFD_ERR_DIGEST_MISMATCH,
        BPFD_ERR_NO_SIGNATURE,
        BPFD_ERR_UNKNOWN_SIGNER,
        BPFD_ERR_SIGNATURE_DIGEST_MISMATCH,
        BPFD_ERR_REGISTRY_UNREACHABLE,
        BPFD_ERR_AUTHENTICATION_FAILED,
        BPFD_ERR_LIMIT_EXCEEDED,
        BPFD_ERR_HELPER_TIMED_OUT,
        _BPFD_ERR_MAX,
} BpfdError;

typedef enum ExitStatus {
        EXIT_STATUS_SUCCESS = 0,
        EXIT_STATUS_FAILURE = 1,          /* Failed and anything unexpected */
        EXIT_STATUS_USAGE = 2,            /* bad command line */
        EXIT_STATUS_PERMISSION = 3,       /* not allowed, or could not authenticate */
        EXIT_STATUS_NOT_FOUND = 4,        /* no such program, link, map, key, interface, spec, image */
        EXIT_STATUS_BAD_OBJECT = 5,       /* the object or image is not what it should be */
        EXIT_STATUS_VERIFIER = 6,         /* the kernel's verifier refused the program */
        EXIT_STATUS_ATTACH = 7,           /* attaching failed, or its target (or registry) is not there */
        EXIT_STATUS_NOT_SUPPORTED = 8,    /* this kernel or bpfd cannot do it */
        EXIT_STATUS_INVALID_ARGUMENT = 9, /* bpfd refused an argument */
        EXIT_STATUS_UNREACHABLE = 10,     /* no bus, no daemon, no answer */
} ExitStatus;

/* Words of bpfd's PermissionDenied message when polkit would have asked for a password but the call did not
 * allow interactive authorization. bpfctl looks for them to make the call again with a polkit agent and the
 * flag set, so both sides take them from here. */
#define BPFD_MESSAGE_INTERACTIVE_NOT_ALLOWED "this call did not allow interactive authentication"

/* "org.bpfd.Error.InvalidObject" for BPFD_ERR_INVALID_OBJECT; Failed's name for anything out of range. */
const char *bpfd_error_name(BpfdError e);

/* The code of an org.bpfd.Error name; false if name is none of ours. */
bool bpfd_error_from_name(const char *name, BpfdError *ret);

/* The errno a code stands for where a negative return value must carry one (EACCES for PermissionDenied,
 * ENOENT for the not-found family, EINVAL for bad input, EOPNOTSUPP, EIO for the rest): positive. */
int bpfd_error_errno(BpfdError e);

/* The code for an errno of a failed operation: PermissionDenied for EACCES and EPERM, Failed otherwise. */
BpfdError bpfd_error_from_errno(int error);

/* The code for an errno from opening a file a caller named. */
BpfdError bpfd_error_for_open_errno(int error);

/* bpfctl's exit status for any D-Bus error name: bpfd's own from the table above, and the bus's
 * (AccessDenied, InvalidArgs, ServiceUnknown, NoReply, ...) by what they mean to a script. */
ExitStatus exit_status_from_error_name(const char *name);
