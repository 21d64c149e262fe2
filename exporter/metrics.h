/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>
#include <systemd/sd-bus.h>

/* Writes the Prometheus text exposition (format 0.0.4) of what bpfd says over the bus to out. Never fails
 * for bpfd's sake: when bpfd cannot be read, bpfd_up is 0 and the rest is left out. Returns -errno only when
 * out cannot be written. */
int metrics_write(sd_bus *bus, FILE *out);
