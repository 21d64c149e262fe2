/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "caller.h"

/* Network namespaces are per thread: the worker enters the caller's named namespace for one operation and
 * comes back to its own. netns_path NULL or "" means bpfd's own namespace. The path is opened as the caller,
 * so nobody reaches a namespace through bpfd that they could not open themselves. */
typedef struct NetnsGuard {
        int saved_fd;
        bool entered;
} NetnsGuard;

int netns_enter(const char *netns_path, const Caller *caller, NetnsGuard *ret);
void netns_leave(NetnsGuard *g);
/* The inode of the current thread's network namespace: what tells namespaces apart. */
int netns_current_inode(uint64_t *ret);
