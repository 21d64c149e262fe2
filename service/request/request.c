/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every request that needs authorization goes through one pipeline: parse and validate (the bus layer,
 * without privileges) → who is the caller (asked of the bus daemon; the process must still have the ids the
 * bus vouched for) → unprivileged inspection of what the caller hands in (objects read and parsed by
 * bpfd-inspect, files opened as the caller with their canonical paths) → polkit, with every detail as the
 * resolved truth → privileged work on the worker → commit → reply. Nothing on the way blocks the bus thread,
 * and nothing privileged happens for a caller before polkit said yes. The steps of each operation are in its
 * descriptor (request-internal.h); this file only walks them. */
#include <assert.h>
#include <stdio.h>

#include "bpfd-error.h"
#include "credentials.h"
#include "errors.h"
#include "log.h"
#include "request-internal.h"
#include "shutdown.h"
#include "engine-maps.h"

/* Requests in flight per uid, from the caller being known to the reply. A request before polkit's answer costs a
 * process (bpfd-inspect, up to its 60 s limit on a descriptor that never ends) and a few descriptors, and any
 * user may ask, even one allowed nothing: without a bound, one user could spend the machine's processes and
 * memory. Root is not counted. Bus thread only. */
#define REQUESTS_PER_USER_MAX 64
static GHashTable *in_flight_by_uid; /* uid → count */

static bool in_flight_take(uid_t uid) {
        guint n;

        if (!in_flight_by_uid)
                in_flight_by_uid = g_hash_table_new(g_direct_hash, g_direct_equal);
        n = GPOINTER_TO_UINT(g_hash_table_lookup(in_flight_by_uid, GUINT_TO_POINTER(uid)));
        if (n >= REQUESTS_PER_USER_MAX)
                return false;
        g_hash_table_insert(in_flight_by_uid, GUINT_TO_POINTER(uid), GUINT_TO_POINTER(n + 1));
        return true;
}

static void in_flight_release(uid_t uid) {
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(in_flight_by_uid, GUINT_TO_POINTER(uid)));

        assert(n > 0);
        if (n > 1)
                g_hash_table_insert(in_flight_by_uid, GUINT_TO_POINTER(uid), GUINT_TO_POINTER(n - 1));
        else
                g_hash_table_remove(in_flight_by_uid, GUINT_TO_POINTER(uid));
}

const OperationDesc *const operation_descs[_OP_MAX] = {
        [OP_LOAD] = &op_load,
        [OP_ATTACH] = &op_attach,
        [OP_DETACH] = &op_detach,
        [OP_UNLOAD] = &op_unload,
        [OP_MAP] = &op_map,
        [OP_LIST_KERNEL] = &op_list_kernel,
        [OP_GET_KERNEL] = &op_get_kernel,
        [OP_PULL_IMAGE] = &op_pull_image,
        [OP_LIST_IMAGES] = &op_list_images,
        [OP_REMOVE_IMAGE] = &op_remove_image,
};

static const OperationDesc *desc_of(const Request *req) {
        assert(req->op < _OP_MAX && operation_descs[req->op]);
        return operation_descs[req->op];
}

void request_free(Request *req) {
        Manager *m;

        if (!req)
                return;
        m = req->m;
        if (req->counted)
                in_flight_release(req->caller.uid);
        stats_abandon(&req->stats);
        sd_bus_slot_unref(req->slot);
        authorization_done(&req->auth);
        inspect_reader_free(req->reader);
        caller_open_free(req->opening);
        sd_bus_message_unref(req->msg);
        caller_done(&req->caller);
        engine_error_done(&req->error);
        attach_target_done(&req->target);
        load_request_free(req->load);
        link_info_unref(req->link);
        free(req->gone_links);
        kernel_programs_free(req->kernel, req->n_kernel);
        program_filter_done(&req->filter);
        map_access_done(&req->map);
        image_pull_free(req->image_pull);
        strv_free(req->pulled);
        free(req);
        assert(m->requests_in_flight > 0);
        m->requests_in_flight--;
        manager_note_activity(m);
}

static void job_run(Job *j, Engine *e);
static void job_done(Job *j);

Request *request_new(Manager *m, sd_bus_message *msg, Operation op) {
        Request *req;

        assert(m && msg);
        assert(op < _OP_MAX);
        req = calloc(1, sizeof(Request));
        if (!req)
                return NULL;
        req->m = m;
        req->msg = sd_bus_message_ref(msg);
        req->op = op;
        req->stage = STAGE_CREDENTIALS;
        req->job.run = job_run;
        req->job.done = job_done;
        req->target.kind = KIND_DEFAULT;
        req->caller = CALLER_NULL;
        req->map.ringbuf_fd = -1;
        authorization_init(&req->auth);
        req->stats = stats_defer();
        req->received_ns = worker_now_ns();
        m->requests_in_flight++;
        return req;
}

void request_fail(Request *req, const sd_bus_error *e) {
        assert(sd_bus_error_is_set(e));
        stats_finish(&req->stats, e->name);
        (void) bpfd_reply_error(req->msg, e);
        request_free(req);
}

void request_failf(Request *req, BpfdError code, const char *fmt, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        (void) bpfd_error_setf(&e, code, "%s", msg ?: "Out of memory.");
        request_fail(req, &e);
}

void request_fail_engine(Request *req, const EngineError *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        (void) bus_error_from_engine(&e, error);
        request_fail(req, &e);
}

void request_submit(Request *req) {
        assert(IN_SET2(req->stage, STAGE_INSPECT, STAGE_COMMIT));
        worker_submit(req->m->worker, &req->job);
}

static void on_opened(CallerOpen *o, void *userdata) {
        Request *req = userdata;

        assert(req->opening == o && req->stage == STAGE_INSPECT);
        request_submit(req); /* inspect_run takes the answer */
}

void request_wait_open(Request *req) {
        int r;

        assert(req->opening && req->stage == STAGE_INSPECT);
        r = caller_open_wait_async(req->opening, sd_bus_get_event(req->m->bus), on_opened, req);
        if (r < 0)
                request_failf(req, BPFD_ERR_FAILED, "Cannot wait for a file to open: %s", strerror(-r));
}

/* ---- polkit's answers ---- */

static const char *action_verb(const char *action) {
        if (streq(action, "org.bpfd.load"))
                return "load BPF programs";
        if (streq(action, "org.bpfd.load-image"))
                return "use this BPF image"; /* asked for loads, pulls and removals alike */
        if (streq(action, "org.bpfd.attach"))
                return "attach BPF programs";
        if (streq(action, "org.bpfd.map"))
                return "access the maps of this program";
        if (streq(action, "org.bpfd.map-others"))
                return "access the maps of other users' programs";
        return "unload or detach BPF programs of other users";
}

static void refused(Request *req, int authorized, const sd_bus_error *error, char **check) {
        const char *what = NULL;

        assert(check);
        /* The question's own description names the program, its kind and target. */
        for (char **d = check + 1; d[0] && d[1]; d += 2)
                if (streq(d[0], "polkit.message") && strncmp(d[1], "Authentication is required to ", 30) == 0)
                        what = d[1] + 30;
        if (error) {
                /* A caller that left before polkit looked at it is no news for the log. */
                if (sd_bus_error_has_name(error, "org.freedesktop.DBus.Error.NameHasNoOwner") ||
                    strstr(strempty(error->message), "NameHasNoOwner"))
                        log_debug("polkit could not decide on %s: %s", check[0], error->message);
                else
                        log_warning("polkit could not decide on %s: %s", check[0], error->message);
                return request_failf(req, BPFD_ERR_PERMISSION_DENIED,
                                     "polkit could not decide (polkit action %s: %s), so it is not allowed. Refused: %s",
                                     check[0], error->message, strempty(what));
        }
        if (authorized == -EKEYREJECTED && sd_bus_message_get_allow_interactive_authorization(req->msg) > 0)
                return request_failf(req, BPFD_ERR_PERMISSION_DENIED,
                                     "An administrator's password is needed (polkit action %s), and no polkit "
                                     "authentication agent asked for it: run the command from a terminal, or with an "
                                     "agent running. Refused: %s",
                                     check[0], strempty(what));
        if (authorized == -EKEYREJECTED)
                return request_failf(req, BPFD_ERR_PERMISSION_DENIED,
                                     "An administrator's password is needed (polkit action %s), but "
                                     BPFD_MESSAGE_INTERACTIVE_NOT_ALLOWED " (bpfctl: leave out --no-ask-password). "
                                     "Refused: %s",
                                     check[0], strempty(what));
        request_failf(req, BPFD_ERR_PERMISSION_DENIED,
                      "This user (uid %u) is not allowed to %s (polkit action %s; an administrator can allow it with a "
                      "polkit rule, see bpfd(8)). Refused: %s",
                      (unsigned) req->caller.uid, action_verb(check[0]), check[0], strempty(what));
}

static void on_authorized(void *userdata, AuthorizationResult result, int authorized, const sd_bus_error *error,
                          char **check) {
        Request *req = userdata;
        const OperationDesc *d = desc_of(req);

        switch (result) {
        case AUTHORIZATION_INCOMPLETE:
                return request_failf(req, BPFD_ERR_FAILED, "Out of memory while preparing the authorization.");
        case AUTHORIZATION_CANNOT_ASK:
                return request_failf(req, BPFD_ERR_PERMISSION_DENIED, "Cannot ask polkit (%s), so it is not allowed.",
                                     strerror(-authorized));
        case AUTHORIZATION_REFUSED:
                return refused(req, authorized, error, check);
        case AUTHORIZATION_YES:
                break;
        }
        if (req->stage == STAGE_GATE) {
                req->stage = STAGE_INSPECT;
                if (d->inspect)
                        return d->inspect(req);
                return request_inspected(req);
        }
        assert(req->stage == STAGE_CHECKS);
        req->stage = STAGE_COMMIT;
        if (d->commit_async)
                return d->commit_async(req);
        request_submit(req);
}

/* Asks polkit what the descriptor's checks (or gate) say; root asks nobody. */
static void authorize(Request *req, int (*checks)(const Request *req, Authorization *out, sd_bus_error *error)) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        if (checks(req, &req->auth, &e) < 0) {
                if (!sd_bus_error_is_set(&e))
                        (void) bpfd_error_setf(&e, BPFD_ERR_FAILED, "Out of memory.");
                return request_fail(req, &e);
        }
        authorization_run(&req->auth, req->m->bus, req->msg, req->caller.uid != 0, on_authorized, req);
}

void request_inspected(Request *req) {
        const OperationDesc *d = desc_of(req);

        assert(req->stage == STAGE_INSPECT);
        req->stage = STAGE_CHECKS;
        if (!d->checks)
                return on_authorized(req, AUTHORIZATION_YES, 1, NULL, NULL);
        authorize(req, d->checks);
}

/* ---- the caller ---- */

static void on_credentials(void *userdata, BpfdError code, const char *message) {
        Request *req = userdata;
        const OperationDesc *d = desc_of(req);

        req->slot = sd_bus_slot_unref(req->slot);
        if (message)
                return request_failf(req, code, "%s", message);
        assert(req->stage == STAGE_CREDENTIALS);
        if (req->caller.uid != 0) {
                if (!in_flight_take(req->caller.uid))
                        return request_failf(req, BPFD_ERR_LIMIT_EXCEEDED,
                                             "This user (uid %u) has %u requests in flight already; nothing was done. "
                                             "Make the call again once some of them are answered.",
                                             (unsigned) req->caller.uid, REQUESTS_PER_USER_MAX);
                req->counted = true;
        }
        req->stage = STAGE_GATE;
        if (d->gate)
                return authorize(req, d->gate);
        on_authorized(req, AUTHORIZATION_YES, 1, NULL, NULL);
}

int request_start(Request *req) {
        const OperationDesc *d = desc_of(req);
        int r;

        assert(req->stage == STAGE_CREDENTIALS);
        if (!d->needs_caller) {
                /* Open to everybody: straight to the commit. */
                assert(!d->gate && !d->inspect && !d->checks);
                req->stage = STAGE_CHECKS;
                on_authorized(req, AUTHORIZATION_YES, 1, NULL, NULL);
                return 1;
        }
        r = credentials_acquire(req->m, req->msg, &req->caller, on_credentials, req, &req->slot);
        if (r < 0) {
                request_free(req);
                return r;
        }
        return 1; /* the reply comes later */
}

/* ---- the worker's part, and the reply ---- */

static void job_run(Job *j, Engine *e) {
        Request *req = (Request *) j;
        const OperationDesc *d = desc_of(req);

        if (req->stage == STAGE_INSPECT) {
                assert(d->inspect_run);
                d->inspect_run(req, e);
        } else {
                assert(req->stage == STAGE_COMMIT && d->commit);
                d->commit(req, e);
        }
}

void request_reply(Request *req) {
        const OperationDesc *d = desc_of(req);
        int r;

        assert(req->stage == STAGE_COMMIT && d->reply);
        r = d->reply(req);
        if (r < 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                log_warning_errno(r, "Cannot send a reply: %m");
                /* Never leave the caller waiting for NoReply. */
                (void) bpfd_error_setf(&e, BPFD_ERR_FAILED,
                                       "The request was carried out, but its reply could not be sent (%s).", strerror(-r));
                (void) bpfd_reply_error(req->msg, &e);
        }
        stats_finish(&req->stats, r < 0 ? bpfd_error_name(BPFD_ERR_FAILED) : NULL);
        request_free(req);
}

static void job_done(Job *j) {
        Request *req = (Request *) j;
        const OperationDesc *d = desc_of(req);

        if (engine_error_is_set(&req->error)) {
                log_debug("Request %s failed: %s: %s", d->name, bpfd_error_name(req->error.code), req->error.message);
                return request_fail_engine(req, &req->error);
        }
        if (req->stage == STAGE_INSPECT) {
                assert(d->inspect_done);
                return d->inspect_done(req);
        }
        request_reply(req);
}
