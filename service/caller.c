/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "caller.h"

void caller_done(Caller *c) {
        free(c->gids);
        *c = (Caller) {};
}

int caller_copy(Caller *dst, const Caller *src) {
        *dst = *src;
        dst->gids = NULL;
        if (src->n_gids > 0) {
                dst->gids = calloc(src->n_gids, sizeof(gid_t));
                if (!dst->gids)
                        return -ENOMEM;
                memcpy(dst->gids, src->gids, src->n_gids * sizeof(gid_t));
        }
        return 0;
}

static int send_result(int sock, int error, int fd) {
        char control[CMSG_SPACE(sizeof(int))] = {};
        struct iovec iov = { .iov_base = &error, .iov_len = sizeof error };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (fd >= 0) {
                struct cmsghdr *cmsg;
                mh.msg_control = control;
                mh.msg_controllen = sizeof control;
                cmsg = CMSG_FIRSTHDR(&mh);
                cmsg->cmsg_level = SOL_SOCKET;
                cmsg->cmsg_type = SCM_RIGHTS;
                cmsg->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
        }
        return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Runs in the forked child: only raw system calls, so no glibc state shared with other threads matters, and
 * the credential calls change this one process (glibc's wrappers would try to sync threads). */
/* The caller's process knows its effective gid and groups better than the bus does (the bus gives no primary
 * gid). Take them from /proc, but only while the process still has the uid the bus vouched for. */
static int credentials_from_proc(pid_t pid, uid_t uid, gid_t *gid, gid_t *gids, size_t *n_gids) {
        char path[64], buf[4096], *line;
        ssize_t n;
        int fd;

        snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return -EIO;
        buf[n] = 0;
        line = strstr(buf, "\nUid:");
        if (!line)
                return -EIO;
        {
                unsigned ruid, euid;
                if (sscanf(line + 5, "%u %u", &ruid, &euid) != 2 || euid != uid)
                        return -ESRCH;
        }
        line = strstr(buf, "\nGid:");
        if (line) {
                unsigned rgid, egid;
                if (sscanf(line + 5, "%u %u", &rgid, &egid) == 2)
                        *gid = egid;
        }
        line = strstr(buf, "\nGroups:");
        if (line) {
                char *p = line + 8, *end;
                *n_gids = 0;
                while (*n_gids < 256) {
                        unsigned long v = strtoul(p, &end, 10);
                        if (end == p)
                                break;
                        gids[(*n_gids)++] = (gid_t) v;
                        p = end;
                }
        }
        return 0;
}

static _Noreturn void opener_child(int sock, const Caller *c, const char *ns_path, const char *path, int flags) {
        gid_t gid = c->gid, gids[256];
        size_t n_gids = c->n_gids < 256 ? c->n_gids : 256;
        int fd, error = 0;

        if (n_gids)
                memcpy(gids, c->gids, n_gids * sizeof(gid_t));
        if (c->pid > 0) {
                int r = credentials_from_proc(c->pid, c->uid, &gid, gids, &n_gids);
                if (r < 0) {
                        error = -r;
                        goto out;
                }
        }
        if (ns_path) {
                int ns = open(ns_path, O_RDONLY | O_CLOEXEC);
                if (ns < 0 || setns(ns, CLONE_NEWNS) < 0) {
                        error = errno;
                        goto out;
                }
                close(ns);
        }
        if (syscall(SYS_setgroups, n_gids, gids) < 0 || syscall(SYS_setresgid, gid, gid, gid) < 0 ||
            syscall(SYS_setresuid, c->uid, c->uid, c->uid) < 0) {
                error = errno;
                goto out;
        }
        fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                error = errno;
        (void) send_result(sock, error, fd);
        _exit(0);
out:
        (void) send_result(sock, error, -1);
        _exit(0);
}

int open_as_caller(const Caller *c, const char *path, int flags, int *ret_fd) {
        char ns_path[64], control[CMSG_SPACE(sizeof(int))];
        int sv[2], error = 0, fd = -1, status;
        struct iovec iov = { .iov_base = &error, .iov_len = sizeof error };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof control };
        struct cmsghdr *cmsg;
        ssize_t n;
        pid_t child;

        if (c->pid > 0)
                snprintf(ns_path, sizeof ns_path, "/proc/%d/ns/mnt", (int) c->pid);
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        child = fork();
        if (child < 0) {
                close(sv[0]);
                close(sv[1]);
                return -errno;
        }
        if (child == 0) {
                close(sv[0]);
                opener_child(sv[1], c, c->pid > 0 ? ns_path : NULL, path, flags);
        }
        close(sv[1]);
        do
                n = recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        close(sv[0]);
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                ;
        if (n != (ssize_t) sizeof error)
                return -EIO;
        for (cmsg = CMSG_FIRSTHDR(&mh); cmsg; cmsg = CMSG_NXTHDR(&mh, cmsg))
                if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
                        memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
        if (error != 0) {
                if (fd >= 0)
                        close(fd);
                return -error;
        }
        if (fd < 0)
                return -EIO;
        *ret_fd = fd;
        return 0;
}
