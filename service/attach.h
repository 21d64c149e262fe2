/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "caller.h"
#include "model.h"

/* Attaches the program behind prog_fd at target and returns the new (unpinned) link's fd. Works from a bare
 * program fd, so programs recovered after a restart attach the same way as fresh ones. Files the target
 * names (uprobe binaries, cgroup directories) are opened as the caller. */
int attach_program(int prog_fd, int expected_attach_type, const AttachTarget *target, const Caller *caller,
                   int *ret_link_fd, sd_bus_error *error);

/* The kernel attach type for a cgroup "attach_type" name, or -EINVAL. */
int cgroup_attach_type_from_string(const char *s);
const char *cgroup_attach_type_to_string(int type);

