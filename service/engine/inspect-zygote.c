/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bpfd's side of the inspection zygote (service/bpfd-inspect-zygote.h). Starting a bpfd-inspect used to be
 * most of a load: the worker forked the whole daemon, the child dropped its privileges one by one, executed
 * the helper, which linked libbpf, libelf and libseccomp and compiled its filter. The zygote does all that
 * once, and keeps a spare forked from it, sandboxed and filtered, waiting: a request hands the spare its
 * object and asks the zygote for the next spare. Each request still gets a process of its own that parses
 * that one caller's bytes and nothing else, and exits (issue 11's rule); the zygote never sees an object. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "inspect-zygote.h"
#include "log.h"
#include "caller.h"
#include "helper-reaper.h"
#include "sandbox.h"
#include "util.h"

/* How long a request waits for the zygote's answer (a fork): only a zygote that hangs ever meets it, and is
 * then replaced. */
#define ZYGOTE_ANSWER_TIMEOUT_SEC 30
#define REQUEST_MAX 4096 /* as bpfd-inspect-zygote.c */

/* The worker starts every helper, but the lock keeps the zygote's request and answer together whoever asks. */
static pthread_mutex_t zygote_lock = PTHREAD_MUTEX_INITIALIZER;
static int zygote_sock = -1;
static pid_t zygote_pid = 0;

/* The helper next to bpfd in a build tree, else the installed one; $BPFD_INSPECT_HELPER wins. */
static char *helper_path(void) {
        const char *env = getenv("BPFD_INSPECT_HELPER");
        char self[4096], *slash, *p = NULL;
        ssize_t n;

        if (env && *env)
                return strdup(env);
        n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
                self[n] = 0;
                slash = strrchr(self, '/');
                if (slash) {
                        *slash = 0;
                        if (asprintf(&p, "%s/bpfd-inspect", self) >= 0 && access(p, X_OK) == 0)
                                return p;
                        p = mfree(p);
                }
        }
        return strdup(BPFD_INSPECT_HELPER);
}

static void zygote_stop_locked(void) {
        if (zygote_sock >= 0) {
                close(zygote_sock);
                zygote_sock = -1;
        }
        if (zygote_pid > 0) {
                /* Killed and reaped by the reaper thread (CAP_KILL): one that hangs (stopped by any process of
                 * its uid, say) must not take the worker with it, nor stay. */
                helper_kill(zygote_pid);
                zygote_pid = 0;
        }
}

/* Forks from the worker, sandboxed exactly as every helper was (sandbox_enter(): no capabilities, an empty
 * bounding set, no_new_privs, the helpers' non-root uid), and executes "bpfd-inspect --zygote" with the
 * request socket as 0, /dev/null as 1 and bpfd's log as 2. */
static int zygote_start_locked(void) {
        _cleanup_free_ char *path = NULL;
        struct timeval timeout = { .tv_sec = ZYGOTE_ANSWER_TIMEOUT_SEC };
        uid_t uid;
        gid_t gid;
        pid_t pid;
        int sv[2];

        if (zygote_sock >= 0)
                return 0;
        path = helper_path();
        if (!path)
                return -ENOMEM;
        sandbox_helper_identity(&uid, &gid); /* NSS, so before forking */
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        if (setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) < 0) {
                int r = -errno;
                close(sv[0]);
                close(sv[1]);
                return r;
        }
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(sv[0]);
                close(sv[1]);
                return r;
        }
        if (pid == 0) {
                int keep[2] = { sv[1], -1 };
                if (sandbox_enter(&(Sandbox) { .keep_fds = keep, .n_keep_fds = 2, .keep_stderr = true, .uid = uid,
                                               .gid = gid }) < 0)
                        _exit(126);
                execl(path, "bpfd-inspect", "--zygote", (char *) NULL);
                _exit(127);
        }
        close(sv[1]);
        zygote_sock = sv[0];
        zygote_pid = pid;
        return 0;
}

int inspect_zygote_start(void) {
        int r;

        pthread_mutex_lock(&zygote_lock);
        r = zygote_start_locked();
        pthread_mutex_unlock(&zygote_lock);
        return r;
}

/* Asks the zygote for the next spare, which it forks while the current request goes on. A zygote that died
 * after it made the current spare is replaced now, so that the next request finds a spare again. */
static void next_spare_locked(void) {
        if (send(zygote_sock, "n", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
                log_debug_errno(errno, "The inspection zygote is gone (%m); starting a new one.");
                zygote_stop_locked();
                (void) zygote_start_locked();
        }
}

/* The spare the zygote made last: its pid and bpfd's end of its socket (the caller asks for the next one once
 * this one has its request, next_spare_locked()). *ret_refused: the zygote answered with an error (a fork that
 * failed: a new zygote would not do better); any other error means the zygote is gone or confused. */
static int spare_take_locked(pid_t *ret_pid, int *ret_sock, bool *ret_refused) {
        char control[CMSG_SPACE(sizeof(int))];
        int32_t answer;
        struct iovec iov = { .iov_base = &answer, .iov_len = sizeof answer };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
        _cleanup_close_ int fd = -1;
        siginfo_t si = {};
        ssize_t n;

        *ret_refused = false;
        do
                n = recvmsg(zygote_sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        if (n != sizeof answer || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
                return n == 0 ? -EPIPE : -EPROTO;
        /* bpfd kills and reaps what it is told: only its own child, never the zygote (nor, if it were ever
         * compromised, anything it names that bpfd did not make through it). */
        if (answer > 0 && (fd < 0 || answer == zygote_pid ||
                           waitid(P_PID, (id_t) answer, &si, WEXITED | WNOHANG | WNOWAIT) < 0))
                return -EPROTO;
        if (answer < 0) {
                next_spare_locked();
                *ret_refused = true;
                return answer;
        }
        if (answer == 0)
                return -EPROTO;
        *ret_pid = answer;
        *ret_sock = TAKE_FD(fd);
        return 0;
}

/* The spare's one request: what to do, and the object. */
static int spare_send(int sock, const char *data, size_t len, int object_fd) {
        char control[CMSG_SPACE(sizeof(int))] = {};
        struct iovec iov = { .iov_base = (void *) data, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &object_fd, sizeof(int));
        for (;;) {
                ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                return (size_t) n == len ? 0 : -EPIPE;
        }
}

int inspect_zygote_spawn(int object_fd, bool symbol, const char *arg, pid_t *ret_pid, int *ret_sock) {
        char data[REQUEST_MAX];
        int len, r = 0;

        len = snprintf(data, sizeof data, "%s%c%s", symbol ? "symbol" : "inspect", 0, arg);
        if (len < 0 || (size_t) len + 1 > sizeof data)
                return -ENAMETOOLONG;

        pthread_mutex_lock(&zygote_lock);
        for (int attempt = 0; attempt < 3; attempt++) {
                bool refused = false;
                pid_t pid = 0;
                int sock = -1;

                r = zygote_start_locked();
                if (r < 0)
                        break;
                r = spare_take_locked(&pid, &sock, &refused);
                if (r < 0 && refused)
                        break;
                if (r < 0) {
                        log_debug("The inspection zygote did not answer (%s); starting a new one.", strerror(-r));
                        zygote_stop_locked();
                        continue;
                }
                r = spare_send(sock, data, (size_t) len + 1, object_fd);
                /* Only now the next spare: the zygote, woken on this CPU, would preempt the worker and fork
                 * before this spare had its object; asked after, it forks while the spare parses. */
                next_spare_locked();
                if (r >= 0) {
                        *ret_pid = pid;
                        *ret_sock = sock;
                        break;
                }
                /* The spare is gone (killed while it waited): the next one. */
                close(sock);
                helper_kill(pid);
        }
        pthread_mutex_unlock(&zygote_lock);
        return r;
}
