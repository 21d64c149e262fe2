/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Network hooks and the kernel's view of programs and links, for the engine's files (internal, as
 * engine-internal.h). */

#include "engine-internal.h"

/* engine-netchain.c: network hooks: XDP through libxdp's dispatcher, TC through bpfd's, TCX ordered by priority */
unsigned xdp_run_prio(const LinkInfo *l);
void remove_slot(Engine *e, LinkInfo *l);
int tc_hook_update(Engine *e, const LinkInfo *hook, LinkInfo *adding, int adding_fd, uint32_t skip_id,
                   EngineError *error);
void remove_tc_filter(const LinkInfo *l);
bool tc_filter_present(const LinkInfo *l);
int attach_net(Engine *e, Undo *u, ProgramInfo *p, const char *object_path, LinkInfo *l,
               const Caller *caller, int *ret_link_fd, EngineError *error);

/* engine-kernel-programs.c: programs in the kernel, managed or not */
int kernel_program_from_fd(int fd, KernelProgram *k);
int link_id_of_fd(int fd, uint32_t *ret_id, uint32_t *ret_prog_id);
