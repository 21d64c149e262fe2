/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>

#include "fd-send.h"
#include "caller.h"
#include "helper-reaper.h"
#include "sandbox.h"

void caller_done(Caller *c) {
        assert(c);

        free(c->gids);
        if (c->pidfd >= 0)
                close(c->pidfd);
        *c = CALLER_NULL;
}

int caller_copy(Caller *dst, const Caller *src) {
        *dst = *src;
        assert(dst);
        assert(src);

        dst->gids = NULL;
        dst->pidfd = -1;
        if (src->pidfd >= 0 && (dst->pidfd = fcntl(src->pidfd, F_DUPFD_CLOEXEC, 3)) < 0)
                return -errno;
        if (src->n_gids > 0) {
                dst->gids = calloc(src->n_gids, sizeof(gid_t));
                if (!dst->gids) {
                        caller_done(dst);
                        return -ENOMEM;
                }
                memcpy(dst->gids, src->gids, src->n_gids * sizeof(gid_t));
        }
        return 0;
}

static bool caller_has_gid(const Caller *c, gid_t g) {
        for (size_t i = 0; i < c->n_gids; i++)
                if (c->gids[i] == g)
                        return true;
        return false;
}

/* The process behind the pidfd still exists (so /proc/PID was its, not a successor's). */
static bool pidfd_alive(int pidfd) {
        if (pidfd < 0)
                return true; /* nothing better to go by */
        return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno == EPERM;
}

/* Async-signal-safe: the opener child calls it too. why: at least 160 bytes. */
static int check_identity(const Caller *c, gid_t *ret_gid, char *why, size_t why_size) {
        char path[64], buf[4096], *line;
        unsigned ids[4];
        ssize_t n;
        int fd;

        if (c->pid <= 0)
                return 0;
        snprintf(path, sizeof path, "/proc/%d/status", (int) c->pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0; /* gone: there is no process whose ids could differ */
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0 || !pidfd_alive(c->pidfd))
                return 0;
        buf[n] = 0;
        line = strstr(buf, "\nUid:");
        if (!line || sscanf(line + 5, "%u %u %u %u", &ids[0], &ids[1], &ids[2], &ids[3]) != 4)
                return -EIO;
        for (int i = 0; i < 4; i++)
                if (ids[i] != c->uid) {
                        snprintf(why, why_size,
                                 "The calling process now runs as uid %u, not as uid %u that connected to the bus "
                                 "(a setuid program was executed since); bpfd acts for no one but the bus's caller.",
                                 ids[i], (unsigned) c->uid);
                        return -EPERM;
                }
        line = strstr(buf, "\nGid:");
        if (!line || sscanf(line + 5, "%u %u %u %u", &ids[0], &ids[1], &ids[2], &ids[3]) != 4)
                return -EIO;
        for (int i = 0; i < 4 && c->n_gids > 0; i++)
                if (!caller_has_gid(c, ids[i])) {
                        snprintf(why, why_size,
                                 "The calling process now runs with group %u, which it did not have when it connected "
                                 "to the bus (a setgid program was executed since); bpfd acts for no one but the "
                                 "bus's caller.",
                                 ids[i]);
                        return -EPERM;
                }
        if (ret_gid)
                *ret_gid = ids[0];
        line = strstr(buf, "\nGroups:");
        if (line && c->n_gids > 0) {
                char *p = line + 8, *end;
                for (;;) {
                        unsigned long v = strtoul(p, &end, 10);
                        if (end == p)
                                break;
                        if (!caller_has_gid(c, (gid_t) v)) {
                                snprintf(why, why_size,
                                         "The calling process now has group %lu, which it did not have when it "
                                         "connected to the bus; bpfd acts for no one but the bus's caller.", v);
                                return -EPERM;
                        }
                        p = end;
                }
        }
        return 0;
}

int caller_check_identity(Caller *c, char **ret_why) {
        char why[256] = "";
        gid_t gid = (gid_t) -1;
        int r = check_identity(c, &gid, why, sizeof why);

        assert(c);

        if (r == -EPERM) {
                *ret_why = strdup(why);
                return -EPERM;
        }
        if (r < 0)
                return r;
        /* The primary group for files the caller's children would create: the process's if the bus vouches
         * for it, else the bus's first. Access checks use the whole group list either way. */
        c->gid = gid != (gid_t) -1 && caller_has_gid(c, gid) ? gid : c->n_gids > 0 ? c->gids[0] : (gid_t) 65534;
        return 0;
}

static int send_result(int sock, int error, int fd, const char *canonical) {
        char control[CMSG_SPACE(sizeof(int))] = {};
        struct {
                int error;
                char canonical[4096];
        } msg = { .error = error };
        struct iovec iov = { .iov_base = &msg, .iov_len = sizeof msg };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (canonical)
                strncpy(msg.canonical, canonical, sizeof msg.canonical - 1);
        msghdr_attach_fd(&mh, control, fd);
        return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* The canonical name of path, for a file whose descriptor has no path of its own (a namespace bind-mounted at
 * /run/netns/NAME or reached through /proc/PID/ns/net reads back as "net:[INODE]"): its directory's canonical
 * path and its own name, following ordinary symbolic links at the end, not the kernel's magic ones. In the
 * opener child: system calls only. -EXDEV: the path names the opener itself (/proc/self, /proc/thread-self),
 * which is bpfd, not the caller. */
static int canonical_name(const char *path, char *ret, size_t size) {
        char name[4096], link[4096], proc[64], dir[4096];
        struct stat st;
        int self = (int) syscall(SYS_getpid);

        if (strlen(path) >= sizeof name)
                return -ENAMETOOLONG;
        strcpy(name, path);
        for (int hops = 0;; hops++) {
                char *slash = strrchr(name, '/');
                const char *base = slash ? slash + 1 : name;
                ssize_t n;
                int dfd;

                if (!slash)
                        return -EINVAL; /* only absolute paths get here */
                *slash = 0;
                dfd = open(name[0] ? name : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                *slash = '/';
                if (dfd < 0)
                        return -errno;
                snprintf(proc, sizeof proc, "/proc/self/fd/%d", dfd);
                n = readlink(proc, dir, sizeof dir - 1);
                if (n <= 0) {
                        close(dfd);
                        return -EIO;
                }
                dir[n] = 0;
                snprintf(proc, sizeof proc, "/proc/%d", self);
                if (strncmp(dir, proc, strlen(proc)) == 0 && IN_SET2(dir[strlen(proc)], 0, '/')) {
                        close(dfd);
                        return -EXDEV;
                }
                if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode) || hops >= 8 ||
                    (n = readlinkat(dfd, base, link, sizeof link - 1)) <= 0 || (link[n] = 0, link[0] != '/' &&
                    strchr(link, ':'))) {
                        /* Not a link, or a magic one ("net:[...]"): the name is its directory's and its own. */
                        close(dfd);
                        if (snprintf(ret, size, "%s/%s", streq(dir, "/") ? "" : dir, base) >= (int) size)
                                return -ENAMETOOLONG;
                        return 0;
                }
                close(dfd);
                if (link[0] == '/')
                        snprintf(name, sizeof name, "%s", link);
                else if (snprintf(name, sizeof name, "%s/%s", streq(dir, "/") ? "" : dir, link) >= (int) sizeof name)
                        return -ENAMETOOLONG;
        }
}

/* Runs in the forked child: only async-signal-safe calls and raw system calls, so no glibc state shared with
 * other threads matters, and the credential calls change this one process. */
static _Noreturn void opener_child(int sock, const Caller *c, const char *path, int flags, bool want_truth) {
        char why[256], proc[64], canonical[4096];
        gid_t gid = c->gid;
        sigset_t alrm;
        ssize_t n;
        int fd, r;

        /* Its own end when the time is up: bpfd (no CAP_KILL) may not be allowed to kill the caller's uid. A signal
         * the process sends itself is fatal as SIGKILL is, so an open still waiting to be read by a file system
         * that never answers ends too (one the file system has read ends only with that file system). */
        (void) sigemptyset(&alrm);
        (void) sigaddset(&alrm, SIGALRM);
        (void) signal(SIGALRM, SIG_DFL);
        (void) sigprocmask(SIG_UNBLOCK, &alrm, NULL);
        (void) alarm(open_as_caller_timeout_sec + 1);

        /* Once more, as late as possible: a setgid program executed after the bus thread looked. */
        r = check_identity(c, NULL, why, sizeof why);
        if (r < 0) {
                r = r == -EPERM ? -ESTALE : r; /* told apart from an open() that says EPERM */
                goto fail;
        }
        /* A name polkit will see must come from a mount namespace of the system's user namespace: in one of a
         * user's own (unshare -Urm) any file can be mounted under any name. */
        if (want_truth && c->pid > 0 && (r = mount_ns_is_systems(c->pid, c->pidfd)) < 0)
                goto fail;
        if (c->pid > 0) {
                int ns = c->pidfd;
                if (ns < 0) {
                        snprintf(proc, sizeof proc, "/proc/%d/ns/mnt", (int) c->pid);
                        ns = open(proc, O_RDONLY | O_CLOEXEC);
                }
                /* setns() on a pidfd enters exactly that process's namespace, never a recycled pid's. */
                if (ns < 0 || setns(ns, CLONE_NEWNS) < 0) {
                        r = -errno;
                        goto fail;
                }
        }
        r = sandbox_enter(&(Sandbox) { .keep_fds = &sock, .n_keep_fds = 1, .uid = c->uid,
                                       .gid = gid == (gid_t) -1 ? 65534 : gid, .groups = c->gids,
                                       .n_groups = c->n_gids, .keep_root_caps = true });
        sock = 0;
        if (r < 0)
                goto fail;
        fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                goto fail;
        }
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        n = readlink(proc, canonical, sizeof canonical - 1);
        canonical[n > 0 ? n : 0] = 0;
        if (canonical[0] != '/') {
                r = canonical_name(path, canonical, sizeof canonical);
                if (r < 0)
                        goto fail;
        }
        (void) send_result(sock, 0, fd, canonical);
        _exit(0);
fail:
        (void) send_result(sock, -r, -1, NULL);
        _exit(0);
}

/* Openers whose time ran out. They are handed to the reaper thread (helper-reaper.h: CAP_KILL, which the caller's
 * uid needs), and one blocked in a request a FUSE server read and never answers may not die at once: so they are
 * never waited for. The list is what was left here before the reaper; it stays empty now. */
#define STUCK_MAX 256
static pthread_mutex_t stuck_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t stuck[STUCK_MAX];

static void stuck_reap_or_add(pid_t add) {
        if (add > 0) {
                /* Killed and reaped by the reaper thread (helper-reaper.h), which may send to the caller's uid. */
                helper_kill(add);
                add = 0;
        }
        pthread_mutex_lock(&stuck_lock);
        for (size_t i = 0; i < STUCK_MAX; i++) {
                if (stuck[i] > 0 && waitpid(stuck[i], NULL, WNOHANG) != 0)
                        stuck[i] = 0; /* reaped (or not ours any more) */
                if (add > 0 && stuck[i] == 0) {
                        stuck[i] = add;
                        add = 0;
                }
        }
        pthread_mutex_unlock(&stuck_lock);
        /* More than STUCK_MAX at once: that one stays a zombie once it ends, which costs only its pid. */
}

void child_reap_later(pid_t pid) {
        /* The reaper thread has CAP_KILL, and reaps it once it has ended: nobody sleeps or waits for it here. */
        helper_kill(pid);
}

unsigned open_as_caller_timeout_sec = OPEN_AS_CALLER_TIMEOUT_DEFAULT_SEC;

const char *open_as_caller_strerror(int r) {
        static _Thread_local char text[128];

        if (r == -ECONNABORTED || r == -ENOTCONN)
                return "its file system went away while it was being opened (a FUSE server that ended)";
        if (r != -ETIMEDOUT)
                return strerror(-r);
        snprintf(text, sizeof text, "it did not open within %u seconds (a file system that does not answer)",
                 open_as_caller_timeout_sec);
        return text;
}

/* Waits up to open_as_caller_timeout_sec for the opener's answer: 1 when there is one, 0 when the time is up. */
static int opener_wait(int sock) {
        struct timespec now, deadline;

        (void) clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += open_as_caller_timeout_sec;
        for (;;) {
                struct pollfd p = { .fd = sock, .events = POLLIN };
                long ms;
                int n;

                (void) clock_gettime(CLOCK_MONOTONIC, &now);
                ms = (deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1000000;
                if (ms <= 0)
                        return 0;
                n = poll(&p, 1, (int) ms);
                if (n > 0)
                        return 1;
                if (n == 0)
                        return 0;
                if (errno != EINTR)
                        return 1; /* recvmsg() says what is wrong */
        }
}

int mount_ns_is_systems(pid_t pid, int pidfd) {
        char proc[64];
        struct stat owner, ours;
        int fd, userns;

        snprintf(proc, sizeof proc, "/proc/%d/ns/mnt", (int) pid);
        fd = open(proc, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (!pidfd_alive(pidfd)) { /* the namespace of whoever has the pid now */
                close(fd);
                return -ESRCH;
        }
        userns = ioctl(fd, NS_GET_USERNS);
        close(fd);
        if (userns < 0)
                return -errno;
        if (fstat(userns, &owner) < 0 || stat("/proc/self/ns/user", &ours) < 0) {
                close(userns);
                return -errno;
        }
        close(userns);
        return owner.st_dev == ours.st_dev && owner.st_ino == ours.st_ino ? 0 : -EREMOTE;
}

int opener_start(const Caller *c, const char *path, int flags, bool want_canonical, pid_t *ret_pid, int *ret_sock) {
        int sv[2];
        pid_t child;

        assert(c);
        assert(path);
        assert(ret_pid);
        assert(ret_sock);

        stuck_reap_or_add(0);
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        child = fork();
        if (child < 0) {
                close(sv[0]);
                close(sv[1]);
                return -errno;
        }
        if (child == 0)
                opener_child(sv[1], c, path, flags, want_canonical);
        close(sv[1]);
        *ret_pid = child;
        *ret_sock = sv[0];
        return 0;
}

int opener_receive(int sock, int *ret_fd, char **ret_canonical) {
        char control[CMSG_SPACE(sizeof(int))];
        struct {
                int error;
                char canonical[4096];
        } msg = {};
        struct iovec iov = { .iov_base = &msg, .iov_len = sizeof msg };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof control };
        struct cmsghdr *cmsg;
        int fd = -1;
        ssize_t n;

        assert(sock >= 0);
        assert(ret_fd);

        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        for (cmsg = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cmsg; cmsg = CMSG_NXTHDR(&mh, cmsg))
                if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
                        memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
        if (n != (ssize_t) sizeof msg || msg.error != 0) {
                if (fd >= 0)
                        close(fd);
                return n != (ssize_t) sizeof msg ? -EIO : -msg.error;
        }
        if (fd < 0)
                return -EIO;
        msg.canonical[sizeof msg.canonical - 1] = 0;
        if (ret_canonical && !(*ret_canonical = strdup(msg.canonical))) {
                close(fd);
                return -ENOMEM;
        }
        *ret_fd = fd;
        return 0;
}

void opener_abandon(pid_t pid) {
        if (pid <= 0)
                return;
        helper_kill(pid); /* the reaper thread: CAP_KILL, and reaped once it has ended */
}

int open_as_caller(const Caller *c, const char *path, int flags, int *ret_fd, char **ret_canonical) {
        _cleanup_close_ int sock = -1;
        pid_t child = 0;
        int r;

        assert(c);
        assert(path);
        assert(ret_fd);

        r = opener_start(c, path, flags, ret_canonical != NULL, &child, &sock);
        if (r < 0)
                return r;
        /* The caller chooses the file system (its own mount namespace): one that never answers must not hold the
         * thread that waits longer than the limit. Requests wait on the bus thread's loop (caller-open.c); this
         * waiting form is left for what runs on the worker already (specs, recovery's own namespaces). */
        if (opener_wait(sock) == 0) {
                opener_abandon(child);
                return -ETIMEDOUT;
        }
        r = opener_receive(sock, ret_fd, ret_canonical);
        /* It has answered (or failed) and exits now; reaped without waiting for it (its exit closes a file a
         * hostile file system might not let go of). */
        stuck_reap_or_add(child);
        return r;
}
