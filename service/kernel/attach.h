/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "caller.h"
#include "engine-error.h"
#include "model.h"

/* Attaches the program behind prog_fd at target and returns the new (unpinned) link's fd. Works from a bare
 * program fd, so programs recovered after a restart attach the same way as fresh ones. Files the target
 * names (uprobe binaries, cgroup directories) are opened as the caller. */
int attach_program(int prog_fd, int expected_attach_type, const AttachTarget *target, const Caller *caller,
                   int *ret_link_fd, EngineError *error);

/* The kernel attach type for a cgroup "attach_type" name, or -EINVAL. */
int cgroup_attach_type_from_string(const char *s);
const char *cgroup_attach_type_to_string(int type);

/* Waits until the kernel has taken program prog_id out of the tracepoint (after its link was unpinned):
 * the tracepoint's slots (64) are free again when this returns 0. -ETIMEDOUT after 5 s. */
int tracepoint_wait_released(const char *tracepoint, uint32_t prog_id);

