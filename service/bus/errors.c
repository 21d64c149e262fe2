/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "utf8.h"

#undef sd_bus_error_setf

int bpfd_error_set_namef(sd_bus_error *e, const char *name, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL, *clean = NULL;
        int saved_errno = errno, r;
        va_list ap;

        errno = saved_errno; /* for %m */
        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                msg = NULL;
        clean = msg ? utf8_escape_invalid(msg) : NULL;
        r = sd_bus_error_set(e, name, clean ?: "Out of memory.");
        errno = saved_errno;
        return r;
}

int bpfd_reply_error(sd_bus_message *msg, const sd_bus_error *e) {
        _cleanup_(sd_bus_error_free) sd_bus_error clean = SD_BUS_ERROR_NULL;
        int r;

        (void) bpfd_error_set_namef(&clean, e && e->name ? e->name : BPFD_ERROR_FAILED, "%s",
                               e && e->message ? e->message : "The request failed.");
        r = sd_bus_reply_method_error(msg, sd_bus_error_is_set(&clean) ? &clean : e);
        if (r < 0)
                r = sd_bus_reply_method_errorf(msg, BPFD_ERROR_FAILED,
                                               "The request failed, and its error could not be sent (%s).",
                                               strerror(-r));
        return r;
}

int bpfd_error_set_errnof(sd_bus_error *e, int error, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        error = error < 0 ? -error : error;
        errno = error; /* for %m */
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        (void) bpfd_error_setf(e, bpfd_error_from_errno(error), "%s", msg ?: "Out of memory.");
        return -error;
}

int bpfd_error_setf(sd_bus_error *e, BpfdError code, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        int saved_errno = errno;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        (void) bpfd_error_set_namef(e, bpfd_error_name(code), "%s", msg ?: "Out of memory.");
        errno = saved_errno;
        return -bpfd_error_errno(code);
}

int bus_error_from_engine(sd_bus_error *dst, const EngineError *src) {
        if (!engine_error_is_set(src))
                return bpfd_error_setf(dst, BPFD_ERR_FAILED, "The request failed.");
        return bpfd_error_setf(dst, src->code, "%s", src->message);
}

void bus_error_take_engine(sd_bus_error *dst, EngineError *src) {
        assert(src);
        if (engine_error_is_set(src) && !sd_bus_error_is_set(dst))
                (void) bus_error_from_engine(dst, src);
        engine_error_done(src);
}

int bpfd_reply_engine_error(sd_bus_message *msg, const EngineError *e) {
        _cleanup_(sd_bus_error_free) sd_bus_error b = SD_BUS_ERROR_NULL;

        assert(msg);
        (void) bus_error_from_engine(&b, e);
        return bpfd_reply_error(msg, &b);
}
