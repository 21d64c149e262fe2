/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Files opened as the caller, waited for on the bus thread's event loop instead of the worker (caller-open.h). */
#include <assert.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caller-open.h"
#include "log.h"

int caller_open_start(const Caller *c, const char *path, int flags, bool want_canonical, CallerOpen **ret) {
        CallerOpen *o;
        int r;

        assert(c);
        assert(path);
        assert(ret);

        o = calloc(1, sizeof *o);
        if (!o)
                return -ENOMEM;
        *o = (CallerOpen) { .pid = 0, .sock = -1, .fd = -1, .path = strdup(path) };
        if (!o->path) {
                free(o);
                return -ENOMEM;
        }
        r = opener_start(c, path, flags, want_canonical, &o->pid, &o->sock);
        if (r < 0) {
                caller_open_free(o);
                return r;
        }
        o->want_canonical = want_canonical;
        *ret = o;
        return 0;
}


static void conclude(CallerOpen *o, int error) {
        o->error = error;
        if (error == 0)
                o->error = opener_receive(o->sock, &o->fd, o->want_canonical ? &o->canonical : NULL);
        o->io = sd_event_source_disable_unref(o->io);
        o->timer = sd_event_source_disable_unref(o->timer);
        close(o->sock);
        o->sock = -1;
        opener_abandon(o->pid); /* answered or too late: ended and reaped by the reaper thread, unwaited */
        o->pid = 0;
        o->answered = true;
        o->callback(o, o->userdata);
}

static int on_answer(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        conclude(userdata, 0);
        return 0;
}

static int on_time_up(sd_event_source *s, uint64_t usec, void *userdata) {
        CallerOpen *o = userdata;

        log_debug("Opening '%s' as the caller: no answer within %u s.", o->path, open_as_caller_timeout_sec);
        conclude(o, -ETIMEDOUT);
        return 0;
}

int caller_open_wait_async(CallerOpen *o, sd_event *event, caller_open_callback_t callback, void *userdata) {
        int r;

        assert(o && o->sock >= 0 && !o->io);
        assert(event);
        assert(callback);

        o->callback = callback;
        o->userdata = userdata;
        r = sd_event_add_io(event, &o->io, o->sock, EPOLLIN, on_answer, o);
        if (r >= 0)
                r = sd_event_add_time_relative(event, &o->timer, CLOCK_MONOTONIC,
                                               (uint64_t) open_as_caller_timeout_sec * 1000000ULL, 0, on_time_up, o);
        if (r < 0) {
                o->io = sd_event_source_disable_unref(o->io);
                return r;
        }
        return 0;
}

int caller_open_take(CallerOpen *o, int *ret_fd, char **ret_canonical) {
        assert(o && o->answered);
        assert(ret_fd);

        if (o->error < 0)
                return o->error;
        *ret_fd = TAKE_FD(o->fd);
        if (ret_canonical)
                *ret_canonical = TAKE_PTR(o->canonical);
        return 0;
}

CallerOpen *caller_open_free(CallerOpen *o) {
        if (!o)
                return NULL;
        /* The reaper thread (CAP_KILL) ends it and reaps it once it has ended, without anybody waiting for it:
         * one stuck in a file system that never answers ends only with that file system, and even one that
         * answered closes a file of that file system on its way out. */
        opener_abandon(o->pid);
        sd_event_source_disable_unref(o->io);
        sd_event_source_disable_unref(o->timer);
        if (o->sock >= 0)
                close(o->sock);
        if (o->fd >= 0)
                close(o->fd);
        free(o->canonical);
        free(o->path);
        free(o);
        return NULL;
}
