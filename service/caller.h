/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>
#include "util.h"

/* Who sent a request, as the bus daemon vouches for it. */
typedef struct Caller {
        uid_t uid;
        gid_t gid;
        pid_t pid;
        gid_t *gids;
        size_t n_gids;
} Caller;

void caller_done(Caller *c);
int caller_copy(Caller *dst, const Caller *src);

/* Opens path the way the caller would: in its mount namespace, with its uid, gid and groups. A forked child
 * does the open and hands back the descriptor, so the daemon never reads a file for someone who could not. */
int open_as_caller(const Caller *c, const char *path, int flags, int *ret_fd);
