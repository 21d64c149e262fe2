/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"
#include "engine-maps.h"

/* The org.bpfd.Manager methods of programs, links and images (manager-load.c, manager-programs.c,
 * manager-images.c): each reads its arguments into plain structs, checks their form and hands them to the
 * request layer (request.h). manager_vtable (manager.c) lists them with the Manager's other methods. */
int method_load_from_fd(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_load_from_path(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_load_from_image(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_unload(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_attach(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_detach(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_programs(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_get_program(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_links(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_get_link(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_pull_image(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_images(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_remove_image(sd_bus_message *msg, void *userdata, sd_bus_error *error);
/* Pull policies as bpfd-image numbers them (Always, IfNotPresent, Never), or -EINVAL. */
int pull_policy_from_string(const char *s);

/* The Program object's Attach and map methods and the Manager's share these (manager-programs.c): they read the
 * rest of the call (the target a{sv}; map name, key, value, flags; op a MapOp) and go on with
 * request_attach_target() and request_map(). */
int bus_attach_program(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error);
int bus_map_access(Manager *m, sd_bus_message *msg, uint32_t id, int op, sd_bus_error *error);
