/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>
#include "util.h"

/* Who sent a request, as the bus daemon vouches for it: uid and groups from GetConnectionCredentials, fixed
 * when the connection was made. The pid (and a pidfd for it) only says where the caller's mount namespace
 * is; its ids in /proc are never believed, only compared with the bus's. */
typedef struct Caller {
        uid_t uid;
        gid_t gid;    /* the primary group: the process's, if the bus vouches for it, else the bus's first */
        pid_t pid;
        int pidfd;    /* -1 where there is none */
        gid_t *gids;  /* every group, as the bus says */
        size_t n_gids;
} Caller;

#define CALLER_NULL ((Caller) { .uid = (uid_t) -1, .gid = (gid_t) -1, .pidfd = -1 })

void caller_done(Caller *c);
int caller_copy(Caller *dst, const Caller *src);

/* Whether the caller's process still has the ids the bus vouched for: a setuid or setgid program executed
 * since the connection was made (or a recycled pid) must not lend its ids to the connection. 0 if they
 * match or the process is gone, -EPERM with a sentence in ret_why if not. Needs no privileges. */
int caller_check_identity(Caller *c, char **ret_why);

/* Opens path the way the caller would: in its mount namespace, with the bus's uid and groups, from a child
 * that holds nothing else (see sandbox_enter()). The daemon never reads a file for someone who could not.
 * ret_canonical (optional): the path of what was opened, as the caller's namespace sees it, with no
 * symbolic links and no "..". -ETIMEDOUT if the open did not finish within open_as_caller_timeout_sec (a file
 * system of the caller's that does not answer, e.g. a FUSE mount in the caller's own user and mount namespace).
 * This form waits for the answer: requests do not use it (they wait on the bus thread's loop, caller-open.h),
 * so nobody else's request waits for a caller's file system. */
#define OPEN_AS_CALLER_TIMEOUT_DEFAULT_SEC 10
extern unsigned open_as_caller_timeout_sec; /* bpfd --open-timeout; set before any open */
int open_as_caller(const Caller *c, const char *path, int flags, int *ret_fd, char **ret_canonical);

/* The parts of open_as_caller() for waiting elsewhere. opener_start() forks the opener (it needs the worker's
 * privileges to take the caller's ids and mount namespace) and returns at once: *ret_sock becomes readable
 * when it answers. opener_receive() takes the answer without blocking: 0 with the descriptor (and canonical
 * name), or the open's -errno. The opener ends itself when open_as_caller_timeout_sec has passed (its own
 * alarm); opener_abandon() sends it SIGKILL anyway and reaps it later without waiting for it. */
int opener_start(const Caller *c, const char *path, int flags, bool want_canonical, pid_t *ret_pid, int *ret_sock);
int opener_receive(int sock, int *ret_fd, char **ret_canonical);
void opener_abandon(pid_t pid);

/* Whether the mount namespace of process pid (pidfd: the same process, or -1) belongs to bpfd's own user
 * namespace, the system's: in a mount namespace of a user's own (unshare -Urm) they can mount whatever they can
 * read under any name (the root cgroup as .../trust-alice, /usr/bin/sudo in an allowed directory), so a name
 * from there is not the truth polkit must see. 0 if it does, -EREMOTE if not, -errno if it cannot be told.
 * System calls only (the opener child calls it). open_as_caller() with ret_canonical checks the caller's. */
int mount_ns_is_systems(pid_t pid, int pidfd);

/* A child of bpfd to end: sent SIGKILL and reaped by the reaper thread (helper-reaper.h, which has CAP_KILL, so
 * the signal reaches helpers of other uids), never waited for by the caller. */
void child_reap_later(pid_t pid);

/* Why open_as_caller() failed, for a message: strerror(), or what -ETIMEDOUT means there. */
const char *open_as_caller_strerror(int r);
