/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

/* The request layer (request.c): callers, polkit, the worker's jobs and the replies. */

int manager_watch_callers(Manager *m);

/* Method handlers shared by the manager and the per-object interfaces. */
int request_unload(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error);
int request_attach(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error);
int request_detach(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error);
/* op: a MapOp; reads the method's arguments (map name, key, value, flags) from msg. */
int request_map_access(Manager *m, sd_bus_message *msg, uint32_t id, int op, sd_bus_error *error);

/* org.bpfd.Manager's methods of the request layer (userdata: the Manager). */
int method_load_from_fd(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_load_from_path(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_load_from_image(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_pull_image(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_remove_image(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_images(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_unload(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_detach(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_attach(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_programs(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_get_program(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_links(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_get_link(sd_bus_message *msg, void *userdata, sd_bus_error *error);
