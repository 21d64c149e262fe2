/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Inside bus-spec.c (the methods, polkit, the jobs, the objects) and bus-spec-start.c (set-up, the spec
 * directory, retries of pending specs). Bus thread, except what SpecJob runs on the worker. */

#include "bus-spec.h"
#include "authorize.h"
#include "polkit-details.h"

struct SpecManager {
        Manager *m;
        SpecStore *store;  /* worker thread only */
        char *spec_dir;
        GHashTable *views; /* name → SpecView* */
        SpecView **recovered;
        size_t n_recovered;
        GHashTable *retrying; /* names with a retry on the worker */
        bool started;         /* the objects are there and the spec directory was applied once */
};

typedef enum SpecOp {
        SPEC_OP_PLAN,
        SPEC_OP_EXECUTE,
        SPEC_OP_PLAN_EXECUTE, /* root's files at start: nobody to ask */
        SPEC_OP_FAIL,         /* a file at start that does not parse: record the failure */
        SPEC_OP_RETRY,
        SPEC_OP_REMOVE,
        SPEC_OP_INSPECT,      /* after the pulls: inspect the objects from images, then as the job started */
} SpecOp;

typedef struct SpecJob {
        Job job;
        Manager *m;
        SpecOp op;
        SpecOp started_as;
        sd_bus_message *msg; /* NULL for the spec directory and retries */
        SpecApply *a;
        Authorization auth;  /* the polkit questions (request/authorize.h) */
        sd_bus_slot *slot;   /* the question for the caller's credentials */
        bool asked_manage_others;
        void (*authorized)(struct SpecJob *j); /* after the checks, instead of the worker */
        struct ImagePull *pull;                /* the puller at work for this job */
        size_t next_pull;                      /* the [Object] it pulls for */
} SpecJob;

SpecJob *spec_job_new(Manager *m, sd_bus_message *msg, SpecOp op, const char *name);
void spec_add_check(SpecJob *j, const CheckSpec *spec);
/* The next polkit question; after the last, j->authorized or else the worker. */
void spec_authorize_next(SpecJob *j);
/* bus-spec-pull.c: the plan needs images (a->pulls_needed): ask, pull, then SPEC_OP_INSPECT on the worker. */
void spec_job_pull(SpecJob *j);
char *spec_object_path(const char *name);
int spec_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
              sd_bus_error *error);
int spec_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
