/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine-error.h"

#undef engine_error_setf
#undef engine_error_set_errnof

/* What an error says when even its message could not be allocated: e stays set, and is never freed. */
static char oom_message[] = "Out of memory.";

static int engine_error_setv(EngineError *e, BpfdError code, int saved_errno, const char *fmt, va_list ap)
        _printf_(4, 0);
static int engine_error_setv(EngineError *e, BpfdError code, int saved_errno, const char *fmt, va_list ap) {
        char *msg = NULL;

        assert(fmt);
        if (!e || engine_error_is_set(e))
                return 0;
        errno = saved_errno; /* for %m */
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        e->code = (unsigned) code < _BPFD_ERR_MAX ? code : BPFD_ERR_FAILED;
        /* Out of memory still leaves e set: a caller must never be answered with an unset error. */
        e->message = msg ?: oom_message;
        errno = saved_errno;
        return 0;
}

int engine_error_setf(EngineError *e, BpfdError code, const char *fmt, ...) {
        int saved_errno = errno;
        va_list ap;

        va_start(ap, fmt);
        (void) engine_error_setv(e, code, saved_errno, fmt, ap);
        va_end(ap);
        return -bpfd_error_errno(code);
}

int engine_error_set_errnof(EngineError *e, int error, const char *fmt, ...) {
        va_list ap;

        error = error < 0 ? -error : error;
        if (error == 0)
                error = EIO; /* a failure with no errno still fails */
        va_start(ap, fmt);
        (void) engine_error_setv(e, bpfd_error_from_errno(error), error, fmt, ap);
        va_end(ap);
        return -error;
}

bool engine_error_is_set(const EngineError *e) {
        return e && e->message;
}

void engine_error_done(EngineError *e) {
        assert(e);
        if (e->message != oom_message)
                free(e->message);
        *e = ENGINE_ERROR_NULL;
}

void engine_error_move(EngineError *dst, EngineError *src) {
        assert(dst);
        assert(src);
        if (!engine_error_is_set(src))
                return;
        if (engine_error_is_set(dst)) {
                engine_error_done(src);
                return;
        }
        *dst = *src;
        *src = ENGINE_ERROR_NULL;
}
