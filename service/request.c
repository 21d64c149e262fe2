/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every request that needs authorization goes through one pipeline: parse and validate (here, without
 * privileges) → who is the caller (asked of the bus daemon; the process must still have the ids the bus
 * vouched for) → unprivileged inspection of what the caller hands in (objects read and parsed by
 * bpfd-inspect, files opened as the caller with their canonical paths) → polkit, with every detail as the
 * resolved truth → privileged work on the worker → commit → reply. Nothing on the way blocks the bus thread,
 * and nothing privileged happens for a caller before polkit said yes. */
#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>

#include "target-bus.h"
#include "bus-spec.h"
#include "bus-util.h"
#include "errors.h"
#include "image-puller.h"
#include "image-ref.h"
#include "log.h"
#include "deferred.h"
#include "interface-watch.h"
#include "interface.h"
#include "object-dict.h"
#include "request.h"
#include "shutdown.h"
#include "view.h"
#include "inspect.h"
#include "load-plan.h"
#include "polkit.h"
#include "stats.h"
#include "bus-caller.h"
#include "polkit-details.h"
#include <sys/syscall.h>
#include "utf8.h"

typedef enum Operation {
        OP_LOAD_INSPECT,
        OP_LOAD,
        OP_RESOLVE, /* Attach: open the target's files as the caller, before polkit */
        OP_ATTACH,
        OP_DETACH,
        OP_UNLOAD,
        OP_LIST_KERNEL,
        OP_GET_KERNEL,
        OP_MAP,
        OP_PULL_IMAGE,
        OP_LIST_IMAGES,
        OP_REMOVE_IMAGE,
} Operation;

typedef struct Request {
        Job job;
        Manager *m;
        sd_bus_message *msg;
        Operation op;
        Caller caller;
        sd_bus_slot *slot;
        GPtrArray *checks; /* char** each: action, key, value, ..., NULL */
        guint next_check;
        bool check_failed;   /* a question could not be put together: authorization fails closed */
        InspectReader *reader;
        EngineError error;
        StatsToken stats; /* the call's measurement, taken over from the bus handler */

        uint32_t id;
        AttachTarget target;
        LoadRequest *load;
        LinkInfo *link;
        uint32_t *gone_links;
        size_t n_gone;
        KernelProgram *kernel;
        size_t n_kernel;
        MapAccess map;
        ImagePull *image_pull;   /* the puller at work for this request (never on the worker) */
        char **pulled;           /* its output lines */
        void (*authorized)(struct Request *req); /* after the checks, instead of the worker */
        /* ListPrograms filter */
        bool filter_all;
        char *filter_kind;
        bool filter_has_owner;
        uint32_t filter_owner;
        uint64_t received_ns; /* when the call was parsed */
} Request;

static void request_free(Request *req) {
        Manager *m = req->m;

        stats_abandon(&req->stats);
        sd_bus_slot_unref(req->slot);
        inspect_reader_free(req->reader);
        sd_bus_message_unref(req->msg);
        caller_done(&req->caller);
        if (req->checks)
                g_ptr_array_unref(req->checks);
        engine_error_done(&req->error);
        attach_target_done(&req->target);
        load_request_free(req->load);
        link_info_unref(req->link);
        free(req->gone_links);
        kernel_programs_free(req->kernel, req->n_kernel);
        map_access_done(&req->map);
        image_pull_free(req->image_pull);
        strv_free(req->pulled);
        free(req->filter_kind);
        free(req);
        m->requests_in_flight--;
        manager_note_activity(m);
}

static void job_run(Job *j, Engine *e);
static void job_done(Job *j);

static Request *request_new(Manager *m, sd_bus_message *msg, Operation op) {
        Request *req = calloc(1, sizeof(Request));

        if (!req)
                return NULL;
        req->m = m;
        req->msg = sd_bus_message_ref(msg);
        req->op = op;
        req->job.run = job_run;
        req->job.done = job_done;
        req->target.kind = KIND_DEFAULT;
        req->caller = CALLER_NULL;
        req->checks = g_ptr_array_new_with_free_func((GDestroyNotify) strv_free);
        req->stats = stats_defer();
        req->received_ns = worker_now_ns();
        m->requests_in_flight++;
        return req;
}

static void request_fail(Request *req, const sd_bus_error *e) {
        stats_finish(&req->stats, e->name);
        (void) bpfd_reply_error(req->msg, e);
        request_free(req);
}

static void request_failf(Request *req, const char *name, const char *fmt, ...) _printf_(3, 4);
static void request_failf(Request *req, const char *name, const char *fmt, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        (void) bpfd_error_set_namef(&e, name, "%s", msg ?: "Out of memory.");
        request_fail(req, &e);
}

static void request_fail_engine(Request *req, const EngineError *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        (void) bus_error_from_engine(&e, error);
        request_fail(req, &e);
}

static void request_submit(Request *req) {
        worker_submit(req->m->worker, &req->job);
}

/* ---- authorization ---- */

static const char *action_verb(const char *action) {
        if (streq(action, "org.bpfd.load"))
                return "load BPF programs";
        if (streq(action, "org.bpfd.load-image"))
                return "load BPF programs from this image";
        if (streq(action, "org.bpfd.attach"))
                return "attach BPF programs";
        if (streq(action, "org.bpfd.map"))
                return "access the maps of this program";
        if (streq(action, "org.bpfd.map-others"))
                return "access the maps of other users' programs";
        return "unload or detach BPF programs of other users";
}

static void authorize_next(Request *req);

static void on_polkit_answer(int authorized, const sd_bus_error *error, void *userdata) {
        Request *req = userdata;
        char **check = g_ptr_array_index(req->checks, req->next_check);
        const char *what = NULL;

        req->slot = sd_bus_slot_unref(req->slot);
        if (authorized > 0) {
                req->next_check++;
                authorize_next(req);
                return;
        }
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
                return request_failf(req, BPFD_ERROR_PERMISSION_DENIED,
                                     "polkit could not decide (polkit action %s: %s), so it is not allowed. Refused: %s",
                                     check[0], error->message, strempty(what));
        }
        if (authorized == -EKEYREJECTED && sd_bus_message_get_allow_interactive_authorization(req->msg) > 0)
                return request_failf(req, BPFD_ERROR_PERMISSION_DENIED,
                                     "An administrator's password is needed (polkit action %s), and no polkit "
                                     "authentication agent asked for it: run the command from a terminal, or with an "
                                     "agent running. Refused: %s",
                                     check[0], strempty(what));
        if (authorized == -EKEYREJECTED)
                return request_failf(req, BPFD_ERROR_PERMISSION_DENIED,
                                     "An administrator's password is needed (polkit action %s), but this call did "
                                     "not allow interactive authentication (bpfctl: leave out --no-ask-password). Refused: %s",
                                     check[0], strempty(what));
        request_failf(req, BPFD_ERROR_PERMISSION_DENIED, "This user (uid %u) is not allowed to %s (polkit action %s). Refused: %s",
                      (unsigned) req->caller.uid, action_verb(check[0]), check[0], strempty(what));
}

static void authorize_next(Request *req) {
        char **check;
        int r;

        if (req->check_failed)
                return request_failf(req, BPFD_ERROR_FAILED, "Out of memory while preparing the authorization.");
        if (req->caller.uid == 0 || req->next_check >= req->checks->len) {
                if (req->authorized)
                        req->authorized(req);
                else
                        request_submit(req);
                return;
        }
        check = g_ptr_array_index(req->checks, req->next_check);
        r = polkit_check_async(req->m->bus, req->msg, check[0], check + 1, on_polkit_answer, req, &req->slot);
        if (r < 0)
                request_failf(req, BPFD_ERROR_PERMISSION_DENIED, "Cannot ask polkit (%s), so it is not allowed.",
                              strerror(-r));
}

/* One polkit question. On any failure the request is refused, never sent on with a question fewer. */
static void add_check_spec(Request *req, const CheckSpec *spec) {
        char **c = polkit_details_new(spec);

        if (!c)
                req->check_failed = true;
        else
                g_ptr_array_add(req->checks, c);
}

static void add_check(Request *req, const char *action, const char *operation, Kind kind, const char *program_name,
                      const AttachTarget *target, uid_t owner) {
        CheckSpec spec = { .action = action, .operation = operation, .kind = kind, .program_name = program_name,
                           .target = target, .owner_uid = owner };

        if (req->op == OP_MAP)
                spec.map_name = req->map.map;
        else if (req->load && req->load->image_ref) {
                spec.image = req->load->image_ref;
                spec.registry = req->load->image_registry;
                spec.image_digest = req->load->image_digest;
        }
        add_check_spec(req, &spec);
}

/* ---- images: polkit first, then the puller (a process of its own, never the worker), then the worker ---- */

/* The canonical reference and registry of a caller's string: what polkit, the puller and Program.Source
 * see, so one registry has one name in rules. */
static int image_reference_canonical(const char *s, char **ret_ref, char **ret_registry, sd_bus_error *error) {
        _cleanup_image_ref_ ImageRef *ref = NULL;
        int r;

        if (strlen(s) > BPFD_STRING_MAX || (r = image_ref_parse(s, &ref)) == -EINVAL)
                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT,
                                         "'%.*s' is not an image reference (registry[:port]/name[:tag] or "
                                         "registry[:port]/name@sha256:digest).", UTF8_CUT(s, 256));
        if (r < 0)
                return r;
        *ret_ref = image_ref_to_string(ref);
        *ret_registry = strdup(ref->registry);
        if (!*ret_ref || !*ret_registry) {
                *ret_ref = mfree(*ret_ref);
                *ret_registry = mfree(*ret_registry);
                return -ENOMEM;
        }
        return 0;
}

static void image_request_pulled(ImagePull *pull, const EngineError *error, char **lines, int object_fd,
                                 void *userdata);

/* Runs the request's verb in the puller; image_request_pulled() goes on when it is done. */
static void image_run_puller(Request *req) {
        static const char *const verbs[] = {
                [OP_LOAD_INSPECT] = "pull", [OP_PULL_IMAGE] = "pull", [OP_LIST_IMAGES] = "list", [OP_REMOVE_IMAGE] = "rm",
        };
        _cleanup_strv_free_ char **in_use = NULL;
        GHashTableIter it;
        ProgramInfo *p;
        int r = 0;

        assert(req->op < ELEMENTSOF(verbs) && verbs[req->op]);
        /* What loaded programs came from is the last the cache gives up when it must. */
        g_hash_table_iter_init(&it, req->m->programs);
        while (r >= 0 && strv_length(in_use) < 1000 && g_hash_table_iter_next(&it, NULL, (gpointer *) &p))
                if (p->image_digest && *p->image_digest && !strv_contains(in_use, p->image_digest))
                        r = strv_push(&in_use, strdup(p->image_digest));
        if (r >= 0)
                r = image_pull_start(req->m->event, verbs[req->op], req->load ? req->load->image_ref : NULL,
                                     req->op == OP_REMOVE_IMAGE || req->op == OP_LIST_IMAGES ? -1 : req->load->pull_policy,
                                     in_use, image_request_pulled, req, &req->image_pull);
        if (r < 0)
                request_failf(req, BPFD_ERROR_FAILED, "Cannot ask the image puller: %s",
                              r == -ENOTCONN ? "it is not running" : strerror(-r));
}

/* LoadFromImage: "may this caller have this image pulled?" before the registry or the cache is touched;
 * the kinds, known after inspection, are asked about again (authorize_load()). */
static void image_load_authorize(Request *req) {
        add_check(req, "org.bpfd.load-image", "pull", KIND_INVALID, "", NULL, req->caller.uid);
        req->authorized = image_run_puller;
        authorize_next(req);
}

/* RemoveImage of an image that programs of other users came from is managing what is theirs. */
static void image_request_authorize(Request *req) {
        ProgramInfo *p, *other = NULL;
        GHashTableIter it;

        add_check(req, "org.bpfd.load-image", req->op == OP_PULL_IMAGE ? "pull" : "remove", KIND_INVALID, "", NULL,
                  req->caller.uid);
        if (req->op == OP_REMOVE_IMAGE) {
                g_hash_table_iter_init(&it, req->m->programs);
                while (!other && g_hash_table_iter_next(&it, NULL, (gpointer *) &p))
                        if (p->owner_uid != req->caller.uid && streq_ptr(p->image_reference, req->load->image_ref))
                                other = p;
                if (other)
                        add_check(req, "org.bpfd.manage-others", "remove", other->kind, other->name, NULL,
                                  other->owner_uid);
        }
        req->authorized = image_run_puller;
        authorize_next(req);
}

static int image_reply_pulled(Request *req) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **programs = NULL;
        int r;

        for (char **l = req->pulled; l && *l; l++)
                if (strncmp(*l, "program ", 8) == 0 && strv_push(&programs, strndup(*l + 8, strcspn(*l + 8, " "))) < 0)
                        return -ENOMEM;
        r = sd_bus_message_new_method_return(req->msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = bus_append_dict_entry(reply, "reference", "s", strempty(image_pull_value(req->pulled, "reference")));
        if (r >= 0)
                r = bus_append_dict_entry(reply, "digest", "s", strempty(image_pull_value(req->pulled, "digest")));
        if (r >= 0)
                r = bus_append_dict_entry(reply, "object_filename", "s",
                                          strempty(image_pull_value(req->pulled, "filename")));
        if (r >= 0)
                r = bus_append_dict_entry(reply, "from_cache", "b",
                                          streq_ptr(image_pull_value(req->pulled, "source"), "cache"));
        if (r >= 0)
                r = bus_append_dict_entry(reply, "signed", "b", image_pull_value(req->pulled, "signed") != NULL);
        if (r >= 0) {
                r = sd_bus_message_open_container(reply, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", "programs");
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, programs ?: (char *[]) { NULL });
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int image_reply_list(Request *req) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(req->msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (char **l = req->pulled; r >= 0 && l && *l; l++) {
                g_auto(GStrv) f = g_strsplit(*l, " ", 3);
                if (g_strv_length(f) != 3 || !streq(f[0], "image"))
                        continue;
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "reference", "s", f[1]);
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "digest", "s", f[2]);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

/* A load goes on to the worker with the pulled object (a sealed memfd from the puller), the image's labels
 * naming the programs when the caller did not. */
static int image_load_prepare(Request *req) {
        LoadRequest *load = req->load;
        const char *reference = image_pull_value(req->pulled, "reference"), *digest = image_pull_value(req->pulled, "digest");

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

static void image_request_pulled(ImagePull *pull, const EngineError *error, char **lines, int object_fd,
                                 void *userdata) {
        _cleanup_close_ int fd = object_fd;
        Request *req = userdata;
        int r = 0;

        req->image_pull = image_pull_free(req->image_pull);
        if (error)
                return request_failf(req, bpfd_error_name(error->code), "Image '%s': %s",
                                     req->load ? req->load->image_ref : "", error->message);
        req->pulled = strv_copy(lines);
        if (!req->pulled)
                return request_failf(req, BPFD_ERROR_FAILED, "Out of memory.");
        if (req->op == OP_PULL_IMAGE || req->op == OP_LOAD_INSPECT)
                manager_specs_image_pulled(req->m); /* specs waiting for an image: it may be cached now */
        switch (req->op) {
        case OP_LOAD_INSPECT:
                req->authorized = NULL;
                req->load->object_fd = TAKE_FD(fd);
                r = image_load_prepare(req);
                if (r < 0 || engine_error_is_set(&req->error)) {
                        if (!engine_error_is_set(&req->error))
                                (void) engine_error_set_errnof(&req->error, r, "Cannot load the image: %m");
                        return request_fail_engine(req, &req->error);
                }
                return request_submit(req);
        case OP_PULL_IMAGE:
                r = image_reply_pulled(req);
                break;
        case OP_LIST_IMAGES:
                r = image_reply_list(req);
                break;
        case OP_REMOVE_IMAGE:
                r = sd_bus_reply_method_return(req->msg, NULL);
                break;
        default:
                abort();
        }
        if (r < 0)
                log_warning_errno(r, "Cannot send a reply: %m");
        request_free(req);
}

/* ---- the caller's credentials, from the bus daemon ---- */

static void after_credentials(Request *req);
static void remember_caller(Request *req);

static int on_credentials(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Request *req = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        req->slot = sd_bus_slot_unref(req->slot);
        if (e) {
                request_failf(req, BPFD_ERROR_FAILED, "Cannot identify the caller: %s", e->message);
                return 0;
        }
        if (bus_caller_from_credentials(reply, &req->caller) < 0) {
                request_failf(req, BPFD_ERROR_FAILED, "The bus daemon did not say who the caller is.");
                return 0;
        }
        remember_caller(req);
        after_credentials(req);
        return 0;
}

static void caller_free(void *p) {
        caller_done(p);
        free(p);
}

/* A unique bus name never changes hands and the bus fixes its credentials when it connects, so they can be
 * remembered until the name goes away; a client making many calls then costs one question to the bus. */
static int on_name_owner_changed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(msg, "sss", &name, &old_owner, &new_owner) >= 0 && name[0] == ':' && !*new_owner)
                g_hash_table_remove(m->callers, name);
        return 0;
}

int manager_watch_callers(Manager *m) {
        m->callers = g_hash_table_new_full(g_str_hash, g_str_equal, free, caller_free);
        return sd_bus_match_signal_async(m->bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                         "org.freedesktop.DBus", "NameOwnerChanged", on_name_owner_changed, NULL, m);
}

static void remember_caller(Request *req) {
        Caller *c = calloc(1, sizeof(Caller));
        char *name = strdup(sd_bus_message_get_sender(req->msg));

        if (!c || !name || caller_copy(c, &req->caller) < 0) {
                free(c);
                free(name);
                return;
        }
        g_hash_table_replace(req->m->callers, name, c);
}

static int request_start(Request *req) {
        const char *sender = sd_bus_message_get_sender(req->msg);
        Caller *known = sender ? g_hash_table_lookup(req->m->callers, sender) : NULL;
        int r;

        if (known) {
                if (caller_copy(&req->caller, known) < 0) {
                        req->caller = CALLER_NULL;
                        request_free(req);
                        return -ENOMEM;
                }
                after_credentials(req);
                return 1;
        }
        r = sd_bus_call_method_async(req->m->bus, &req->slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "GetConnectionCredentials", on_credentials, req, "s",
                                     sender);
        if (r < 0) {
                request_free(req);
                return r;
        }
        return 1; /* the reply comes later */
}

static const char *attach_type_of(const ProgramInfo *p, const AttachTarget *t) {
        return attach_type_detail(t->kind, p->expected_attach_type, t);
}

static void authorize_attach(Request *req) {
        ProgramInfo *p = g_hash_table_lookup(req->m->programs, GUINT_TO_POINTER(req->id));

        if (!p)
                return request_failf(req, BPFD_ERROR_PROGRAM_NOT_FOUND, "No program %" PRIu32 " is loaded by bpfd.",
                                     req->id);
        /* owner_uid: the program's owner, whose program gets a new attachment. */
        add_check_spec(req, &(CheckSpec) { .action = "org.bpfd.attach", .operation = "attach", .kind = req->target.kind,
                                           .program_name = p->name, .target = &req->target,
                                           .attach_type = attach_type_of(p, &req->target), .owner_uid = p->owner_uid });
        if (p->owner_uid != req->caller.uid)
                add_check_spec(req, &(CheckSpec) { .action = "org.bpfd.manage-others", .operation = "attach",
                                                   .kind = req->target.kind, .program_name = p->name,
                                                   .target = &req->target,
                                                   .attach_type = attach_type_of(p, &req->target),
                                                   .owner_uid = p->owner_uid });
        req->op = OP_ATTACH;
        authorize_next(req);
}

static void after_credentials(Request *req) {
        _cleanup_free_ char *why = NULL;
        Manager *m = req->m;
        ProgramInfo *p;
        LinkInfo *l;

        /* The bus's word on who the caller is holds only while the process still has those ids. */
        if (caller_check_identity(&req->caller, &why) < 0)
                return request_failf(req, BPFD_ERROR_PERMISSION_DENIED, "%s",
                                     why ?: "The calling process's identity cannot be checked.");
        switch (req->op) {
        case OP_LOAD_INSPECT:
                if (caller_copy(&req->load->caller, &req->caller) < 0)
                        return request_failf(req, BPFD_ERROR_FAILED, "Out of memory.");
                if (req->load->image_ref)
                        return image_load_authorize(req);
                request_submit(req);
                return;
        case OP_ATTACH:
                p = g_hash_table_lookup(m->programs, GUINT_TO_POINTER(req->id));
                if (!p)
                        return request_failf(req, BPFD_ERROR_PROGRAM_NOT_FOUND, "No program %" PRIu32 " is loaded by bpfd.",
                                             req->id);
                if (req->target.kind == KIND_DEFAULT)
                        req->target.kind = p->kind;
                if (IN_SET2(req->target.kind, KIND_FENTRY, KIND_FEXIT) && !req->target.function && p->attach_function &&
                    !(req->target.function = strdup(p->attach_function)))
                        return request_failf(req, BPFD_ERROR_FAILED, "Out of memory.");
                if (attach_target_fill_from_section(&req->target, p->section) < 0)
                        return request_failf(req, BPFD_ERROR_FAILED, "Out of memory.");
                if (!kind_attach_compatible(p->kind, req->target.kind))
                        return request_failf(req, BPFD_ERROR_INVALID_ARGUMENT,
                                             "Program %" PRIu32 " is a %s program; it cannot be attached as %s.", p->id,
                                             kind_to_string(p->kind), kind_to_string(req->target.kind));
                if (!m->supported[req->target.kind])
                        return request_failf(req, BPFD_ERROR_NOT_SUPPORTED,
                                             "Attaching as '%s' is not supported by bpfd on this kernel.",
                                             kind_to_string(req->target.kind));
                {
                        _cleanup_(engine_error_done) EngineError e = ENGINE_ERROR_NULL;
                        if (attach_target_validate(&req->target, &e) < 0)
                                return request_fail_engine(req, &e);
                }
                /* Files the target names are opened as the caller first, so polkit sees what they are. */
                if (req->target.target || req->target.cgroup) {
                        req->op = OP_RESOLVE;
                        request_submit(req);
                        return;
                }
                authorize_attach(req);
                return;
        case OP_UNLOAD:
                p = g_hash_table_lookup(m->programs, GUINT_TO_POINTER(req->id));
                if (!p)
                        return request_failf(req, BPFD_ERROR_PROGRAM_NOT_FOUND, "No program %" PRIu32 " is loaded by bpfd.",
                                             req->id);
                /* Owners unload their own programs without asking anybody. */
                if (p->owner_uid != req->caller.uid)
                        add_check(req, "org.bpfd.manage-others", "unload", p->kind, p->name, NULL, p->owner_uid);
                authorize_next(req);
                return;
        case OP_DETACH:
                l = g_hash_table_lookup(m->links, GUINT_TO_POINTER(req->id));
                if (!l)
                        return request_failf(req, BPFD_ERROR_LINK_NOT_FOUND, "No link %" PRIu32 " is managed by bpfd.",
                                             req->id);
                p = g_hash_table_lookup(m->programs, GUINT_TO_POINTER(l->program_id));
                if (l->owner_uid != req->caller.uid && (!p || p->owner_uid != req->caller.uid))
                        add_check(req, "org.bpfd.manage-others", "detach", l->target.kind, p ? p->name : "",
                                  &l->target, l->owner_uid);
                authorize_next(req);
                return;
        case OP_PULL_IMAGE:
        case OP_REMOVE_IMAGE:
                return image_request_authorize(req);
        case OP_MAP: {
                static const char *const op_names[] = { "info", "lookup", "dump", "update", "delete", "ringbuf" };
                bool found = false;

                p = g_hash_table_lookup(m->programs, GUINT_TO_POINTER(req->id));
                if (!p)
                        return request_failf(req, BPFD_ERROR_PROGRAM_NOT_FOUND, "No program %" PRIu32 " is loaded by bpfd.",
                                             req->id);
                for (size_t i = 0; i < p->n_maps; i++)
                        found = found || streq(p->maps[i].name, req->map.map);
                if (!found)
                        return request_failf(req, BPFD_ERROR_MAP_NOT_FOUND, "Program %" PRIu32 " has no map '%s'.", p->id,
                                             req->map.map);
                add_check(req, p->owner_uid == req->caller.uid ? "org.bpfd.map" : "org.bpfd.map-others",
                          op_names[req->map.op], p->kind, p->name, NULL, p->owner_uid);
                authorize_next(req);
                return;
        }
        default:
                request_submit(req);
                return;
        }
}

/* ---- the worker's part ---- */

static void job_run(Job *j, Engine *e) {
        Request *req = (Request *) j;

        switch (req->op) {
        case OP_LOAD_INSPECT:
                (void) engine_prepare_load(e, req->load, &req->error);
                break;
        case OP_RESOLVE:
                (void) attach_target_resolve(&req->target, &req->caller, &req->error);
                break;
        case OP_LOAD:
                (void) engine_load(e, req->load, &req->error);
                break;
        case OP_ATTACH:
                (void) engine_attach(e, req->id, &req->target, &req->caller, &req->link, &req->error);
                break;
        case OP_DETACH:
                (void) engine_detach(e, req->id, &req->error);
                break;
        case OP_UNLOAD:
                (void) engine_unload(e, req->id, &req->gone_links, &req->n_gone, &req->error);
                break;
        case OP_LIST_KERNEL:
                (void) engine_kernel_programs(e, &req->kernel, &req->n_kernel, &req->error);
                break;
        case OP_MAP:
                (void) engine_map_access(e, req->id, &req->map, &req->error);
                break;
        case OP_PULL_IMAGE:
        case OP_LIST_IMAGES:
        case OP_REMOVE_IMAGE:
                abort(); /* the puller's, never the worker's */
        case OP_GET_KERNEL:
                req->kernel = calloc(1, sizeof(KernelProgram));
                if (req->kernel && engine_kernel_program(e, req->id, req->kernel, &req->error) >= 0)
                        req->n_kernel = 1;
                break;
        }
}

static int reply_load(Request *req) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        LoadRequest *load = req->load;
        int r;

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
        return r;
}

/* After inspection we know the program kinds; now polkit can be asked with the details rules need. */
/* Loading from an image has its own action, so a rule can allow users to load only from a trusted registry. */
static const char *load_action(const LoadRequest *load) {
        return load->image_ref ? "org.bpfd.load-image" : "org.bpfd.load";
}

static void authorize_load(Request *req) {
        LoadRequest *load = req->load;
        ProgramInfo *owner = NULL;

        if (load->map_owner_id) {
                owner = g_hash_table_lookup(req->m->programs, GUINT_TO_POINTER(load->map_owner_id));
                if (!owner)
                        return request_failf(req, BPFD_ERROR_PROGRAM_NOT_FOUND,
                                             "No program %" PRIu32 " is loaded by bpfd to share maps with.",
                                             load->map_owner_id);
        }
        for (size_t i = 0; load->selected[i]; i++) {
                CheckSpec spec = { .action = load_action(load), .operation = "load", .kind = load->kinds[i],
                                   .program_name = load->selected[i], .owner_uid = req->caller.uid,
                                   .attach_type = attach_type_detail(load->kinds[i], load->expected_attach_types[i], NULL),
                                   .has_map_owner_uid = owner, .map_owner_uid = owner ? owner->owner_uid : 0,
                                   .image = load->image_ref, .registry = load->image_registry,
                                   .image_digest = load->image_digest };
                bool targeted = false;

                for (size_t t = 0; t < load->n_targets; t++)
                        if (streq(load->targets[t].program, load->selected[i])) {
                                spec.target = &load->targets[t];
                                spec.attach_type = attach_type_detail(load->targets[t].kind,
                                                                      load->expected_attach_types[i], &load->targets[t]);
                                add_check_spec(req, &spec);
                                targeted = true;
                        }
                if (!targeted)
                        add_check_spec(req, &spec);
        }
        /* A load that attaches is an attachment too: the same question as Attach, per target. */
        for (size_t t = 0; t < load->n_targets; t++) {
                size_t i = 0;
                while (load->selected[i] && !streq(load->selected[i], load->targets[t].program))
                        i++;
                add_check_spec(req, &(CheckSpec) { .action = "org.bpfd.attach", .operation = "attach",
                                                   .kind = load->targets[t].kind, .program_name = load->targets[t].program,
                                                   .target = &load->targets[t], .owner_uid = req->caller.uid,
                                                   .attach_type = attach_type_detail(load->targets[t].kind,
                                                                                     load->expected_attach_types[i],
                                                                                     &load->targets[t]) });
        }
        /* Sharing maps is access to them: another user's need the same right as reading them, and it is asked
         * before the worker compares any shape. */
        if (owner && owner->owner_uid != req->caller.uid)
                add_check_spec(req, &(CheckSpec) { .action = "org.bpfd.map-others", .operation = "share",
                                                   .kind = owner->kind, .program_name = owner->name,
                                                   .owner_uid = owner->owner_uid, .has_map_owner_uid = true,
                                                   .map_owner_uid = owner->owner_uid });
        req->op = OP_LOAD;
        authorize_next(req);
}

static void on_inspected(Inspection *ins, const EngineError *error, void *userdata) {
        _cleanup_(engine_error_done) EngineError e = ENGINE_ERROR_NULL;
        Request *req = userdata;
        int r;

        req->reader = NULL; /* it frees itself after this */
        if (!ins)
                return request_fail_engine(req, error);
        r = load_plan(req->load, ins, req->m->supported, &e);
        if (r < 0 && !engine_error_is_set(&e))
                engine_error_set_errnof(&e, -r, "Cannot plan the load: %m");
        if (r < 0)
                return request_fail_engine(req, &e);
        authorize_load(req);
}

static void inspect_object(Request *req) {
        LoadRequest *load = req->load;
        int r;

        r = inspect_read_async(sd_bus_get_event(req->m->bus), TAKE_FD(load->inspect_sock), load->inspect_pid,
                               on_inspected, req, &req->reader);
        load->inspect_pid = 0; /* the reader has it now */
        if (r < 0)
                request_failf(req, BPFD_ERROR_FAILED, "Cannot wait for the object inspection: %s", strerror(-r));
}

static int append_map_result(sd_bus_message *reply, const MapAccess *a) {
        int r = 0;

        switch (a->op) {
        case MAP_OP_LOOKUP:
                return sd_bus_message_append_array(reply, 'y', a->value, a->value_len);
        case MAP_OP_DUMP:
                r = sd_bus_message_open_container(reply, 'a', "(ayay)");
                for (guint i = 0; r >= 0 && i + 1 < a->entries->len; i += 2) {
                        gsize kn, vn;
                        const void *k = g_bytes_get_data(g_ptr_array_index(a->entries, i), &kn);
                        const void *v = g_bytes_get_data(g_ptr_array_index(a->entries, i + 1), &vn);
                        r = sd_bus_message_open_container(reply, 'r', "ayay");
                        if (r >= 0)
                                r = sd_bus_message_append_array(reply, 'y', k, kn);
                        if (r >= 0)
                                r = sd_bus_message_append_array(reply, 'y', v, vn);
                        if (r >= 0)
                                r = sd_bus_message_close_container(reply);
                }
                return r < 0 ? r : sd_bus_message_close_container(reply);
        case MAP_OP_INFO:
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "id", "u", a->map_id);
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "name", "s", a->map);
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "type", "s", a->type);
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "type_id", "u", a->map_type);
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "key_size", "u", a->key_size);
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "value_size", "u", a->value_size);
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "max_entries", "u", a->max_entries);
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "flags", "u", a->map_flags);
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "per_cpu", "b", a->per_cpu);
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "possible_cpus", "u", a->possible_cpus);
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "btf_key_type_id", "u", a->btf_key_type_id);
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "btf_value_type_id", "u", a->btf_value_type_id);
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "pin_path", "s", strempty(a->pin_path));
                if (r >= 0) {
                        r = sd_bus_message_open_container(reply, 'e', "sv");
                        if (r >= 0)
                                r = sd_bus_message_append_basic(reply, 's', "btf");
                        if (r >= 0)
                                r = sd_bus_message_open_container(reply, 'v', "ay");
                        if (r >= 0)
                                r = sd_bus_message_append_array(reply, 'y', a->btf, a->btf_size);
                        if (r >= 0)
                                r = sd_bus_message_close_container(reply);
                        if (r >= 0)
                                r = sd_bus_message_close_container(reply);
                }
                return r < 0 ? r : sd_bus_message_close_container(reply);
        case MAP_OP_RINGBUF:
                return sd_bus_message_append(reply, "h", a->ringbuf_fd); /* the message takes a copy */
        default:
                return 0; /* update, delete: no result */
        }
}

/* An "ay" argument, copied out of the message (keys and values up to 16 MiB). */
static int read_bytes(sd_bus_message *msg, uint8_t **ret, size_t *ret_size, sd_bus_error *error) {
        const void *data;
        size_t size;
        int r = sd_bus_message_read_array(msg, 'y', &data, &size);

        if (r < 0)
                return r;
        if (size > 16U * 1024U * 1024U)
                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT, "A key or value is too large.");
        *ret = malloc(size + 1);
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, data, size);
        *ret_size = size;
        return 0;
}

int request_map_access(Manager *m, sd_bus_message *msg, uint32_t id, int op, sd_bus_error *error) {
        Request *req = request_new(m, msg, OP_MAP);
        const char *name;
        int r;

        if (!req)
                return -ENOMEM;
        req->id = id;
        req->map.op = op;
        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                goto fail;
        if (!*name || strlen(name) > BPFD_NAME_MAX) {
                r = sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT, "'%.*s' is not a map name.", UTF8_CUT(name, 64));
                goto fail;
        }
        req->map.map = strdup(name);
        if (!req->map.map) {
                r = -ENOMEM;
                goto fail;
        }
        if (IN_SET2(op, MAP_OP_LOOKUP, MAP_OP_UPDATE) || op == MAP_OP_DELETE) {
                r = read_bytes(msg, &req->map.key, &req->map.key_size_given, error);
                if (r < 0)
                        goto fail;
        }
        if (op == MAP_OP_UPDATE) {
                r = read_bytes(msg, &req->map.value, &req->map.value_len, error);
                if (r < 0)
                        goto fail;
                r = sd_bus_message_read(msg, "t", &req->map.flags);
                if (r < 0)
                        goto fail;
        }
        return request_start(req);
fail:
        request_free(req);
        return r;
}

static bool program_matches(Request *req, const ProgramInfo *p) {
        return (!req->filter_kind || streq(req->filter_kind, kind_to_string(p->kind))) &&
               (!req->filter_has_owner || p->owner_uid == req->filter_owner);
}

static int append_program_list(Request *req, sd_bus_message *reply);

/* Only a link on a network hook changes what an interface object shows; a tracepoint's costs no scan. */
static void scan_interface_of_link(Manager *m, uint32_t link_id) {
        const LinkInfo *l = g_hash_table_lookup(m->links, GUINT_TO_POINTER(link_id));

        if (l)
                manager_scan_interface(m, l->netns_ino, l->ifindex);
}

static void job_done(Job *j) {
        Request *req = (Request *) j;
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        int r = 0;

        if (engine_error_is_set(&req->error)) {
                log_debug("Request failed: %s: %s", bpfd_error_name(req->error.code), req->error.message);
                return request_fail_engine(req, &req->error);
        }
        switch (req->op) {
        case OP_LOAD_INSPECT:
                return inspect_object(req);
        case OP_RESOLVE:
                return authorize_attach(req);
        case OP_LOAD:
                r = reply_load(req);
                /* The split of a load beyond libbpf and the bus (README: "The floor of a bus load"). */
                log_debug("Load: %.3f ms until the worker took it, %.3f ms on the worker, %.3f ms until the reply "
                          "was sent.", (req->job.started_ns - req->received_ns) / 1e6,
                          (req->job.finished_ns - req->job.started_ns) / 1e6,
                          (worker_now_ns() - req->job.finished_ns) / 1e6);
                for (size_t i = 0; i < req->load->n_links; i++)
                        manager_scan_interface(req->m, req->load->links[i]->netns_ino, req->load->links[i]->ifindex);
                break;
        case OP_ATTACH: {
                _cleanup_free_ char *path = link_object_path(req->link->id);
                r = path ? sd_bus_reply_method_return(req->msg, "o", path) : -ENOMEM;
                manager_scan_interface(req->m, req->link->netns_ino, req->link->ifindex);
                break;
        }
        case OP_DETACH:
                r = sd_bus_reply_method_return(req->msg, NULL);
                scan_interface_of_link(req->m, req->id);
                break;
        case OP_UNLOAD:
                r = sd_bus_reply_method_return(req->msg, NULL);
                for (size_t i = 0; i < req->n_gone; i++)
                        scan_interface_of_link(req->m, req->gone_links[i]);
                manager_trim_later(req->m);
                break;
        case OP_LIST_KERNEL:
                r = sd_bus_message_new_method_return(req->msg, &reply);
                if (r >= 0)
                        r = append_program_list(req, reply);
                if (r >= 0)
                        r = sd_bus_send(NULL, reply, NULL);
                break;
        case OP_GET_KERNEL:
                r = sd_bus_message_new_method_return(req->msg, &reply);
                if (r >= 0)
                        r = append_kernel_program_dict(reply, req->kernel);
                if (r >= 0)
                        r = sd_bus_send(NULL, reply, NULL);
                break;
        case OP_MAP:
                r = sd_bus_message_new_method_return(req->msg, &reply);
                if (r >= 0)
                        r = append_map_result(reply, &req->map);
                if (r >= 0)
                        r = sd_bus_send(NULL, reply, NULL);
                break;
        case OP_PULL_IMAGE:
        case OP_LIST_IMAGES:
        case OP_REMOVE_IMAGE:
                abort();
        }
        if (r < 0) {
                log_warning_errno(r, "Cannot send a reply: %m");
                /* Never leave the caller waiting for NoReply. */
                (void) sd_bus_reply_method_errorf(req->msg, BPFD_ERROR_FAILED,
                                                  "The request was carried out, but its reply could not be sent (%s).",
                                                  strerror(-r));
        }
        stats_finish(&req->stats, r < 0 ? BPFD_ERROR_FAILED : NULL);
        request_free(req);
}

/* ---- method handlers ---- */

static int read_programs(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        LoadRequest *load = userdata;
        int r = bus_read_strv_checked(m, key, &load->programs, error);
        load->programs_given = true;
        if (r >= 0 && strv_length(load->programs) == 0)
                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT, "'programs' is empty.");
        return r;
}

static int read_metadata(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        LoadRequest *load = userdata;
        const char *k, *v;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{ss}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "{ss}", &k, &v)) > 0) {
                if (strv_length(load->metadata) / 2 >= BPFD_LIST_MAX)
                        return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT, "Too many metadata entries.");
                if (!*k || strlen(k) > BPFD_NAME_MAX || strlen(v) > BPFD_STRING_MAX)
                        return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT,
                                                 "Metadata keys must be 1 to %u bytes, values at most %u bytes.",
                                                 BPFD_NAME_MAX, BPFD_STRING_MAX);
                if (strv_push(&load->metadata, strdup(k)) < 0 || strv_push(&load->metadata, strdup(v)) < 0)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_global_data(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        LoadRequest *load = userdata;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{say}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "say")) > 0) {
                const char *name;
                const void *data;
                size_t size;
                GlobalData *g;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                r = sd_bus_message_read_array(m, 'y', &data, &size);
                if (r < 0)
                        return r;
                if (!*name || strlen(name) > BPFD_NAME_MAX || size == 0 || size > 65536 ||
                    load->n_globals >= BPFD_LIST_MAX)
                        return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT,
                                                 "Global data entries need a name of 1 to %u bytes and 1 to 65536 "
                                                 "bytes of value.",
                                                 BPFD_NAME_MAX);
                for (size_t i = 0; i < load->n_globals; i++)
                        if (streq(load->globals[i].name, name))
                                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT,
                                                         "The global '%s' is given twice.", name);
                g = reallocarray(load->globals, load->n_globals + 1, sizeof(GlobalData));
                if (!g)
                        return -ENOMEM;
                load->globals = g;
                g[load->n_globals] = (GlobalData) { .name = strdup(name), .data = malloc(size), .size = size };
                if (!g[load->n_globals].name || !g[load->n_globals].data) {
                        free(g[load->n_globals].name);
                        free(g[load->n_globals].data);
                        return -ENOMEM;
                }
                memcpy(g[load->n_globals].data, data, size);
                load->n_globals++;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_attach(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        LoadRequest *load = userdata;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "a{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_at_end(m, false)) == 0) {
                AttachTarget *t;

                if (load->n_targets >= 64)
                        return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT, "Too many attach targets.");
                t = reallocarray(load->targets, load->n_targets + 1, sizeof(AttachTarget));
                if (!t)
                        return -ENOMEM;
                load->targets = t;
                r = attach_target_read(m, true, &t[load->n_targets], error);
                if (r < 0)
                        return r;
                load->n_targets++;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_map_owner(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        LoadRequest *load = userdata;
        int r = sd_bus_message_read_basic(m, 'u', &load->map_owner_id);
        if (r >= 0 && load->map_owner_id == 0)
                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT, "'map_owner_id' must name a program.");
        return r;
}

/* Pull policies as bpfd-image numbers them. */
static int pull_policy_from_string(const char *s) {
        static const char *const names[] = { "Always", "IfNotPresent", "Never" };
        for (int i = 0; i < 3; i++)
                if (streq(names[i], s))
                        return i;
        return -EINVAL;
}

static int read_pull_policy(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        LoadRequest *load = userdata;
        int policy;
        const char *s;
        int r = sd_bus_message_read_basic(m, 's', &s);

        if (r < 0)
                return r;
        if (!load->image_ref)
                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT, "'pull_policy' is for LoadFromImage only.");
        policy = pull_policy_from_string(s);
        if (policy < 0)
                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT,
                                         "Unknown pull policy '%.*s' (Always, IfNotPresent or Never).", UTF8_CUT(s, 32));
        load->pull_policy = policy;
        return 0;
}

static const BusOption load_options[] = {
        { "programs", "as", read_programs },
        { "pull_policy", "s", read_pull_policy },
        { "map_owner_id", "u", read_map_owner },
        { "metadata", "a{ss}", read_metadata },
        { "global_data", "a{say}", read_global_data },
        { "attach", "aa{sv}", read_attach },
        {}
};

typedef enum LoadSource { LOAD_FROM_FD, LOAD_FROM_PATH, LOAD_FROM_IMAGE } LoadSource;

static int method_load(sd_bus_message *msg, void *userdata, sd_bus_error *error, LoadSource from) {
        Manager *m = userdata;
        Request *req;
        LoadRequest *load;
        bool by_path = from == LOAD_FROM_PATH;
        int r;

        load = load_request_new();
        if (!load)
                return -ENOMEM;
        if (from == LOAD_FROM_IMAGE) {
                const char *s;

                r = sd_bus_message_read(msg, "s", &s);
                if (r < 0)
                        goto fail;
                r = image_reference_canonical(s, &load->image_ref, &load->image_registry, error);
                if (r < 0)
                        goto fail;
                if (asprintf(&load->source, "image:%s", load->image_ref) < 0)
                        load->source = NULL;
                if (!load->image_ref || !load->image_registry || !load->source) {
                        r = -ENOMEM;
                        goto fail;
                }
        } else if (by_path) {
                const char *path;
                r = sd_bus_message_read(msg, "s", &path);
                if (r < 0)
                        goto fail;
                if (path[0] != '/' || strlen(path) > BPFD_STRING_MAX) {
                        r = sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT,
                                              "The object path must be absolute and at most %u bytes.", BPFD_STRING_MAX);
                        goto fail;
                }
                load->path = strdup(path);
                load->source = strdup(path);
        } else {
                int fd;
                char proc[64], target[1024];
                ssize_t n;

                r = sd_bus_message_read(msg, "h", &fd);
                if (r < 0)
                        goto fail;
                /* The message owns fd; keep our own copy for the worker. */
                load->object_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (load->object_fd < 0) {
                        r = -errno;
                        goto fail;
                }
                snprintf(proc, sizeof proc, "/proc/self/fd/%d", load->object_fd);
                n = readlink(proc, target, sizeof target - 1);
                target[n > 0 ? n : 0] = 0;
                if (asprintf(&load->source, "fd:%s", n > 0 ? target : "?") < 0)
                        load->source = NULL;
        }
        if ((!load->path && by_path) || !load->source) {
                r = -ENOMEM;
                goto fail;
        }
        r = bus_read_options(msg, "load", load_options, load, error);
        if (r < 0)
                goto fail;
        req = request_new(m, msg, OP_LOAD_INSPECT);
        if (!req) {
                r = -ENOMEM;
                goto fail;
        }
        req->load = load;
        return request_start(req);
fail:
        load_request_free(load);
        return r;
}

int method_load_from_fd(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_load(msg, userdata, error, LOAD_FROM_FD);
}

int method_load_from_path(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_load(msg, userdata, error, LOAD_FROM_PATH);
}

int method_load_from_image(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_load(msg, userdata, error, LOAD_FROM_IMAGE);
}

/* Pull and remove carry the reference in a LoadRequest, whose image details polkit sees as for loads. */
static int image_request(Manager *m, sd_bus_message *msg, Operation op, sd_bus_error *error) {
        _cleanup_free_ char *registry = NULL, *canonical = NULL;
        Request *req;
        const char *s, *policy = NULL;
        int p = 1, r;

        r = sd_bus_message_read(msg, "s", &s);
        if (r < 0)
                return r;
        if (op == OP_PULL_IMAGE) {
                r = sd_bus_message_read(msg, "s", &policy);
                if (r < 0)
                        return r;
                if (*policy && (p = pull_policy_from_string(policy)) < 0)
                        return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT,
                                                 "Unknown pull policy '%.*s' (Always, IfNotPresent or Never).", UTF8_CUT(policy, 32));
        }
        r = image_reference_canonical(s, &canonical, &registry, error);
        if (r < 0)
                return r;
        req = request_new(m, msg, op);
        if (!req)
                return -ENOMEM;
        req->load = load_request_new();
        if (!req->load) {
                request_free(req);
                return -ENOMEM;
        }
        req->load->image_ref = TAKE_PTR(canonical);
        req->load->image_registry = TAKE_PTR(registry);
        req->load->pull_policy = p;
        return request_start(req);
}

int method_pull_image(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return image_request(userdata, msg, OP_PULL_IMAGE, error);
}

int method_remove_image(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return image_request(userdata, msg, OP_REMOVE_IMAGE, error);
}

int method_list_images(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Request *req = request_new(userdata, msg, OP_LIST_IMAGES);
        if (!req)
                return -ENOMEM;
        image_run_puller(req); /* listing is open to everybody */
        return 1;
}

int request_unload(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error) {
        Request *req = request_new(m, msg, OP_UNLOAD);
        if (!req)
                return -ENOMEM;
        req->id = id;
        return request_start(req);
}

int request_detach(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error) {
        Request *req = request_new(m, msg, OP_DETACH);
        if (!req)
                return -ENOMEM;
        req->id = id;
        return request_start(req);
}

int request_attach(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error) {
        Request *req = request_new(m, msg, OP_ATTACH);
        int r;

        if (!req)
                return -ENOMEM;
        req->id = id;
        r = attach_target_read(msg, false, &req->target, error);
        if (r < 0) {
                request_free(req);
                return r;
        }
        return request_start(req);
}

int method_unload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        uint32_t id;
        int r = sd_bus_message_read(msg, "u", &id);
        return r < 0 ? r : request_unload(userdata, msg, id, error);
}

int method_detach(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        uint32_t id;
        int r = sd_bus_message_read(msg, "u", &id);
        return r < 0 ? r : request_detach(userdata, msg, id, error);
}

int method_attach(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        uint32_t id;
        int r = sd_bus_message_read(msg, "u", &id);
        return r < 0 ? r : request_attach(userdata, msg, id, error);
}

static GPtrArray *hash_values(GHashTable *t) {
        GPtrArray *a = g_ptr_array_sized_new(g_hash_table_size(t));
        GHashTableIter it;
        gpointer v;

        g_hash_table_iter_init(&it, t);
        while (g_hash_table_iter_next(&it, NULL, &v))
                g_ptr_array_add(a, v);
        return a;
}

static int cmp_program_id(gconstpointer a, gconstpointer b) {
        const ProgramInfo *x = *(ProgramInfo *const *) a, *y = *(ProgramInfo *const *) b;
        return x->id < y->id ? -1 : x->id > y->id;
}

/* Managed programs from the view; with "all", every other program of the kernel after them. */
/* component id → the link whose dispatcher slot runs that kernel program (an extension loaded for a managed
 * program): such programs are bpfd's too. */
static GHashTable *component_links(Manager *m) {
        GHashTable *t = g_hash_table_new(NULL, NULL);
        GHashTableIter it;
        gpointer v;

        g_hash_table_iter_init(&it, m->links);
        while (g_hash_table_iter_next(&it, NULL, &v))
                if (((const LinkInfo *) v)->component_id)
                        g_hash_table_insert(t, GUINT_TO_POINTER(((const LinkInfo *) v)->component_id), v);
        return t;
}

static int append_program_list(Request *req, sd_bus_message *reply) {
        g_autoptr(GPtrArray) list = hash_values(req->m->programs);
        g_autoptr(GHashTable) components = component_links(req->m);
        int r;

        g_ptr_array_sort(list, cmp_program_id);
        r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (guint i = 0; r >= 0 && i < list->len; i++)
                if (program_matches(req, g_ptr_array_index(list, i)))
                        r = append_program_dict(reply, req->m, g_ptr_array_index(list, i));
        for (size_t i = 0; r >= 0 && i < req->n_kernel; i++)
                if (!g_hash_table_contains(req->m->programs, GUINT_TO_POINTER(req->kernel[i].id)) &&
                    !req->filter_kind && !req->filter_has_owner) {
                        const LinkInfo *l = g_hash_table_lookup(components, GUINT_TO_POINTER(req->kernel[i].id));
                        r = l ? append_component_program_dict(reply, &req->kernel[i], l)
                              : append_kernel_program_dict(reply, &req->kernel[i]);
                }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int read_filter_all(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        int b, r = sd_bus_message_read_basic(m, 'b', &b);
        ((Request *) userdata)->filter_all = b;
        return r;
}

static int read_filter_kind(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        Request *req = userdata;
        int r = bus_read_string_checked(m, key, BPFD_NAME_MAX, &req->filter_kind, error);
        if (r >= 0 && kind_from_string(req->filter_kind) == KIND_INVALID)
                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT, "Unknown program kind '%s'.",
                                         req->filter_kind);
        return r;
}

static int read_filter_owner(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        Request *req = userdata;
        req->filter_has_owner = true;
        return sd_bus_message_read_basic(m, 'u', &req->filter_owner);
}

static int read_filter_program(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        return sd_bus_message_read_basic(m, 'u', (uint32_t *) userdata);
}

static const BusOption list_filter[] = {
        { "all", "b", read_filter_all },
        { "kind", "s", read_filter_kind },
        { "owner_uid", "u", read_filter_owner },
        {}
};

static const BusOption link_filter[] = {
        { "program_id", "u", read_filter_program },
        {}
};

int method_list_programs(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        Request *req = request_new(userdata, msg, OP_LIST_KERNEL);
        int r;

        if (!req)
                return -ENOMEM;
        r = bus_read_options(msg, "filter", list_filter, req, error);
        if (r < 0 || req->filter_all) {
                /* Programs bpfd did not load can only be enumerated with privileges: the worker does it. */
                if (r < 0)
                        request_free(req);
                else
                        request_submit(req);
                return r < 0 ? r : 1;
        }
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_program_list(req, reply);
        request_free(req);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

int method_get_program(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        ProgramInfo *p;
        Request *req;
        uint32_t id;
        int r;

        r = sd_bus_message_read(msg, "u", &id);
        if (r < 0)
                return r;
        p = g_hash_table_lookup(m->programs, GUINT_TO_POINTER(id));
        if (!p) {
                req = request_new(m, msg, OP_GET_KERNEL);
                if (!req)
                        return -ENOMEM;
                req->id = id;
                request_submit(req);
                return 1;
        }
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_program_dict(reply, m, p);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int cmp_link_info(gconstpointer a, gconstpointer b) {
        const LinkInfo *x = *(LinkInfo *const *) a, *y = *(LinkInfo *const *) b;
        return x->id < y->id ? -1 : x->id > y->id;
}

int method_list_links(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        g_autoptr(GPtrArray) list = hash_values(m->links);
        uint32_t program_id = 0;
        int r;

        r = bus_read_options(msg, "filter", link_filter, &program_id, error);
        if (r < 0)
                return r;
        g_ptr_array_sort(list, cmp_link_info);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (guint i = 0; r >= 0 && i < list->len; i++) {
                LinkInfo *l = g_ptr_array_index(list, i);
                if (program_id == 0 || l->program_id == program_id)
                        r = append_link_dict(reply, l);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

int method_get_link(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        LinkInfo *l;
        uint32_t id;
        int r;

        r = sd_bus_message_read(msg, "u", &id);
        if (r < 0)
                return r;
        l = g_hash_table_lookup(m->links, GUINT_TO_POINTER(id));
        if (!l)
                return sd_bus_error_setf(error, BPFD_ERROR_LINK_NOT_FOUND, "No link %" PRIu32 " is managed by bpfd.", id);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_link_dict(reply, l);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}
