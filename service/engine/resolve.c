/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Targets are resolved as the caller before polkit is asked: what a rule approves (the canonical path of
 * what was opened) is what gets attached, through the same descriptor, with no window to swap it. */
#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "engine-error.h"
#include "helper-reaper.h"
#include "target.h"

/* open_as_caller() or mount_ns_is_systems() said -EREMOTE. */
#define NOT_THE_TRUTH                                                                                             \
        "The %s '%s' is named in a mount namespace of a user's own (a user namespace's), where anything can be "    \
        "mounted under any name: polkit would not be told the truth, so it is not allowed."

static ResolvedTarget *resolved_of(AttachTarget *t) {
        if (!t->resolved && (t->resolved = calloc(1, sizeof(ResolvedTarget))))
                *t->resolved = (ResolvedTarget) { .fd = -1, .netns_fd = -1, .container_pidfd = -1 };
        return t->resolved;
}

static int resolved_new(AttachTarget *t, int fd, char *path) {
        ResolvedTarget *r = resolved_of(t);

        if (!r) {
                close(fd);
                free(path);
                return -ENOMEM;
        }
        r->fd = fd;
        r->path = path;
        return 0;
}

/* The namespace a network target names, opened as the caller: polkit sees its canonical name, and the worker
 * enters this very namespace (not whatever the path names by then). */
static int netns_opened(AttachTarget *t, int r, int fd_, char *canonical_, EngineError *error) {
        _cleanup_free_ char *canonical = canonical_;
        _cleanup_close_ int fd = fd_;
        ResolvedTarget *res;

        if (r == -EREMOTE)
                return engine_error_setf(error, BPFD_ERR_PERMISSION_DENIED, NOT_THE_TRUTH, "network namespace", t->netns);
        if (IN_SET2(r, -ENOENT, -ENOTDIR))
                return engine_error_setf(error, BPFD_ERR_ATTACH_TARGET_NOT_FOUND, "There is no network namespace '%s'.",
                                         t->netns);
        if (r == -EXDEV)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "'%s' names bpfd's own process, not the "
                                         "caller's: name the namespace as /proc/PID/ns/net with the process's PID, or "
                                         "as /run/netns/NAME.", t->netns);
        if (r == -ESTALE)
                return engine_error_setf(error, BPFD_ERR_PERMISSION_DENIED, "Cannot open the network namespace '%s' as "
                                         "the caller: the caller's identity changed since it connected.", t->netns);
        if (r < 0)
                return engine_error_setf(error, bpfd_error_for_open_errno(r), "Cannot open the network namespace '%s': %s",
                                         t->netns, open_as_caller_strerror(r));
        if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "'%s' is not a network namespace.", t->netns);
        res = resolved_of(t);
        if (!res)
                return -ENOMEM;
        res->netns_fd = TAKE_FD(fd);
        res->netns_path = TAKE_PTR(canonical);
        return 0;
}

static int container_gone(AttachTarget *t, EngineError *error) {
        return engine_error_setf(error, BPFD_ERR_ATTACH_TARGET_NOT_FOUND,
                                 "There is no process %" PRIi32 " (or it ended while its uprobe target '%s' was "
                                 "opened; its pid may name another process now).", t->container_pid, t->target);
}

static int uprobe_binary_opened(AttachTarget *t, const char *path, int r, int fd_, char *canonical_,
                                EngineError *error) {
        _cleanup_free_ char *canonical = canonical_;
        _cleanup_close_ int fd = fd_;
        struct stat st;

        assert(t);
        assert(t->target);

        if (r == -EREMOTE)
                return engine_error_setf(error, BPFD_ERR_PERMISSION_DENIED, NOT_THE_TRUTH, "uprobe target", t->target);
        if (r == -ENOENT && t->has_container_pid && access(path, F_OK) < 0 && errno == ENOENT) {
                char proc[64];
                snprintf(proc, sizeof proc, "/proc/%" PRIi32, t->container_pid);
                if (access(proc, F_OK) < 0)
                        return engine_error_setf(error, BPFD_ERR_ATTACH_TARGET_NOT_FOUND, "There is no process %" PRIi32 ".",
                                                 t->container_pid);
        }
        if (r == -ENOENT)
                return engine_error_setf(error, BPFD_ERR_ATTACH_TARGET_NOT_FOUND, "The uprobe target '%s' does not exist%s.",
                                         t->target, t->has_container_pid ? " in that container" : "");
        if (r == -ESTALE)
                return engine_error_setf(error, BPFD_ERR_PERMISSION_DENIED, "Cannot open the uprobe target '%s' as the "
                                         "caller: the caller's identity changed since it connected.", t->target);
        if (r < 0)
                return engine_error_setf(error, bpfd_error_for_open_errno(r), "Cannot open the uprobe target '%s': %s",
                                         t->target, open_as_caller_strerror(r));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "The uprobe target '%s' is not a regular file.", t->target);
        /* The container's names count only from a container of the system's (not of a user's own namespaces).
         * mount_ns_is_systems() checks the pidfd taken before the open after its own read of /proc/PID
         * (-ESRCH: it ended, and the pid may name another process now). */
        if (t->has_container_pid) {
                assert(t->resolved && t->resolved->container_pidfd >= 0);
                r = mount_ns_is_systems(t->container_pid, t->resolved->container_pidfd);
                close(t->resolved->container_pidfd);
                t->resolved->container_pidfd = -1;
                if (r == -ESRCH || r == -ENOENT)
                        return container_gone(t, error);
                if (r < 0)
                        return engine_error_setf(error, BPFD_ERR_PERMISSION_DENIED, NOT_THE_TRUTH, "uprobe target",
                                                 t->target);
        }
        return resolved_new(t, TAKE_FD(fd), TAKE_PTR(canonical));
}

static int cgroup_opened(AttachTarget *t, int r, int fd_, char *canonical_, EngineError *error) {
        _cleanup_free_ char *canonical = canonical_;
        _cleanup_close_ int fd = fd_;
        struct statfs sfs;

        assert(t);
        assert(t->cgroup);

        if (r == -EREMOTE)
                return engine_error_setf(error, BPFD_ERR_PERMISSION_DENIED, NOT_THE_TRUTH, "cgroup", t->cgroup);
        if (IN_SET2(r, -ENOENT, -ENOTDIR))
                return engine_error_setf(error, BPFD_ERR_ATTACH_TARGET_NOT_FOUND, "There is no cgroup '%s'.", t->cgroup);
        if (r == -ESTALE)
                return engine_error_setf(error, BPFD_ERR_PERMISSION_DENIED, "Cannot open cgroup '%s' as the caller: "
                                         "the caller's identity changed since it connected.", t->cgroup);
        if (r < 0)
                return engine_error_setf(error, bpfd_error_for_open_errno(r), "Cannot open cgroup '%s': %s", t->cgroup,
                                         open_as_caller_strerror(r));
        if (fstatfs(fd, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "'%s' is not a cgroup v2 directory.",
                                         t->cgroup);
        return resolved_new(t, TAKE_FD(fd), TAKE_PTR(canonical));
}

int attach_target_next_file(AttachTarget *t, TargetFile *ret_what, char **ret_path, int *ret_flags,
                            EngineError *error) {
        const ResolvedTarget *res = t->resolved;
        char *path = NULL;

        assert(t);
        assert(ret_what && ret_path && ret_flags);

        *ret_what = TARGET_FILE_NONE;
        *ret_path = NULL;
        *ret_flags = O_RDONLY;
        if (t->netns && t->netns[0] && !(res && res->netns_fd >= 0)) {
                *ret_what = TARGET_FILE_NETNS;
                return (*ret_path = strdup(t->netns)) ? 0 : -ENOMEM;
        }
        if (t->target && t->target[0] != '/')
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "The uprobe 'target' must be an absolute path, not '%s'.", t->target);
        if (t->cgroup && t->cgroup[0] != '/')
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "The 'cgroup' must be an absolute path, not '%s'.", t->cgroup);
        if (res && res->fd >= 0)
                return 0;
        if (t->target && (t->kind == KIND_DEFAULT || IN_SET2(t->kind, KIND_UPROBE, KIND_URETPROBE))) {
                /* A binary inside a container is found through that process's root directory, read through
                 * /proc/PID: the pidfd, taken first and found alive after the last read of /proc/PID
                 * (uprobe_binary_opened()), says that every read was of this one process, not of one that got
                 * its pid since. */
                if (t->has_container_pid) {
                        ResolvedTarget *rt = resolved_of(t);
                        if (!rt)
                                return -ENOMEM;
                        if (rt->container_pidfd >= 0)
                                close(rt->container_pidfd);
                        rt->container_pidfd = helper_pidfd_open(t->container_pid);
                        if (rt->container_pidfd < 0) {
                                int e = rt->container_pidfd;
                                rt->container_pidfd = -1;
                                return e == -ESRCH || e == -EINVAL ? container_gone(t, error)
                                                                   : engine_error_set_errnof(error, -e,
                                                                         "Cannot open process %" PRIi32 ": %m",
                                                                         t->container_pid);
                        }
                }
                if (t->has_container_pid ? asprintf(&path, "/proc/%" PRIi32 "/root%s", t->container_pid, t->target) < 0
                                         : !(path = strdup(t->target)))
                        return -ENOMEM;
                *ret_what = TARGET_FILE_BINARY;
        } else if (t->cgroup && (t->kind == KIND_DEFAULT || t->kind == KIND_CGROUP)) {
                if (!(path = strdup(t->cgroup)))
                        return -ENOMEM;
                *ret_what = TARGET_FILE_CGROUP;
                *ret_flags = O_RDONLY | O_DIRECTORY;
        }
        *ret_path = path;
        return 0;
}

int attach_target_file_opened(AttachTarget *t, TargetFile what, const char *path, int r, int fd, char *canonical,
                              EngineError *error) {
        assert(t);

        switch (what) {
        case TARGET_FILE_NETNS:
                return netns_opened(t, r, fd, canonical, error);
        case TARGET_FILE_BINARY:
                return uprobe_binary_opened(t, path, r, fd, canonical, error);
        case TARGET_FILE_CGROUP:
                return cgroup_opened(t, r, fd, canonical, error);
        default:
                assert(false);
                return -EINVAL;
        }
}

int attach_target_resolve(AttachTarget *t, const Caller *caller, EngineError *error) {
        assert(t);
        assert(caller);

        for (;;) {
                _cleanup_free_ char *path = NULL, *canonical = NULL;
                TargetFile what;
                int r, flags, fd = -1;

                r = attach_target_next_file(t, &what, &path, &flags, error);
                if (r < 0 || what == TARGET_FILE_NONE)
                        return r;
                r = open_as_caller(caller, path, flags, &fd, &canonical);
                r = attach_target_file_opened(t, what, path, r, fd, TAKE_PTR(canonical), error);
                if (r < 0)
                        return r;
        }
}

int attach_target_settle(AttachTarget *t) {
        ResolvedTarget *r = t->resolved;
        char **field = t->target ? &t->target : t->cgroup ? &t->cgroup : NULL;

        assert(t);

        if (!r)
                return 0;
        if (r->netns_path && *r->netns_path) {
                char *copy = strdup(r->netns_path);
                if (!copy)
                        return -ENOMEM;
                free(t->netns);
                t->netns = copy;
        }
        if (r->netns_fd >= 0)
                close(r->netns_fd);
        if (r->container_pidfd >= 0)
                close(r->container_pidfd);
        free(r->netns_path);
        if (field && !t->has_container_pid && r->path && *r->path) {
                char *copy = strdup(r->path);
                if (!copy)
                        return -ENOMEM;
                free(*field);
                *field = copy;
        }
        if (r->fd >= 0)
                close(r->fd);
        free(r->path);
        free(r);
        t->resolved = NULL;
        return 0;
}
