/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "bpfd-error.h"
#include "engine-error.h"
#include "util.h"

#define BPFD_ERROR_INVALID_OBJECT "org.bpfd.Error.InvalidObject"
#define BPFD_ERROR_PROGRAM_NAME_NOT_FOUND "org.bpfd.Error.ProgramNameNotFound"
#define BPFD_ERROR_VERIFIER_REJECTED "org.bpfd.Error.VerifierRejected"
#define BPFD_ERROR_PROGRAM_NOT_FOUND "org.bpfd.Error.ProgramNotFound"
#define BPFD_ERROR_LINK_NOT_FOUND "org.bpfd.Error.LinkNotFound"
#define BPFD_ERROR_ATTACH_FAILED "org.bpfd.Error.AttachFailed"
#define BPFD_ERROR_ATTACH_TARGET_NOT_FOUND "org.bpfd.Error.AttachTargetNotFound"
#define BPFD_ERROR_PERMISSION_DENIED "org.bpfd.Error.PermissionDenied"
#define BPFD_ERROR_FILE_NOT_FOUND "org.bpfd.Error.FileNotFound"
#define BPFD_ERROR_NOT_SUPPORTED "org.bpfd.Error.NotSupported"
#define BPFD_ERROR_INVALID_ARGUMENT "org.bpfd.Error.InvalidArgument"
#define BPFD_ERROR_MAP_NOT_FOUND "org.bpfd.Error.MapNotFound"
#define BPFD_ERROR_KEY_NOT_FOUND "org.bpfd.Error.KeyNotFound"
#define BPFD_ERROR_FAILED "org.bpfd.Error.Failed"

/* The bus edge's setters: the message is always made valid UTF-8 (invalid bytes, from a library's message,
 * a file, a cut string, are written as \xNN). sd-bus refuses to send a message with invalid UTF-8, and the
 * caller would get no reply at all. */
int bpfd_error_setf(sd_bus_error *e, BpfdError code, const char *fmt, ...) _printf_(3, 4);
/* The same with a D-Bus error name (SD_BUS_ERROR_*, or a name from a client's error). Every
 * sd_bus_error_setf() of the service goes through it (the macro below), so no quoting site can forget it. */
int bpfd_error_set_namef(sd_bus_error *e, const char *name, const char *fmt, ...) _printf_(3, 4);
#define sd_bus_error_setf bpfd_error_set_namef

/* Sends e as the reply to msg, with its message made valid UTF-8; if that reply cannot be built or sent,
 * a generic org.bpfd.Error.Failed, so that the caller never waits for NoReply. */
int bpfd_reply_error(sd_bus_message *msg, const sd_bus_error *e);

/* Like sd_bus_error_set_errnof(), but with bpfd's own names (PermissionDenied for EACCES and EPERM, Failed
 * for the rest): callers always get an org.bpfd.Error. */
int bpfd_error_set_errnof(sd_bus_error *e, int error, const char *fmt, ...) _printf_(3, 4);

/* The one place where the engine's errors become org.bpfd.Error ones. An unset src gives a generic Failed
 * (nobody must be answered with an unset error). Returns the negative errno of the code. */
int bus_error_from_engine(sd_bus_error *dst, const EngineError *src);
/* For bus-side code that still keeps an sd_bus_error across engine calls: moves src (if set) into dst (if not
 * set yet: the first error wins) and leaves src unset. */
void bus_error_take_engine(sd_bus_error *dst, EngineError *src);
/* Replies to msg with e, as bpfd_reply_error() does. */
int bpfd_reply_engine_error(sd_bus_message *msg, const EngineError *e);
