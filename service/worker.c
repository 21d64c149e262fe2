/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/capability.h>
#include <pthread.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

#include "caps.h"
#include "helper-reaper.h"
#include "inspect-zygote.h"
#include "log.h"
#include "worker.h"

struct Worker {
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t wake;
        Job *todo_head, *todo_tail;
        Job *done_head, *done_tail;
        unsigned pending;
        bool stopping;
        int event_fd;
        sd_event_source *source;
        Engine *engine;
        int start_result;
        bool started;
        void (*changes_handler)(EngineChanges *changes, void *userdata);
        void *changes_userdata;
};

/* What the worker needs, and all it has (README.md, "Who may do what", lists the same; a test compares):
 * BPF and PERFMON for programs, NET_ADMIN for network hooks, SYS_ADMIN for iterating kernel objects and
 * entering mount namespaces; SETUID/SETGID/SYS_CHROOT/SYS_PTRACE only so its short-lived children can open
 * files as the caller (see open_as_caller()) and run helpers as nobody; SETPCAP only so those children start
 * with an empty bounding set (sandbox_enter()); CHOWN to give map pins
 * to the program's owner; KILL because those helpers run as other uids (nobody, bpfd-inspect, the caller's):
 * without it no SIGKILL reached them, and the reaper thread it starts (helper-reaper.h) keeps only KILL. Not DAC_READ_SEARCH: the worker reads only root's files and what callers hand it;
 * not SYS_RESOURCE: kernels since 5.11 charge BPF memory to the cgroup, not to RLIMIT_MEMLOCK. */
static const int worker_caps[] = {
        CAP_BPF,        CAP_PERFMON, CAP_NET_ADMIN,       CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID,
        CAP_SYS_CHROOT, CAP_SYS_PTRACE, CAP_CHOWN, CAP_SETPCAP, CAP_KILL,
};

static void queue_push(Job **head, Job **tail, Job *j) {
        j->next = NULL;
        if (*tail)
                (*tail)->next = j;
        else
                *head = j;
        *tail = j;
}

static Job *queue_pop(Job **head, Job **tail) {
        Job *j = *head;
        if (j) {
                *head = j->next;
                if (!*head)
                        *tail = NULL;
        }
        return j;
}

static void *worker_main(void *userdata) {
        Worker *w = userdata;
        int r;

        (void) prctl(PR_SET_NAME, "bpfd-worker", 0, 0, 0);
        r = caps_reduce_thread(worker_caps, ELEMENTSOF(worker_caps));
        pthread_mutex_lock(&w->lock);
        w->start_result = r;
        w->started = true;
        pthread_cond_broadcast(&w->wake);
        pthread_mutex_unlock(&w->lock);
        if (r < 0)
                return NULL;
        /* Kills and reaps helpers for the bus thread (no capabilities) and for this one, never blocking either. */
        r = helper_reaper_start();
        if (r < 0)
                log_warning_errno(r, "Cannot start the helper reaper: %m");
        /* The inspection helpers' zygote and its first spare, ahead of the first load (inspect-zygote.h). */
        r = inspect_zygote_start();
        if (r < 0)
                log_debug_errno(r, "Cannot start the inspection zygote yet: %m");

        for (;;) {
                Job *j;
                uint64_t one = 1;

                pthread_mutex_lock(&w->lock);
                while (!w->todo_head && !w->stopping)
                        pthread_cond_wait(&w->wake, &w->lock);
                j = queue_pop(&w->todo_head, &w->todo_tail);
                pthread_mutex_unlock(&w->lock);
                if (!j)
                        return NULL; /* stopping, queue drained */

                j->started_ns = worker_now_ns();
                j->run(j, w->engine);
                j->changes = engine_take_changes(w->engine);
                j->finished_ns = worker_now_ns();

                pthread_mutex_lock(&w->lock);
                queue_push(&w->done_head, &w->done_tail, j);
                pthread_mutex_unlock(&w->lock);
                (void) !write(w->event_fd, &one, sizeof one);
        }
}

int worker_start(Engine *engine, Worker **ret) {
        Worker *w = calloc(1, sizeof(Worker));
        int r;

        if (!w)
                return -ENOMEM;
        w->engine = engine;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->wake, NULL);
        w->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->event_fd < 0) {
                free(w);
                return -errno;
        }
        r = -pthread_create(&w->thread, NULL, worker_main, w);
        if (r < 0) {
                close(w->event_fd);
                free(w);
                return r;
        }
        pthread_mutex_lock(&w->lock);
        while (!w->started)
                pthread_cond_wait(&w->wake, &w->lock);
        r = w->start_result;
        pthread_mutex_unlock(&w->lock);
        if (r < 0) {
                pthread_join(w->thread, NULL);
                close(w->event_fd);
                free(w);
                return log_error_errno(r, "The worker cannot set its capabilities: %m");
        }
        *ret = w;
        return 0;
}

static int on_jobs_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Worker *w = userdata;
        EngineChanges *changes;
        uint64_t n;
        Job *j;

        (void) !read(fd, &n, sizeof n);
        for (;;) {
                pthread_mutex_lock(&w->lock);
                j = queue_pop(&w->done_head, &w->done_tail);
                if (j)
                        w->pending--;
                pthread_mutex_unlock(&w->lock);
                if (!j)
                        return 0;
                /* done may free the job; what it changed is shown once its reply is on its way. */
                changes = TAKE_PTR(j->changes);
                j->done(j);
                if (w->changes_handler)
                        w->changes_handler(changes, w->changes_userdata);
                else
                        engine_changes_free(changes);
        }
}

void worker_set_changes_handler(Worker *w, void (*handler)(EngineChanges *changes, void *userdata), void *userdata) {
        w->changes_handler = handler;
        w->changes_userdata = userdata;
}

int worker_attach_event(Worker *w, sd_event *event) {
        return sd_event_add_io(event, &w->source, w->event_fd, EPOLLIN, on_jobs_done, w);
}

uint64_t worker_now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

void worker_submit(Worker *w, Job *j) {
        j->submitted_ns = worker_now_ns();
        pthread_mutex_lock(&w->lock);
        queue_push(&w->todo_head, &w->todo_tail, j);
        w->pending++;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);
}

unsigned worker_pending(Worker *w) {
        unsigned n;
        pthread_mutex_lock(&w->lock);
        n = w->pending;
        pthread_mutex_unlock(&w->lock);
        return n;
}

Worker *worker_stop(Worker *w) {
        if (!w)
                return NULL;
        pthread_mutex_lock(&w->lock);
        w->stopping = true;
        pthread_cond_broadcast(&w->wake);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
        helper_reaper_stop();
        sd_event_source_disable_unref(w->source);
        close(w->event_fd);
        free(w);
        return NULL;
}
