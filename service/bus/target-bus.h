/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* An attach target on the bus: the a{sv} "target" of Attach and of load options, read into an AttachTarget
 * (see target.h) and written back for Link.Target. */

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "target.h"

/* Reads one a{sv} target; allow_program permits the load-time "program" key. */
int attach_target_read(sd_bus_message *m, bool allow_program, AttachTarget *ret, sd_bus_error *error);
int attach_target_append(sd_bus_message *m, const AttachTarget *t);
