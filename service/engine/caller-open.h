/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A file opened as the caller without anybody waiting on the worker: the worker forks the opener
 * (caller_open_start(): it takes the caller's ids and mount namespace, which needs the worker's privileges) and
 * goes on with other requests; the request waits for the answer on the bus thread's event loop
 * (caller_open_wait_async()), at most open_as_caller_timeout_sec, and the next step on the worker takes it
 * (caller_open_take()). A caller whose file system never answers (a FUSE mount of their own) holds only their
 * own request. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "caller.h"

typedef struct CallerOpen CallerOpen;
typedef void (*caller_open_callback_t)(CallerOpen *o, void *userdata);

struct CallerOpen {
        char *path;          /* as the caller named it */
        size_t index;        /* the user's own marks: which target, which of its files */
        int what;
        bool want_canonical;
        /* the opener at work */
        pid_t pid;
        int sock;
        sd_event_source *io, *timer;
        caller_open_callback_t callback;
        void *userdata;
        /* its answer, once callback was called */
        bool answered;
        int error;           /* 0, or the open's -errno (-ETIMEDOUT: the time was up) */
        int fd;
        char *canonical;
};

/* Worker: starts opening path as the caller (see open_as_caller(); want_canonical: the canonical name too, and
 * only from a mount namespace of the system's). */
int caller_open_start(const Caller *c, const char *path, int flags, bool want_canonical, CallerOpen **ret);
/* Bus thread: calls callback once the opener answered, failed, or the time is up. */
int caller_open_wait_async(CallerOpen *o, sd_event *event, caller_open_callback_t callback, void *userdata);
/* After the callback (any thread): the answer: 0 with *ret_fd (and *ret_canonical, if asked for), or -errno. */
int caller_open_take(CallerOpen *o, int *ret_fd, char **ret_canonical);
/* Any thread; never waits: an opener still at work is sent SIGKILL and reaped later. */
CallerOpen *caller_open_free(CallerOpen *o);
