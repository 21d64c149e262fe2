/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LoadFromFd, LoadFromPath, LoadFromImage through the pipeline: (images: polkit's pull question, then the
 * puller) → the worker opens the object as the caller and starts bpfd-inspect → its answer read here, the
 * plan (load_plan(): programs, kinds, targets resolved) → the worker opens the targets' files as the caller
 * (files are opened by a child as the caller; its answer is waited for here, never on the worker) → polkit, per program and target → the worker loads → the reply and the view. */
#include <assert.h>

#include "errors.h"
#include "load-plan.h"
#include "log.h"
#include "bus-util.h"
#include "interface-watch.h"
#include "checks-request.h"
#include "request-internal.h"
#include "target-resolve.h"
#include "engine-load.h"

static bool targets_name_files(const LoadRequest *load) {
        for (size_t t = 0; t < load->n_targets; t++)
                if (attach_target_names_files(&load->targets[t]))
                        return true;
        return false;
}

static void load_inspect(Request *req) {
        assert(req->load);
        if (caller_copy(&req->load->caller, &req->caller) < 0)
                return request_failf(req, BPFD_ERR_FAILED, "Out of memory.");
        if (req->load->image_ref)
                return image_run_puller(req); /* then image_load_pulled() */
        request_submit(req);
}

/* On the worker, in steps that never wait for a caller's file system: LoadFromPath's object opened as the
 * caller (its answer waited for on the bus thread), then bpfd-inspect started on it; after the plan, the files
 * the targets name, one at a time the same way. */
static void load_inspect_run(Request *req, Engine *e) {
        LoadRequest *load = req->load;

        assert(req->op == OP_LOAD && req->stage == STAGE_INSPECT);

        if (req->planned) {
                (void) targets_open_next(load->targets, load->n_targets, &load->caller, &req->opening, &req->error);
                return;
        }
        if (req->opening) {
                int fd = -1, r = caller_open_take(req->opening, &fd, NULL);

                req->opening = caller_open_free(req->opening);
                if (engine_object_opened(load, r, fd, &req->error) < 0)
                        return;
        } else if (load->path && load->object_fd < 0) {
                (void) engine_open_object_start(load, &req->opening, &req->error);
                return;
        }
        (void) engine_prepare_load(e, load, &req->error);
}

static void on_inspected(Inspection *ins, const EngineError *error, void *userdata) {
        _cleanup_(engine_error_done) EngineError e = ENGINE_ERROR_NULL;
        Request *req = userdata;
        int r;

        assert(req->op == OP_LOAD && req->stage == STAGE_INSPECT && !req->planned);
        req->reader = NULL; /* it frees itself after this */
        if (!ins)
                return request_fail_engine(req, error);
        r = load_plan(req->load, ins, req->m->supported, &e);
        if (r < 0 && !engine_error_is_set(&e))
                (void) engine_error_set_errnof(&e, r, "Cannot plan the load: %m");
        if (r < 0)
                return request_fail_engine(req, &e);
        req->planned = true;
        /* Files the targets name are opened as the caller, so polkit sees what they are. */
        if (targets_name_files(req->load))
                return request_submit(req);
        request_inspected(req);
}

static void load_inspect_done(Request *req) {
        LoadRequest *load = req->load;
        int r;

        if (req->opening)
                return request_wait_open(req); /* then load_inspect_run() again */
        if (req->planned)
                return request_inspected(req);
        r = inspect_read_async(sd_bus_get_event(req->m->bus), TAKE_FD(load->inspect_sock), load->inspect_pid,
                               on_inspected, req, &req->reader);
        load->inspect_pid = 0; /* the reader has it now */
        if (r < 0)
                request_failf(req, BPFD_ERR_FAILED, "Cannot wait for the object inspection: %s", strerror(-r));
}

/* A load goes on to the worker with the pulled object (a sealed memfd from the puller), the image's labels
 * naming the programs when the caller did not. */
int image_load_pulled(Request *req, int object_fd) {
        LoadRequest *load = req->load;
        const char *reference = image_pull_value(req->pulled, "reference"), *digest = image_pull_value(req->pulled, "digest");

        assert(req->op == OP_LOAD && req->stage == STAGE_INSPECT);
        load->object_fd = object_fd;
        if (load->object_fd < 0 || !reference || !digest)
                return engine_error_setf(&req->error, BPFD_ERR_FAILED, "The image puller gave no object.");
        free(load->source);
        load->source = NULL;
        if (asprintf(&load->source, "image:%s", reference) < 0)
                return -ENOMEM;
        load->image_digest = strdup(digest);
        if (!load->image_digest)
                return -ENOMEM;
        for (char **l = req->pulled; !load->programs_given && l && *l; l++)
                if (strncmp(*l, "program ", 8) == 0 && strv_push(&load->programs, strndup(*l + 8, strcspn(*l + 8, " "))) < 0)
                        return -ENOMEM;
        return 0;
}

static void load_commit(Request *req, Engine *e) {
        assert(req->planned && req->load->selected); /* nothing is loaded that was not inspected and asked about */
        (void) engine_load(e, req->load, &req->error);
}

static int load_reply(Request *req) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        LoadRequest *load = req->load;
        int r;

        assert(load->n_loaded > 0 || load->n_links == 0);
        r = sd_bus_message_new_method_return(req->msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "o");
        for (size_t i = 0; r >= 0 && i < load->n_loaded; i++) {
                _cleanup_free_ char *p = program_object_path(load->loaded[i]->id);
                r = p ? sd_bus_message_append_basic(reply, 'o', p) : -ENOMEM;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "o");
        for (size_t i = 0; r >= 0 && i < load->n_links; i++) {
                _cleanup_free_ char *p = link_object_path(load->links[i]->id);
                r = p ? sd_bus_message_append_basic(reply, 'o', p) : -ENOMEM;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);

        /* The view follows the engine's change notes of this job (bus/view.c), right after this reply. */
        /* The split of a load beyond libbpf and the bus (README: "The floor of a bus load"). */
        log_debug("Load: %.3f ms until the worker took it, %.3f ms on the worker, %.3f ms until the reply "
                  "was sent.", (req->job.started_ns - req->received_ns) / 1e6,
                  (req->job.finished_ns - req->job.started_ns) / 1e6, (worker_now_ns() - req->job.finished_ns) / 1e6);
        for (size_t i = 0; i < load->n_links; i++)
                manager_scan_interface(req->m, load->links[i]->netns_ino, load->links[i]->ifindex);
        return r;
}

const OperationDesc op_load = {
        .name = "load",
        .needs_caller = true,
        .gate = checks_load_gate,
        .inspect = load_inspect,
        .inspect_run = load_inspect_run,
        .inspect_done = load_inspect_done,
        .checks = checks_load,
        .commit = load_commit,
        .reply = load_reply,
};

int request_load(Manager *m, sd_bus_message *msg, LoadRequest *load) {
        Request *req;

        assert(load);
        assert(load->source && (load->object_fd >= 0 || load->path || load->image_ref));
        req = request_new(m, msg, OP_LOAD);
        if (!req) {
                load_request_free(load);
                return -ENOMEM;
        }
        req->load = load;
        return request_start(req);
}
