/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Inside the request layer. Every call that does something for a caller is a Request, and every Request goes
 * through the one pipeline of request.c, driven by its operation's descriptor (OperationDesc):
 *
 *   parse (the bus layer, into plain structs) → credentials (credentials.c) → gate (polkit questions that
 *   must be answered before anything of the caller's is touched; optional) → inspect (unprivileged: bytes
 *   parsed by bpfd-inspect, files opened as the caller; optional) → checks (pure: operation + caller + view
 *   → polkit questions; checks.c) → polkit (authorize.c) → commit (the worker, or the image puller) →
 *   reply.
 *
 * req->op never changes; req->stage says where a request is. */

#include "authorize.h"
#include "image-puller.h"
#include "caller-open.h"
#include "inspect.h"
#include "credentials.h"
#include "op-images.h"
#include "op-lifecycle.h"
#include "op-load.h"
#include "op-query.h"
#include "stats.h"
#include "engine-maps.h"

typedef enum Operation {
        OP_LOAD,
        OP_ATTACH,
        OP_DETACH,
        OP_UNLOAD,
        OP_MAP,
        OP_LIST_KERNEL,
        OP_GET_KERNEL,
        OP_PULL_IMAGE,
        OP_LIST_IMAGES,
        OP_REMOVE_IMAGE,
        _OP_MAX,
} Operation;

typedef enum RequestStage {
        STAGE_CREDENTIALS,
        STAGE_GATE,
        STAGE_INSPECT,
        STAGE_CHECKS,
        STAGE_COMMIT,
} RequestStage;

typedef struct Request Request;

typedef struct OperationDesc {
        const char *name;
        bool needs_caller; /* false: open to everybody, no credentials and no polkit (lists) */
        /* Bus thread, pure: the questions to answer before inspection (LoadFromImage: may it be pulled?). */
        int (*gate)(const Request *req, Authorization *out, sd_bus_error *error);
        /* Bus thread: starts the unprivileged inspection; it ends in request_inspected() or request_fail().
         * It may run inspect_run on the worker (request_submit()), inspect_done follows on the bus thread. */
        void (*inspect)(Request *req);
        void (*inspect_run)(Request *req, Engine *e);
        void (*inspect_done)(Request *req);
        /* Bus thread, pure: the polkit questions (the owner rule: checks.c). < 0 with error set refuses. */
        int (*checks)(const Request *req, Authorization *out, sd_bus_error *error);
        /* After polkit's yes: on the worker (commit), or on the bus thread (commit_async: the image puller),
         * which ends in request_reply() or request_fail(). */
        void (*commit)(Request *req, Engine *e);
        void (*commit_async)(Request *req);
        /* Bus thread: the answer, then the view and its signals. */
        int (*reply)(Request *req);
} OperationDesc;

struct Request {
        Job job;
        Manager *m;
        sd_bus_message *msg;
        Operation op;
        RequestStage stage;
        Caller caller;
        sd_bus_slot *slot;         /* the credentials' question */
        Authorization auth;
        EngineError error;         /* set on the worker (or by the puller's answer), sent by request_fail_engine() */
        StatsToken stats;          /* the call's measurement, taken over from the bus handler */
        uint64_t received_ns;      /* when the call was parsed */

        /* Attach, Detach, Unload, Map, GetProgram: the program or link named */
        uint32_t id;
        /* Attach */
        AttachTarget target;
        LinkInfo *link;
        /* Unload */
        uint32_t *gone_links;
        size_t n_gone;
        /* ListPrograms (all), GetProgram of a program bpfd did not load */
        ProgramFilter filter;
        KernelProgram *kernel;
        size_t n_kernel;
        /* Map* */
        MapAccess map;
        /* LoadFrom*, and the images' calls (the reference and pull policy) */
        LoadRequest *load;
        InspectReader *reader;     /* bpfd-inspect's answer, read on the bus thread */
        CallerOpen *opening;       /* a file being opened as the caller: started on the worker, its answer waited
                                    * for on the bus thread, taken by the next step on the worker */
        bool planned;              /* bpfd-inspect answered and load_plan() ran: the worker opens the targets next */
        ImagePull *image_pull;     /* the puller at work for this request (never on the worker) */
        char **pulled;             /* its output lines */
        bool counted;              /* in the caller's count of requests in flight (request.c) */
};

extern const OperationDesc *const operation_descs[_OP_MAX];
extern const OperationDesc op_load, op_attach, op_detach, op_unload, op_map, op_list_kernel, op_get_kernel,
        op_pull_image, op_list_images, op_remove_image;

Request *request_new(Manager *m, sd_bus_message *msg, Operation op);
void request_free(Request *req);
/* Runs the pipeline from the credentials on (or from the commit for operations open to everybody).
 * Takes req: < 0 when it could not start (req is freed, the handler answers). */
int request_start(Request *req);
void request_fail(Request *req, const sd_bus_error *e);
void request_failf(Request *req, BpfdError code, const char *fmt, ...) _printf_(3, 4);
void request_fail_engine(Request *req, const EngineError *e);
/* Inspection is over: the checks, polkit, the commit. */
void request_inspected(Request *req);
/* The worker started req->opening (inspect_run): waits for its answer on the bus thread's loop, then runs
 * inspect_run again, which takes it. The worker never waits for a caller's file system. */
void request_wait_open(Request *req);
/* Runs the stage's worker part (inspect_run or commit); then inspect_done or the reply. */
void request_submit(Request *req);
/* The commit is done (commit_async): the reply, and the request is freed. */
void request_reply(Request *req);

/* op-images.c: runs the request's verb in the puller; when it is done, a load goes on in
 * image_load_pulled() (op-load.c, which takes object_fd and sets req->error or returns < 0 on failure) and
 * the images' calls are answered. */
void image_run_puller(Request *req);
int image_load_pulled(Request *req, int object_fd);
