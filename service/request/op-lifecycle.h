/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Attach, the map calls, Unload and Detach (op-lifecycle.c); as op-load.h for ownership and answers. */

#include <systemd/sd-bus.h>

#include "engine.h"
#include "manager.h"
#include "engine-maps.h"

int request_attach_target(Manager *m, sd_bus_message *msg, uint32_t program_id, AttachTarget *target);
int request_map(Manager *m, sd_bus_message *msg, uint32_t program_id, MapAccess *map);
int request_unload(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error);
int request_detach(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error);
