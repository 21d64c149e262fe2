/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include "log.h"
#include "netns.h"

int netns_enter(const char *netns_path, const Caller *caller, NetnsGuard *ret) {
        _cleanup_close_ int target = -1, saved = -1;
        int r;

        assert(caller);
        assert(ret);

        *ret = (NetnsGuard) { .saved_fd = -1 };
        if (!netns_path || !*netns_path)
                return 0;
        r = open_as_caller(caller, netns_path, O_RDONLY, &target, NULL);
        if (r < 0)
                return r;
        saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (saved < 0)
                return -errno;
        if (setns(target, CLONE_NEWNET) < 0)
                return errno == EINVAL ? -ENOTTY : -errno; /* EINVAL: not a network namespace */
        *ret = (NetnsGuard) { .saved_fd = TAKE_FD(saved), .entered = true };
        return 0;
}

void netns_leave(NetnsGuard *g) {
        assert(g);

        if (!g->entered)
                return;
        /* Failing to return would leave the worker in a caller's namespace: that must not go unnoticed. */
        if (setns(g->saved_fd, CLONE_NEWNET) < 0) {
                log_error("Cannot return to bpfd's network namespace: %m");
                abort();
        }
        close(g->saved_fd);
        *g = (NetnsGuard) { .saved_fd = -1 };
}

int netns_current_inode(uint64_t *ret) {
        struct stat st;

        assert(ret);

        if (stat("/proc/thread-self/ns/net", &st) < 0)
                return -errno;
        *ret = st.st_ino;
        return 0;
}
