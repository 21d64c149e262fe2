/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.bpfd.Spec and the Manager's ApplySpec/RemoveSpec. An apply goes: the a{sv} read into a key file and
 * checked (here, without privileges) → the caller from the bus → polkit's org.bpfd.apply → the worker plans
 * (the diff, and inspects the objects to load, opened as the caller) → for objects from images: polkit's
 * pull question, the puller, the worker inspects them (bus-spec-pull.c) → polkit, with every load and
 * attach the apply causes → the worker executes the plan (spec-apply.c) → the reply and the views. */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "bus-spec-internal.h"
#include "bus-util.h"
#include "checks.h"
#include "credentials.h"
#include "interface-watch.h"
#include "shutdown.h"
#include "errors.h"
#include "image-puller.h"
#include "log.h"
#include "spec-file.h"
#include "utf8.h"

static void spec_job_free(SpecJob *j) {
        image_pull_free(j->pull);
        sd_bus_slot_unref(j->slot);
        sd_bus_message_unref(j->msg);
        spec_apply_free(j->a);
        authorization_done(&j->auth);
        j->m->requests_in_flight--;
        manager_note_activity(j->m);
        free(j);
}

static void spec_job_run(Job *job, Engine *e);
static void spec_job_done(Job *job);

SpecJob *spec_job_new(Manager *m, sd_bus_message *msg, SpecOp op, const char *name) {
        SpecJob *j = calloc(1, sizeof(SpecJob));

        if (!j)
                return NULL;
        *j = (SpecJob) { .job = { .run = spec_job_run, .done = spec_job_done }, .m = m, .op = op, .started_as = op,
                         .msg = sd_bus_message_ref(msg), .a = calloc(1, sizeof(SpecApply)) };
        authorization_init(&j->auth);
        /* Jobs of the spec directory and retries too: one may wait for the puller on the bus thread, and bpfd
         * must not exit when idle meanwhile. */
        m->requests_in_flight++;
        if (j->a)
                j->a->caller = CALLER_NULL;
        if (!j->a || !(j->a->name = strdup(name)) || !(j->a->origin = strdup(""))) {
                spec_job_free(j);
                return NULL;
        }
        return j;
}

static void spec_job_fail(SpecJob *j, const char *name, const char *fmt, ...) _printf_(3, 4);
static void spec_job_fail(SpecJob *j, const char *name, const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        if (j->msg) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                (void) sd_bus_error_set(&e, name, text ?: "Out of memory.");
                (void) bpfd_reply_error(j->msg, &e);
        }
        spec_job_free(j);
}

char *spec_object_path(const char *name) {
        char *p = NULL;
        return sd_bus_path_encode(SPEC_PATH_PREFIX, name, &p) < 0 ? NULL : p;
}

/* ---- the views ---- */

static void view_set(SpecManager *s, SpecView *v) {
        _cleanup_free_ char *path = spec_object_path(v->name);
        bool existed = g_hash_table_contains(s->views, v->name);

        g_hash_table_replace(s->views, v->name, v);
        if (!path)
                return;
        if (existed)
                (void) sd_bus_emit_properties_changed(s->m->bus, path, "org.bpfd.Spec", "Status", "Error", "WaitingFor",
                                                      "Programs", "Links", "Generation", "Description", "OwnerUid",
                                                      "Origin", NULL);
        else
                (void) sd_bus_emit_object_added(s->m->bus, path);
}

static void view_remove(SpecManager *s, const char *name) {
        _cleanup_free_ char *path = spec_object_path(name);

        if (!g_hash_table_contains(s->views, name))
                return;
        if (path)
                (void) sd_bus_emit_object_removed(s->m->bus, path);
        g_hash_table_remove(s->views, name);
}

/* The programs and links an apply made or removed reach the view through the engine's changes; their
 * interfaces are read again. */
static void apply_to_view(Manager *m, SpecApply *a) {
        bool net = false;

        for (size_t i = 0; i < a->n_added_links; i++)
                net = net || a->added_links[i]->ifindex;
        if ((a->n_added_programs || a->n_added_links || a->n_removed_links || a->n_removed_programs) &&
            (net || a->n_removed_links))
                manager_scan_interfaces(m);
}

/* ---- the worker's part ---- */

/* One polkit question as one string, to compare questions asked at different times. */
static char *question_string(char **check) {
        return g_strjoinv("\x1f", check);
}

/* The questions of the loads and attaches a plan causes: a load's as for LoadFrom* (the maps it shares are the
 * spec's own), its attach targets' org.bpfd.attach included, then the attaches of kept programs. */
static void add_plan_questions(SpecJob *j, Authorization *auth) {
        SpecApply *a = j->a;
        uid_t uid = a->caller.uid;

        for (size_t i = 0; i < a->spec_objects; i++)
                if (a->loads[i])
                        checks_add_load(auth, a->loads[i], uid, a->loads[i]->map_owner_id != 0, uid, "spec", a->name);
        for (size_t i = 0; i < a->n_attaches; i++) {
                const SpecAttachPlan *ap = &a->attaches[i];
                authorization_add(auth, &(CheckSpec) {
                        .action = "org.bpfd.attach", .operation = "attach", .kind = ap->target.kind,
                        .program_name = ap->program->name, .target = &ap->target, .owner_uid = uid,
                        .attach_type = attach_type_detail(ap->target.kind, ap->program->expected_attach_type,
                                                          &ap->target) }, "spec", a->name);
        }
}

/* A user's pending spec is applied again with nobody to ask (the caller may be long gone): only if every
 * question its new plan would ask was answered yes when it was applied. Its files are opened and inspected
 * anew, so a changed object or target would otherwise be loaded and attached without polkit. */
static bool retry_was_approved(SpecJob *j) {
        Authorization questions;
        bool ok;

        if (j->a->caller.uid == 0)
                return true; /* root needs no polkit answer */
        authorization_init(&questions);
        add_plan_questions(j, &questions);
        ok = !questions.incomplete && j->a->approved;
        for (guint i = 0; ok && i < questions.checks->len; i++) {
                _cleanup_free_ char *q = question_string(g_ptr_array_index(questions.checks, i));
                ok = q && g_strv_contains((const char *const *) j->a->approved, q);
        }
        authorization_done(&questions);
        if (!ok)
                (void) engine_error_setf(&j->a->error, BPFD_ERR_PERMISSION_DENIED,
                                         "Spec %s was to be applied again now that what it waited for is there, but "
                                         "it would load or attach what polkit was not asked about when it was applied "
                                         "(its files changed, or bpfd restarted since): apply it again.", j->a->name);
        return ok;
}

static void spec_job_run(Job *job, Engine *e) {
        SpecJob *j = (SpecJob *) job;
        SpecStore *store = j->m->specs->store;
        SpecApply *a = j->a;

        /* Objects from images stop the plan half way: the bus thread pulls them (spec_job_pull()), then
         * SPEC_OP_INSPECT goes on where the job would have gone. */
        switch (j->op) {
        case SPEC_OP_PLAN:
                if (spec_plan(store, e, a) >= 0 && !a->pulls_needed && a->caller.uid == 0) {
                        j->op = SPEC_OP_EXECUTE; /* root needs no polkit answer */
                        (void) spec_execute(store, e, a);
                }
                break;
        case SPEC_OP_PLAN_EXECUTE:
                if (spec_plan(store, e, a) < 0)
                        (void) spec_plan_failed(store, a);
                else if (!a->pulls_needed)
                        (void) spec_execute(store, e, a);
                break;
        case SPEC_OP_RETRY:
                if (spec_retry_plan(store, e, a) > 0 && !a->pulls_needed) {
                        if (retry_was_approved(j))
                                (void) spec_execute(store, e, a);
                        else
                                (void) spec_set_failed(store, a);
                }
                break;
        case SPEC_OP_INSPECT:
                if (spec_inspect_pulled(store, e, a) < 0) {
                        if (j->started_as != SPEC_OP_PLAN) /* root's directory, a retry: the status says why */
                                (void) spec_plan_failed(store, a);
                } else if (!j->msg && !retry_was_approved(j)) {
                        (void) spec_set_failed(store, a);
                } else if (!j->msg || a->caller.uid == 0) {
                        j->op = SPEC_OP_EXECUTE;
                        (void) spec_execute(store, e, a);
                }
                break;
        case SPEC_OP_FAIL:
                (void) spec_set_failed(store, a);
                break;
        case SPEC_OP_EXECUTE:
                (void) spec_execute(store, e, a);
                break;
        case SPEC_OP_REMOVE:
                (void) spec_remove(store, e, a);
                break;
        }
}

static void spec_job_finish(SpecJob *j) {
        SpecManager *s = j->m->specs;
        SpecApply *a = j->a;
        _cleanup_free_ char *path = spec_object_path(a->name);

        apply_to_view(j->m, a);
        if (j->started_as == SPEC_OP_RETRY)
                g_hash_table_remove(s->retrying, a->name);
        if (j->op == SPEC_OP_REMOVE && !engine_error_is_set(&a->error))
                view_remove(s, a->name);
        else if (a->view)
                view_set(s, TAKE_PTR(a->view));
        if (j->msg) {
                if (engine_error_is_set(&a->error))
                        (void) bpfd_reply_engine_error(j->msg, &a->error);
                else if (j->op == SPEC_OP_REMOVE)
                        (void) sd_bus_reply_method_return(j->msg, NULL);
                else
                        (void) sd_bus_reply_method_return(j->msg, "o", path);
        } else if (engine_error_is_set(&a->error))
                log_warning("Spec %s: %s", a->name, a->error.message);
        spec_job_free(j);
}

/* One question of an apply: every detail a question of a load or attach carries (polkit-details.c), and the
 * spec's name. A question that cannot be made fails the job closed (the checks are incomplete otherwise). */
void spec_add_check(SpecJob *j, const CheckSpec *spec) {
        authorization_add(&j->auth, spec, "spec", j->a->name);
}

/* After the plan: the same questions as the loads and attaches the apply causes. */
static void authorize_plan(SpecJob *j) {
        SpecApply *a = j->a;

        /* The spec got another owner between the first questions and the plan: ask about that too. */
        if (a->exists && !caller_owns(&a->caller, a->owner_uid) && !j->asked_manage_others)
                spec_add_check(j, &(CheckSpec) { .action = "org.bpfd.manage-others", .operation = "apply",
                                                 .kind = KIND_INVALID, .owner_uid = a->owner_uid });
        add_plan_questions(j, &j->auth);
        j->op = SPEC_OP_EXECUTE;
        spec_authorize_next(j);
}

static void on_authorized(void *userdata, AuthorizationResult result, int authorized, const sd_bus_error *error,
                          char **check) {
        SpecJob *j = userdata;
        void (*then)(SpecJob *j);

        switch (result) {
        case AUTHORIZATION_INCOMPLETE:
                /* A question that could not be made refuses: authorization fails closed. */
                return spec_job_fail(j, BPFD_ERROR_FAILED, "Out of memory while asking polkit.");
        case AUTHORIZATION_CANNOT_ASK:
                return spec_job_fail(j, BPFD_ERROR_FAILED, "Cannot ask polkit: %s", strerror(-authorized));
        case AUTHORIZATION_REFUSED:
                assert(check);
                if (error)
                        log_warning("polkit could not decide on %s: %s", check[0], error->message);
                return spec_job_fail(j, BPFD_ERROR_PERMISSION_DENIED,
                                     "This user is not allowed to apply spec %s: polkit action %s (%s%s%s)%s.", j->a->name,
                                     check[0], check[2], check[6] && *check[6] ? " " : "", strempty(check[6]),
                                     authorized == -EKEYREJECTED ? "; authentication is required and was not allowed for this call"
                                     : error                     ? "; polkit did not answer"
                                                                 : "");
        case AUTHORIZATION_YES:
                break;
        }
        /* What a user's spec may do when it is applied again without anybody to ask (retry_was_approved()). */
        if (j->a->caller.uid != 0 && j->auth.checks) {
                g_strfreev(j->a->approved);
                j->a->approved = g_new0(char *, j->auth.checks->len + 1);
                for (guint i = 0; i < j->auth.checks->len; i++)
                        j->a->approved[i] = question_string(g_ptr_array_index(j->auth.checks, i));
        }
        then = TAKE_PTR(j->authorized);
        if (then)
                then(j);
        else
                worker_submit(j->m->worker, &j->job);
}

/* The questions not asked yet; root, and jobs without a caller (root's directory, retries of what polkit
 * allowed), ask nothing. */
void spec_authorize_next(SpecJob *j) {
        authorization_run(&j->auth, j->m->bus, j->msg, j->msg && j->a->caller.uid != 0, on_authorized, j);
}

static void spec_job_done(Job *job) {
        SpecJob *j = (SpecJob *) job;

        if (j->a->pulls_needed && !engine_error_is_set(&j->a->error)) {
                spec_job_pull(j);
                return;
        }
        if (j->msg && (j->op == SPEC_OP_PLAN || j->op == SPEC_OP_INSPECT)) {
                if (engine_error_is_set(&j->a->error)) {
                        (void) bpfd_reply_engine_error(j->msg, &j->a->error);
                        spec_job_free(j);
                        return;
                }
                authorize_plan(j);
                return;
        }
        spec_job_finish(j);
}

/* ---- the caller, from the bus daemon ---- */

static void after_credentials(SpecJob *j) {
        SpecView *v;

        if (j->op == SPEC_OP_REMOVE) {
                v = g_hash_table_lookup(j->m->specs->views, j->a->name);
                if (!v)
                        return spec_job_fail(j, bpfd_error_name(BPFD_ERR_SPEC_NOT_FOUND),
                                             "No spec %s is known to bpfd.", j->a->name);
                j->a->owner_uid = v->owner_uid;
                j->a->generation = v->generation;
                /* Owners remove their own specs, as they unload their own programs. */
                if (!caller_owns(&j->a->caller, v->owner_uid))
                        spec_add_check(j, &(CheckSpec) { .action = "org.bpfd.manage-others", .operation = "remove",
                                                         .kind = KIND_INVALID, .owner_uid = v->owner_uid });
                spec_authorize_next(j);
                return;
        }
        /* org.bpfd.apply first: a caller who may not apply specs makes bpfd open and parse nothing. */
        spec_add_check(j, &(CheckSpec) { .action = "org.bpfd.apply", .operation = "apply", .kind = KIND_INVALID,
                                         .owner_uid = j->a->caller.uid });
        v = g_hash_table_lookup(j->m->specs->views, j->a->name);
        if (v && !caller_owns(&j->a->caller, v->owner_uid)) {
                spec_add_check(j, &(CheckSpec) { .action = "org.bpfd.manage-others", .operation = "apply",
                                                 .kind = KIND_INVALID, .owner_uid = v->owner_uid });
                j->asked_manage_others = true;
        }
        spec_authorize_next(j); /* then the plan */
}

static void on_credentials(void *userdata, BpfdError code, const char *message) {
        SpecJob *j = userdata;

        j->slot = sd_bus_slot_unref(j->slot);
        if (message)
                return spec_job_fail(j, bpfd_error_name(code), "%s", message);
        after_credentials(j);
}

/* The caller, as requests get it (request/credentials.c): from the bus daemon, and still with those ids. */
static int spec_job_start(SpecJob *j) {
        int r = credentials_acquire(j->m, j->msg, &j->a->caller, on_credentials, j, &j->slot);

        if (r < 0)
                spec_job_free(j);
        return r;
}

/* ---- methods ---- */

static int read_spec_name(sd_bus_message *msg, const char **ret, sd_bus_error *error) {
        int r = sd_bus_message_read(msg, "s", ret);
        if (r < 0)
                return r;
        if (!spec_name_valid(*ret))
                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT,
                                         "'%.*s' is not a spec name (1 to %u letters, digits, '_', '-', '.', not "
                                         "starting with '.' or '-').", UTF8_CUT(*ret, 64), SPEC_NAME_MAX);
        return 0;
}

int method_apply_spec(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        g_autoptr(GKeyFile) kf = g_key_file_new();
        _cleanup_free_ char *parse_error = NULL;
        _cleanup_(engine_error_done) EngineError parse_failure = ENGINE_ERROR_NULL;
        const char *name;
        Spec *spec;
        SpecJob *j;
        int r;

        r = read_spec_name(msg, &name, error);
        if (r < 0)
                return r;
        r = spec_keyfile_read(msg, kf, &parse_error);
        if (r < 0)
                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT, "Spec %s: %s", name,
                                         parse_error ?: "cannot be read.");
        spec = calloc(1, sizeof(Spec));
        if (!spec)
                return -ENOMEM;
        r = spec_from_keyfile(kf, name, spec, &parse_failure);
        if (r < 0) {
                free(spec);
                /* The spec domain says why; here it becomes org.bpfd.Error.* (the one place for specs). */
                return engine_error_is_set(&parse_failure) ? bus_error_from_engine(error, &parse_failure) : r;
        }
        j = spec_job_new(m, msg, SPEC_OP_PLAN, name);
        if (!j) {
                spec_free(spec);
                return -ENOMEM;
        }
        j->a->spec = spec;
        return spec_job_start(j);
}

int method_remove_spec(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *name;
        SpecJob *j;
        int r;

        r = read_spec_name(msg, &name, error);
        if (r < 0)
                return r;
        j = spec_job_new(userdata, msg, SPEC_OP_REMOVE, name);
        if (!j)
                return -ENOMEM;
        return spec_job_start(j);
}

static int append_spec_dict(sd_bus_message *reply, const void *value) {
        const SpecView *v = value;
        _cleanup_free_ char *path = spec_object_path(v->name);
        int r;

        if (!path)
                return -ENOMEM;
        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = bus_append_dict_entry(reply, "name", "s", v->name);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "description", "s", v->description);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "status", "s", spec_status_to_string(v->status));
        if (r >= 0)
                r = bus_append_dict_entry(reply, "error", "s", v->error);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "waiting_for", "s", v->waiting_for);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "owner_uid", "u", (uint32_t) v->owner_uid);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "origin", "s", v->origin);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "generation", "t", v->generation);
        for (int i = 0; r >= 0 && i < 2; i++) {
                r = sd_bus_message_open_container(reply, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append_basic(reply, 's', i == 0 ? "programs" : "links");
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'v', "au");
                if (r >= 0)
                        r = sd_bus_message_append_array(reply, 'u', i == 0 ? v->programs : v->links,
                                                        (i == 0 ? v->n_programs : v->n_links) * sizeof(uint32_t));
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = bus_append_dict_entry(reply, "object_path", "o", path);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int cmp_view_name(gconstpointer a, gconstpointer b) {
        return strcmp((*(SpecView *const *) a)->name, (*(SpecView *const *) b)->name);
}

/* The specs in name order, from the view: no trip to the worker. */
int method_list_specs(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        assert(m && m->specs);
        return bus_reply_sorted_dicts(msg, m->specs->views, cmp_view_name, append_spec_dict, error);
}

/* ---- the objects ---- */

int spec_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                     sd_bus_error *error) {
        SpecManager *s = ((Manager *) userdata)->specs;
        _cleanup_free_ char *name = NULL;
        SpecView *v;

        if (sd_bus_path_decode(path, SPEC_PATH_PREFIX, &name) <= 0 || !(v = g_hash_table_lookup(s->views, name)))
                return 0;
        *found = v;
        return 1;
}

int spec_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        SpecManager *s = ((Manager *) userdata)->specs;
        char **l = calloc(g_hash_table_size(s->views) + 1, sizeof(char *));
        GHashTableIter it;
        gpointer k;
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        g_hash_table_iter_init(&it, s->views);
        while (g_hash_table_iter_next(&it, &k, NULL))
                if ((l[n] = spec_object_path(k)))
                        n++;
        *nodes = l;
        return 1;
}

static int spec_get_status(PROPERTY_GETTER_ARGS) {
        return sd_bus_message_append(reply, "s", spec_status_to_string(((SpecView *) userdata)->status));
}

static int spec_get_ids(PROPERTY_GETTER_ARGS) {
        SpecView *v = userdata;
        bool programs = streq(property, "Programs");
        return sd_bus_message_append_array(reply, 'u', programs ? v->programs : v->links,
                                           (programs ? v->n_programs : v->n_links) * sizeof(uint32_t));
}

#define SPEC_PROPERTY(name, sig, getter, offset)                                                                  \
        SD_BUS_PROPERTY(name, sig, getter, offset, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

const sd_bus_vtable spec_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(SpecView, name), SD_BUS_VTABLE_PROPERTY_CONST),
        SPEC_PROPERTY("Description", "s", NULL, offsetof(SpecView, description)),
        SPEC_PROPERTY("Status", "s", spec_get_status, 0),
        SPEC_PROPERTY("Error", "s", NULL, offsetof(SpecView, error)),
        SPEC_PROPERTY("WaitingFor", "s", NULL, offsetof(SpecView, waiting_for)),
        SPEC_PROPERTY("OwnerUid", "u", NULL, offsetof(SpecView, owner_uid)),
        SPEC_PROPERTY("Origin", "s", NULL, offsetof(SpecView, origin)),
        SPEC_PROPERTY("Generation", "t", NULL, offsetof(SpecView, generation)),
        SPEC_PROPERTY("Programs", "au", spec_get_ids, 0),
        SPEC_PROPERTY("Links", "au", spec_get_ids, 0),
        SD_BUS_VTABLE_END
};
