/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "engine.h"
#include "manager.h"

/* What programs and links show: the dictionaries of ListPrograms/GetProgram and ListLinks/GetLink, and the
 * values of the org.bpfd.Program properties that are more than a field. From the bus view. */

int append_program_dict(sd_bus_message *reply, Manager *m, const ProgramInfo *p);
int append_kernel_program_dict(sd_bus_message *reply, const KernelProgram *k);
/* A program that a dispatcher runs for link l (an XDP or TC extension loaded from the program's object): bpfd's,
 * with "component_of" (the program id bpfd reports) and "link". */
int append_component_program_dict(sd_bus_message *reply, const KernelProgram *k, const LinkInfo *l);
int append_link_dict(sd_bus_message *reply, const LinkInfo *l);

/* The program's links in id order: their object paths (ao) or attach points (as). */
int append_program_links(sd_bus_message *reply, Manager *m, uint32_t program_id, bool as_paths);
int append_program_map_ids(sd_bus_message *reply, const ProgramInfo *p);
int append_program_maps(sd_bus_message *reply, const ProgramInfo *p);
int append_program_metadata(sd_bus_message *reply, const ProgramInfo *p);
int append_program_globals(sd_bus_message *reply, const ProgramInfo *p);
int append_program_map_used_by(sd_bus_message *reply, Manager *m, const ProgramInfo *p);
/* Run statistics (0 unless on), read through the fd bpfd holds. */
void program_stats(const ProgramInfo *p, uint64_t *ret_count, uint64_t *ret_ns);
