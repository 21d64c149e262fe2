/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* How a child of the worker gives up what it inherited before it touches anything of a caller's. */
typedef struct Sandbox {
        /* Descriptors the child keeps, in this order, as 0, 1, 2, ...; every other one is closed. A -1 entry
         * becomes /dev/null. */
        const int *keep_fds;
        unsigned n_keep_fds;
        uid_t uid;          /* the identity to run as */
        gid_t gid;
        const gid_t *groups;
        size_t n_groups;
        bool keep_stderr;
        /* uid 0 only: keep the worker's capabilities. For openers acting for root, who may open what root may
         * (another process's /proc/PID/root or namespaces); never for helpers parsing untrusted bytes. */
        bool keep_root_caps;   /* keep bpfd's stderr as the last of the kept descriptors, for log lines */
} Sandbox;

/* The uid and gid of the helpers that parse untrusted bytes: nobody, unless the system has bpfd's own user. */
void sandbox_helper_identity(uid_t *ret_uid, gid_t *ret_gid);

/* Runs in a freshly forked child of the worker thread: keeps only s's descriptors, empties the capability
 * bounding set (the worker keeps CAP_SETPCAP for this alone), takes s's uid, gid and groups, drops every
 * capability, clears the ambient set and sets no_new_privs, so neither it nor anything it executes can
 * regain privileges. Only async-signal-safe calls: the worker is one thread of several. Returns a negative
 * errno; the child must then _exit(). */
int sandbox_enter(const Sandbox *s);
