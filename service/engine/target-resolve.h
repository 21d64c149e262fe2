/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "engine-error.h"
#include "target.h"

/* The program an attach target is for, as far as resolving the target needs it: a managed program (Attach)
 * or one being loaded (its inspection). */
typedef struct TargetProgram {
        uint32_t id;                 /* a managed program's id; 0 while it is being loaded */
        const char *name;
        Kind kind;
        const char *section;         /* its ELF section: tracepoint/CAT/NAME, kprobe/FUNC, fentry/FUNC, ... */
        const char *attach_function; /* fentry/fexit: the function it was loaded for, or NULL */
} TargetProgram;

/* The one resolution of an attach target, for Attach and for the targets of a load alike, in one order:
 * the kind (the program's where the target names none), whether the program can be attached so and bpfd
 * can on this kernel, the function an fentry/fexit program was loaded for, what the section names where the
 * target leaves it out, then the target's own keys (attach_target_validate()). Pure: opening the files it
 * names as the caller (targets_open_as_caller()) comes after, and only for a target that passed. */
int target_resolve(AttachTarget *t, const TargetProgram *p, const bool supported[_KIND_MAX], EngineError *error);

/* Whether the target names something to open as the caller: a uprobe binary, a cgroup directory, a network
 * namespace. */
bool attach_target_names_files(const AttachTarget *t);

/* Worker: opens the files resolved targets name as the caller (attach_target_resolve()), so polkit sees their
 * canonical paths and the attachment uses those very files. */
int targets_open_as_caller(AttachTarget *targets, size_t n, const Caller *caller, EngineError *error);
