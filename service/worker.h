/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-event.h>

#include "engine.h"

/* A job runs on the worker thread (run) and then, back on the bus thread, its done callback is called.
 * sd-bus and sd-event objects are touched only in done. */
typedef struct Job Job;
struct Job {
        Job *next;
        void (*run)(Job *j, Engine *e);
        void (*done)(Job *j);
        /* What run changed in the engine's records, taken by the worker after run; applied to the bus view
         * by the worker's changes handler right after done. */
        EngineChanges *changes;
        /* CLOCK_MONOTONIC ns, set by the worker: where a request's time goes (logged with --debug). */
        uint64_t submitted_ns, started_ns, finished_ns;
};

uint64_t worker_now_ns(void);

typedef struct Worker Worker;

/* Starts the thread. It inherits the caller's capabilities and keeps only those BPF work needs; so call this
 * before the bus thread drops its own. */
int worker_start(Engine *engine, Worker **ret);
int worker_attach_event(Worker *w, sd_event *event);
/* Bus thread: called after each job's done with what the job changed (never NULL-checked by the worker for
 * content; changes may be NULL). Takes ownership of changes. */
void worker_set_changes_handler(Worker *w, void (*handler)(EngineChanges *changes, void *userdata), void *userdata);
void worker_submit(Worker *w, Job *j);
unsigned worker_pending(Worker *w);
Worker *worker_stop(Worker *w);
