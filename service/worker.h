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
        /* CLOCK_MONOTONIC ns, set by the worker: where a request's time goes (logged with --debug). */
        uint64_t submitted_ns, started_ns, finished_ns;
};

uint64_t worker_now_ns(void);

typedef struct Worker Worker;

/* Starts the thread. It inherits the caller's capabilities and keeps only those BPF work needs; so call this
 * before the bus thread drops its own. */
int worker_start(Engine *engine, Worker **ret);
int worker_attach_event(Worker *w, sd_event *event);
void worker_submit(Worker *w, Job *j);
unsigned worker_pending(Worker *w);
Worker *worker_stop(Worker *w);
