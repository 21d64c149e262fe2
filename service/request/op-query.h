/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* ListPrograms and GetProgram (op-query.c): programs of the view at once, the kernel's through the worker. */

#include <systemd/sd-bus.h>

#include "engine.h"
#include "manager.h"

typedef struct ProgramFilter {
        bool all;        /* every program of the kernel too */
        char *kind;      /* a kind name, checked */
        bool has_owner;
        uint32_t owner;
} ProgramFilter;

void program_filter_done(ProgramFilter *f);
int request_list_programs(Manager *m, sd_bus_message *msg, ProgramFilter *filter);
int request_get_program(Manager *m, sd_bus_message *msg, uint32_t program_id);
/* The ListPrograms reply's array, from the view (and the kernel's programs, where given). */
int append_program_list(sd_bus_message *reply, Manager *m, const ProgramFilter *filter, const KernelProgram *kernel,
                        size_t n_kernel);
