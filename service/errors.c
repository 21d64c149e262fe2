/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "errors.h"

int bpfd_error_set_errnof(sd_bus_error *e, int error, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        error = error < 0 ? -error : error;
        errno = error; /* for %m */
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        (void) sd_bus_error_set(e, IN_SET2(error, EACCES, EPERM) ? BPFD_ERROR_PERMISSION_DENIED : BPFD_ERROR_FAILED,
                                msg ?: "Out of memory.");
        return -error;
}
