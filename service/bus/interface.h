/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

extern const sd_bus_vtable interface_vtable[];
/* The org.bpfd.Interface objects of the view, under INTERFACE_PATH_PREFIX. */
int interface_objects_add(Manager *m);
int method_list_interfaces(sd_bus_message *msg, void *userdata, sd_bus_error *error);
/* The ListInterfaces reply, from the view as it is. */
int interfaces_reply(Manager *m, sd_bus_message *msg, sd_bus_error *error);
