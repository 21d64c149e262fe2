/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "engine-error.h"

#include "caller.h"
#include "kind.h"

/* Where a program is attached: the a{sv} "target" of Attach, parsed (bus/target-bus.h). Keys of kinds not
 * implemented yet are parsed and kept too, so the API does not change when they are. */
typedef struct AttachTarget {
        Kind kind;
        char *program;     /* load-time only: which program of the object */
        char *tracepoint;  /* "category/name" */
        char *target;      /* uprobe: binary, as the caller named it */
        char *function;
        uint64_t offset;
        bool has_offset;
        int32_t pid;
        bool has_pid;
        int32_t container_pid; /* uprobe: resolve target inside this process's root (a container) */
        bool has_container_pid;
        bool retprobe;
        char *cgroup;
        char *attach_type;
        char *interface;
        char *netns;
        char *direction;
        char *mode;
        int32_t priority;
        bool has_priority;
        char **proceed_on;
        /* What the caller named, opened as the caller before polkit is asked (uprobe binaries, cgroup
         * directories; see attach_target_resolve()): polkit sees its canonical path, and the attachment goes
         * through this very descriptor. NULL until resolved; never saved. */
        struct ResolvedTarget *resolved;
} AttachTarget;

typedef struct ResolvedTarget {
        int fd;     /* the uprobe binary or cgroup directory; -1 if the target names neither */
        char *path; /* canonical: no symbolic links, no ".." */
        int netns_fd;     /* the network namespace the target names, opened as the caller; -1 for bpfd's own */
        char *netns_path; /* its canonical name (see open_as_caller()) */
        int container_pidfd; /* while a uprobe binary is opened through /proc/PID/root: that process; else -1 */
} ResolvedTarget;

void attach_target_done(AttachTarget *t);
int attach_target_copy(AttachTarget *dst, const AttachTarget *src);
/* Fills what the program's ELF section names (tracepoint/CAT/NAME, kprobe/FUNC, fentry/FUNC, ...) where the
 * target leaves it out, so "attach it where it says" needs no repetition. */
int attach_target_fill_from_section(AttachTarget *t, const char *section);
/* What a target leaves out and a link records explicitly: network hooks' priority (50) and proceed-on
 * actions (xdp: pass, dispatcher_return; tc: ok, pipe, dispatcher_return). */
int attach_target_apply_defaults(AttachTarget *t);
/* Checks what can be checked without the program: required keys per kind, value syntax. */
int attach_target_validate(const AttachTarget *t, EngineError *error);
/* A target made whole for the program it attaches, the same way for Attach, for targets given at load and for
 * specs: the program's kind where the target names none, the traced function of an fentry/fexit program
 * (attach_function, NULL if none), what the program's section says; then the checks: the program can be
 * attached so, the kernel can do it (supported; NULL: not checked here) and the target's values are right.
 * label names the program in messages ("Program 7", "Program 'xdp_pass'"). */
int attach_target_complete(AttachTarget *t, const char *label, Kind program_kind, const char *section,
                           const char *attach_function, const bool supported[_KIND_MAX], EngineError *error);
/* "tracepoint syscalls/sys_enter_getpid", "uprobe /usr/bin/bash:readline+0x4", "cgroup /sys/fs/cgroup/x egress" */
char *attach_target_describe(const AttachTarget *t);
/* Opens what the target names as the caller (see open_as_caller()) and keeps it in t->resolved: uprobe
 * binaries (inside container_pid's root where given), cgroup directories and network namespaces. Targets
 * naming no file are left alone. */
int attach_target_resolve(AttachTarget *t, const Caller *caller, EngineError *error);
/* attach_target_resolve() in steps, for an open waited for elsewhere (caller-open.h): the next file of t to open as
 * the caller, with the flags to open it with (TARGET_FILE_NONE: every file it names is open), then what opening it
 * said (r: 0 or the open's -errno; fd and canonical are taken either way). */
typedef enum TargetFile { TARGET_FILE_NONE, TARGET_FILE_NETNS, TARGET_FILE_BINARY, TARGET_FILE_CGROUP } TargetFile;
int attach_target_next_file(AttachTarget *t, TargetFile *ret_what, char **ret_path, int *ret_flags,
                            EngineError *error);
int attach_target_file_opened(AttachTarget *t, TargetFile what, const char *path, int r, int fd, char *canonical,
                              EngineError *error);
/* After attaching: drop the resolved descriptor, keeping its canonical path as the target's own (what a link
 * records and shows), except inside a container's root, where the caller's path is the meaningful one. */
int attach_target_settle(AttachTarget *t);
/* The value polkit rules see as "attach_target": canonical where the target was resolved. */
char *attach_target_polkit_detail(const AttachTarget *t);
