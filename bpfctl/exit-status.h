/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* bpfctl's exit statuses and how D-Bus errors map onto them, so that
 * scripts can tell "not allowed" from "no such program" from "daemon down". */

#include <systemd/sd-bus.h>

#include "bpfd-error.h"

/* ExitStatus and the table of error names behind it are common/bpfd-error.h's. */

/* The exit status for a failed call: by the error name if error is set,
 * by the errno in r otherwise. */
ExitStatus exit_status_from_bus_error(const sd_bus_error *error, int r);

/* Reports a failed call and returns its exit status. A D-Bus error prints as
 * "bpfctl: MESSAGE" and "(ERROR.NAME)" on the next line, the message as the
 * daemon wrote it (a verifier log included); a local failure prints as
 * "bpfctl: WHAT: strerror". */
ExitStatus log_bus_error(const sd_bus_error *error, int r, const char *what);
