/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "caller-open.h"
#include "engine-error.h"
#include "target.h"

/* After a target was made whole for its program (attach_target_complete(), the same for Attach and a load's
 * targets), and only then: what it names is opened as the caller, so polkit sees canonical paths and the
 * attachment uses those very files. */

/* Whether the target names something to open as the caller: a uprobe binary, a cgroup directory, a network
 * namespace. */
bool attach_target_names_files(const AttachTarget *t);

/* Worker: opens what completed targets name as the caller (attach_target_resolve()). */
int targets_open_as_caller(AttachTarget *targets, size_t n, const Caller *caller, EngineError *error);

/* The same one file at a time, without waiting for any (requests): takes the answer of the file in *opening
 * (waited for with caller_open_wait_async()), then starts opening the next one into *opening: 1 to wait for it,
 * 0 when every file the targets name is open, < 0 with error set. */
int targets_open_next(AttachTarget *targets, size_t n, const Caller *caller, CallerOpen **opening,
                      EngineError *error);
