/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "helper-reaper.h"
#include "log.h"

typedef struct Doomed {
        pid_t pid;
        int pidfd;
        bool signalled;
} Doomed;

static pthread_mutex_t reaper_lock = PTHREAD_MUTEX_INITIALIZER;
static Doomed *doomed;
static size_t n_doomed;
static int reaper_wake = -1;
static bool reaper_stopping;
static pthread_t reaper_thread;

int helper_pidfd_open(pid_t pid) {
        int fd = (int) syscall(SYS_pidfd_open, pid, 0);
        return fd < 0 ? -errno : fd;
}

unsigned helper_answer_timeout_sec(void) {
        const char *e = getenv("BPFD_INSPECT_TIMEOUT_SEC");
        unsigned long v;
        char *end;

        if (e && *e) {
                errno = 0;
                v = strtoul(e, &end, 10);
                if (errno == 0 && !*end && v > 0 && v < 3600)
                        return (unsigned) v;
        }
        return HELPER_ANSWER_TIMEOUT_SEC;
}

void helper_kill(pid_t pid) {
        uint64_t one = 1;
        Doomed *d;
        int fd;

        if (pid <= 0)
                return;
        fd = helper_pidfd_open(pid);
        if (fd < 0) {
                /* Not ours any more (reaped already): nothing to kill, and no pid of another to touch. */
                log_debug_errno(fd, "Cannot open a pidfd for helper %d: %m", (int) pid);
                return;
        }
        pthread_mutex_lock(&reaper_lock);
        d = reallocarray(doomed, n_doomed + 1, sizeof *d);
        if (d) {
                doomed = d;
                doomed[n_doomed++] = (Doomed) { .pid = pid, .pidfd = fd };
        }
        pthread_mutex_unlock(&reaper_lock);
        if (!d) {
                /* No memory to remember it: at least the signal (it then stays a zombie, which costs its pid). */
                if (syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                        log_warning_errno(errno, "Cannot kill helper %d: %m", (int) pid);
                close(fd);
                return;
        }
        if (reaper_wake >= 0)
                (void) !write(reaper_wake, &one, sizeof one);
}

/* Signals the new ones, reaps those that ended. Returns the pollfds to wait on (the eventfd first). */
static size_t reaper_pass(struct pollfd **fds) {
        size_t n = 0, k = 0;

        pthread_mutex_lock(&reaper_lock);
        for (size_t i = 0; i < n_doomed; i++) {
                Doomed *d = &doomed[i];
                siginfo_t si = {};

                if (!d->signalled) {
                        /* The pidfd names exactly our child, never a process that got its pid since. */
                        if (syscall(SYS_pidfd_send_signal, d->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                                log_warning_errno(errno, "Cannot kill helper %d: %m", (int) d->pid);
                        d->signalled = true;
                }
                if (waitid(P_PID, (id_t) d->pid, &si, WEXITED | WNOHANG) < 0 || si.si_pid == d->pid) {
                        close(d->pidfd); /* reaped (or, ECHILD, not ours to reap) */
                        continue;
                }
                doomed[k++] = *d;
        }
        n_doomed = k;
        *fds = realloc(*fds, (n_doomed + 1) * sizeof **fds) ?: *fds;
        if (*fds) {
                (*fds)[n++] = (struct pollfd) { .fd = reaper_wake, .events = POLLIN };
                for (size_t i = 0; i < n_doomed; i++)
                        (*fds)[n++] = (struct pollfd) { .fd = doomed[i].pidfd, .events = POLLIN };
        }
        pthread_mutex_unlock(&reaper_lock);
        return n;
}

/* The reaper's poll set, reachable from a global: the thread never ends, and the leak checker at exit must not
 * take the array it holds in a register for lost. */
static struct pollfd *reaper_fds;

static void *reaper_main(void *userdata) {
        static const int keep[] = { CAP_KILL };

        (void) prctl(PR_SET_NAME, "bpfd-reaper", 0, 0, 0);
        if (caps_reduce_thread(keep, 1) < 0)
                log_warning("The helper reaper cannot drop its capabilities; it goes on with those of the worker.");
        for (;;) {
                uint64_t n;
                size_t nfds = reaper_pass(&reaper_fds);
                bool stopping;

                pthread_mutex_lock(&reaper_lock);
                stopping = reaper_stopping;
                pthread_mutex_unlock(&reaper_lock);
                if (stopping) /* what was handed over has had its SIGKILL; what has not ended yet is init's */
                        break;

                if (nfds == 0) { /* no memory: try again in a while */
                        (void) poll(NULL, 0, 1000);
                        continue;
                }
                if (poll(reaper_fds, nfds, -1) > 0 && (reaper_fds[0].revents & POLLIN))
                        (void) !read(reaper_wake, &n, sizeof n);
        }
        return NULL;
}

int helper_reaper_start(void) {
        sigset_t all, old;
        int r;

        if (reaper_wake >= 0)
                return 0;
        reaper_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (reaper_wake < 0)
                return -errno;
        /* Signals are sd-event's, on the main thread. */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        r = -pthread_create(&reaper_thread, NULL, reaper_main, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0) {
                close(reaper_wake);
                reaper_wake = -1;
                return r;
        }
        return 0;
}

void helper_reaper_stop(void) {
        uint64_t one = 1;

        if (reaper_wake < 0)
                return;
        pthread_mutex_lock(&reaper_lock);
        reaper_stopping = true;
        pthread_mutex_unlock(&reaper_lock);
        (void) !write(reaper_wake, &one, sizeof one);
        pthread_join(reaper_thread, NULL);
        free(reaper_fds);
        reaper_fds = NULL;
}
