/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bpfd-inspect's zygote (see bpfd-inspect-zygote.h): what starting a helper used to cost on every load (bpfd
 * forking itself, sandbox_enter(), exec, the dynamic linker, libbpf's and libseccomp's start, compiling and
 * installing the seccomp filter, a fork) is paid once, or ahead of need. */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fd-send.h"
#include "bpfd-inspect-zygote.h"

#define REQUEST_MAX 4096

/* The zygote's own filter: what serving needs, and everything a spare needs until and after its own filter
 * (parse_syscalls) is in place; filters stack, so a spare never has more than both allow. */
static int restrict_zygote(const int *parse_syscalls, size_t n_parse_syscalls) {
        static const int serving[] = {
                SCMP_SYS(recvfrom), SCMP_SYS(socketpair), SCMP_SYS(clone),   SCMP_SYS(close_range),
                SCMP_SYS(dup2),     SCMP_SYS(prctl),      SCMP_SYS(seccomp), SCMP_SYS(exit_group),
        };
#if defined(__SANITIZE_ADDRESS__) /* as bpfd-inspect's own filter: the sanitizers' runtime needs more */
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_LOG);
#else
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
#endif
        int r = ctx ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < sizeof serving / sizeof serving[0]; i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, serving[i], 0);
        for (size_t i = 0; r >= 0 && i < n_parse_syscalls; i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, parse_syscalls[i], 0);
        if (r >= 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r;
}

/* A child of bpfd (CLONE_PARENT): bpfd reaps it, kills it if its request goes away, and reads its exit status
 * as it did for an executed helper. Raw clone(): glibc's fork() offers no CLONE_PARENT; the child runs only
 * this file's and bpfd-inspect's code, single-threaded, and glibc (2.34 and later) asks the kernel for the
 * thread id where it signals itself. */
static pid_t clone_for_bpfd(void) {
#if defined(__s390__) || defined(__CRIS__)
        return (pid_t) syscall(SYS_clone, 0, CLONE_PARENT | SIGCHLD, NULL, NULL, 0);
#else
        return (pid_t) syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
#endif
}

/* Tells bpfd about a spare: its pid and bpfd's end of its socket, or a negative errno. */
static void announce(int32_t pid_or_error, int fd) {
        char control[CMSG_SPACE(sizeof(int))] = {};
        struct iovec iov = { .iov_base = &pid_or_error, .iov_len = sizeof pid_or_error };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        msghdr_attach_fd(&mh, control, fd);
        while (sendmsg(STDIN_FILENO, &mh, MSG_NOSIGNAL) < 0)
                if (errno != EINTR)
                        _exit(1); /* bpfd is gone */
}

/* Forks a spare. Returns 0 in the spare (its socket as 1, bpfd's log as 2, nothing else: not the zygote's
 * socket to bpfd), 1 in the zygote once bpfd knows of it. */
static int make_spare(int (*install_filter)(void)) {
        int sv[2];
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                announce(-errno, -1);
                return 1;
        }
        pid = clone_for_bpfd();
        if (pid == 0) {
                (void) prctl(PR_SET_NAME, "bpfd-inspect", 0, 0, 0); /* named as the helper it is */
                if (dup2(sv[0], STDOUT_FILENO) < 0 || close(STDIN_FILENO) < 0 ||
                    syscall(SYS_close_range, 3U, ~0U, 0) < 0 || install_filter() < 0)
                        _exit(126);
                return 0;
        }
        close(sv[0]);
        announce(pid < 0 ? -errno : pid, pid < 0 ? -1 : sv[1]);
        close(sv[1]);
        return 1;
}

/* In a spare: waits for its one request ("MODE\0ARG\0" and the object's descriptor, which becomes 0). */
static void wait_request(bool *ret_symbol, const char **ret_arg) {
        static char request[REQUEST_MAX + 1];
        size_t len = 0;
        int object_fd = -1;

        for (;;) {
                char control[CMSG_SPACE(sizeof(int) * 4)];
                struct iovec iov = { .iov_base = request + len, .iov_len = REQUEST_MAX - len };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                                     .msg_controllen = sizeof control };
                const char *mode_end;
                ssize_t n = recvmsg(STDOUT_FILENO, &mh, 0);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        _exit(0); /* bpfd is gone, or stopped using this spare */
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                                for (size_t k = 0; k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
                                        int fd;
                                        memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
                                        if (object_fd >= 0)
                                                _exit(126); /* one object per spare */
                                        object_fd = fd;
                                }
                len += (size_t) n;
                request[len] = 0;
                mode_end = memchr(request, 0, len);
                if (mode_end && memchr(mode_end + 1, 0, len - (size_t) (mode_end + 1 - request)))
                        break;
                if (len >= REQUEST_MAX)
                        _exit(126);
        }
        if (object_fd < 0 || (strcmp(request, "inspect") != 0 && strcmp(request, "symbol") != 0))
                _exit(126);
        /* The spare had 0 free, so the object came as 0; dup3() is in the filter if it ever did not. */
        if (object_fd != STDIN_FILENO && (dup3(object_fd, STDIN_FILENO, 0) < 0 || close(object_fd) < 0))
                _exit(126);
        *ret_symbol = strcmp(request, "symbol") == 0;
        *ret_arg = request + strlen(request) + 1;
}

int zygote_serve(int (*install_filter)(void), const int *parse_syscalls, size_t n_parse_syscalls, bool *ret_symbol,
                 const char **ret_arg) {
        int r;

        (void) prctl(PR_SET_NAME, "bpfd-zygote", 0, 0, 0);
        r = restrict_zygote(parse_syscalls, n_parse_syscalls);
        if (r < 0)
                return r;
        if (make_spare(install_filter) == 1)
                for (;;) {
                        char c;
                        ssize_t n = recv(STDIN_FILENO, &c, 1, 0);

                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                _exit(n == 0 ? 0 : 1); /* bpfd closed its end: it is gone, or wants a new zygote */
                        if (make_spare(install_filter) == 0)
                                break;
                }
        wait_request(ret_symbol, ret_arg);
        return 0;
}
