/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the bus layer (service/bus/) hands to the request layer: the arguments of a call, parsed and checked
 * for form into plain structs. Each function takes ownership of what it is given, also on failure, and
 * answers msg itself from then on (a return < 0 means the handler answers with that error). */

#include "engine.h"
#include "manager.h"

typedef struct ProgramFilter {
        bool all;        /* every program of the kernel too */
        char *kind;      /* a kind name, checked */
        bool has_owner;
        uint32_t owner;
} ProgramFilter;

void program_filter_done(ProgramFilter *f);

int request_load(Manager *m, sd_bus_message *msg, LoadRequest *load);
int request_attach_target(Manager *m, sd_bus_message *msg, uint32_t program_id, AttachTarget *target);
int request_map(Manager *m, sd_bus_message *msg, uint32_t program_id, MapAccess *map);
/* reference: canonical (image_reference_canonical()); pull_policy: an ImagePullPolicy */
int request_pull_image(Manager *m, sd_bus_message *msg, char *reference, char *registry, int pull_policy);
int request_remove_image(Manager *m, sd_bus_message *msg, char *reference, char *registry);
int request_list_images(Manager *m, sd_bus_message *msg);
/* Programs of the view are answered at once; every program of the kernel ("all") needs the worker. */
int request_list_programs(Manager *m, sd_bus_message *msg, ProgramFilter *filter);
int request_get_program(Manager *m, sd_bus_message *msg, uint32_t program_id);
/* By id (Unload, Detach), or reading the rest of the call's arguments from msg (Attach: the target a{sv};
 * the map calls: map name, key, value, flags; op a MapOp): the Manager's methods and the Program and Link
 * objects' share them. The last two read their arguments in the bus layer (bus/manager-programs.c) and go
 * on with request_attach_target() and request_map(). */
int request_unload(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error);
int request_detach(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error);
int request_attach(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error);
int request_map_access(Manager *m, sd_bus_message *msg, uint32_t id, int op, sd_bus_error *error);

/* credentials.c: remembers the callers' credentials per unique name until the name goes away. */
int manager_watch_callers(Manager *m);

/* The canonical reference and registry of a caller's string: what polkit, the puller and Program.Source
 * see, so one registry has one name in rules. */
int image_reference_canonical(const char *s, char **ret_ref, char **ret_registry, sd_bus_error *error);
/* The ListPrograms reply's array, from the view (and the kernel's programs, where given). */
int append_program_list(sd_bus_message *reply, Manager *m, const ProgramFilter *filter, const KernelProgram *kernel,
                        size_t n_kernel);
