/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* How the engine and kernel layers report why something failed: a code from the one table of bpfd's errors
 * (common/bpfd-error.h) and a message for the caller. They know nothing of D-Bus; the bus edge turns an
 * EngineError into an org.bpfd.Error reply (bus_error_from_engine(), bpfd_reply_engine_error() in errors.h).
 *
 * As with sd_bus_error, the first error set wins: a step that fails after a deeper step has said why leaves
 * the deeper reason in place, and every setter accepts a NULL error (only the return value is wanted). */

#include <stdbool.h>

#include "bpfd-error.h"
#include "util.h"

typedef struct EngineError {
        BpfdError code;
        char *message; /* NULL: not set */
} EngineError;

#define ENGINE_ERROR_NULL ((EngineError) {})

/* Sets e (unless it is set already) and returns -bpfd_error_errno(code). The message may hold any bytes;
 * the bus edge makes it valid UTF-8. %m is the errno at the call. */
int engine_error_setf(EngineError *e, BpfdError code, const char *fmt, ...) _printf_(3, 4);

/* PermissionDenied for EACCES and EPERM, Failed for the rest (bpfd_error_from_errno()); %m is error.
 * Returns -|error| (-EIO for 0). */
int engine_error_set_errnof(EngineError *e, int error, const char *fmt, ...) _printf_(3, 4);

/* Both setters always return a negative errno; saying so where they are called lets the compiler and the
 * static analyzers (which see one file at a time) know that an error path returns < 0, so nothing after
 * it is read uninitialized. */
static inline int engine_error_negative(int r) {
        if (r >= 0)
                __builtin_unreachable();
        return r;
}
#define engine_error_setf(e, code, ...) engine_error_negative(engine_error_setf(e, code, __VA_ARGS__))
#define engine_error_set_errnof(e, error, ...) engine_error_negative(engine_error_set_errnof(e, error, __VA_ARGS__))

bool engine_error_is_set(const EngineError *e);

/* Frees the message and leaves e unset: for _cleanup_(engine_error_done). */
void engine_error_done(EngineError *e);

/* Moves src into dst (unless dst is set already, as above) and leaves src unset. */
void engine_error_move(EngineError *dst, EngineError *src);
