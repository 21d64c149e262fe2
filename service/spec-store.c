/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include "engine-error.h"
#include "log.h"
#include "spec-store.h"
#include "engine-lifecycle.h"

static const char *const status_names[_SPEC_STATUS_MAX] = { "Applied", "Pending", "Failed" };

const char *spec_status_to_string(SpecStatus s) {
        return s >= 0 && s < _SPEC_STATUS_MAX ? status_names[s] : "Failed";
}

void spec_state_free(void *p) {
        SpecState *st = p;

        free(st->name);
        free(st->origin);
        spec_free(st->applied);
        g_hash_table_unref(st->objects);
        g_hash_table_unref(st->links);
        free(st->error);
        free(st->waiting_for);
        spec_free(st->desired);
        caller_done(&st->desired_caller);
        free(st->desired_origin);
        g_strfreev(st->desired_approved);
        free(st);
}

SpecState *spec_state_new(const char *name) {
        SpecState *st = calloc(1, sizeof(SpecState));

        if (!st || !(st->name = strdup(name))) {
                free(st);
                return NULL;
        }
        st->desired_caller = CALLER_NULL;
        st->objects = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref);
        st->links = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        st->origin = strdup("");
        st->error = strdup("");
        st->waiting_for = strdup("");
        return st;
}

void spec_set_str(char **field, const char *v) {
        free(*field);
        *field = strdup(strempty(v));
}

SpecView *spec_view_free(SpecView *v) {
        if (!v)
                return NULL;
        free(v->name);
        free(v->description);
        free(v->origin);
        free(v->error);
        free(v->waiting_for);
        free(v->programs);
        free(v->links);
        free(v);
        return NULL;
}

SpecView *spec_state_view(SpecState *st) {
        SpecView *v = calloc(1, sizeof(SpecView));
        GHashTableIter it;
        gpointer val;
        size_t n = 0;

        if (!v)
                return NULL;
        *v = (SpecView) { .name = strdup(st->name), .owner_uid = st->owner_uid, .origin = strdup(strempty(st->origin)),
                          .status = st->status, .error = strdup(strempty(st->error)),
                          .waiting_for = strdup(strempty(st->waiting_for)), .waiting_kind = st->waiting_kind,
                          .generation = st->generation,
                          .description = strdup(st->applied && st->applied->description ? st->applied->description : "") };
        g_hash_table_iter_init(&it, st->objects);
        while (g_hash_table_iter_next(&it, NULL, &val))
                n += ((GArray *) val)->len;
        v->programs = calloc(n + 1, sizeof(uint32_t));
        v->links = calloc(g_hash_table_size(st->links) + 1, sizeof(uint32_t));
        if (!v->name || !v->origin || !v->error || !v->waiting_for || !v->description || !v->programs || !v->links)
                return spec_view_free(v);
        /* in spec order, so the lists read like the spec */
        for (size_t i = 0; st->applied && i < st->applied->n_objects; i++) {
                GArray *ids = g_hash_table_lookup(st->objects, st->applied->objects[i].name);
                for (guint k = 0; ids && k < ids->len; k++)
                        v->programs[v->n_programs++] = g_array_index(ids, guint32, k);
        }
        for (size_t i = 0; st->applied && i < st->applied->n_attach; i++) {
                gpointer id;
                if (g_hash_table_lookup_extended(st->links, st->applied->attach[i].name, NULL, &id))
                        v->links[v->n_links++] = GPOINTER_TO_UINT(id);
        }
        return v;
}

int spec_store_new(const char *dir, SpecStore **ret) {
        SpecStore *s = calloc(1, sizeof(SpecStore));

        if (!s || !(s->dir = strdup(dir))) {
                free(s);
                return -ENOMEM;
        }
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                int r = -errno;
                free(s->dir);
                free(s);
                return r;
        }
        s->specs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, spec_state_free);
        *ret = s;
        return 0;
}

SpecStore *spec_store_free(SpecStore *s) {
        if (!s)
                return NULL;
        g_hash_table_unref(s->specs);
        free(s->dir);
        free(s);
        return NULL;
}

/* A test hook: BPFD_TEST_SPEC_CRASH=POINT kills bpfd at that point of an apply, as kill -9 would. */
void spec_crash_point(const char *point) {
        const char *want = getenv("BPFD_TEST_SPEC_CRASH");
        if (want && streq(want, point)) {
                log_warning("BPFD_TEST_SPEC_CRASH: killing bpfd at '%s'.", point);
                (void) raise(SIGKILL);
        }
}

/* ---- records and journals ---- */

char *spec_file_path(SpecStore *s, const char *name, const char *suffix) {
        char *p = NULL;
        return asprintf(&p, "%s/%s.%s", s->dir, name, suffix) < 0 ? NULL : p;
}

static void sync_dir(SpecStore *s) {
        _cleanup_close_ int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0)
                (void) fsync(fd);
}

static void set_ids(GKeyFile *kf, const char *group, const char *key, GArray *ids) {
        g_autofree gint *l = g_new0(gint, (ids ? ids->len : 0) + 1);
        for (guint i = 0; ids && i < ids->len; i++)
                l[i] = (gint) g_array_index(ids, guint32, i);
        g_key_file_set_integer_list(kf, group, key, l, ids ? ids->len : 0);
}

GArray *spec_record_get_ids(GKeyFile *kf, const char *group, const char *key) {
        gsize n = 0;
        g_autofree gint *l = g_key_file_get_integer_list(kf, group, key, &n, NULL);
        GArray *a = g_array_new(false, false, sizeof(guint32));
        for (gsize i = 0; l && i < n; i++) {
                guint32 v = (guint32) l[i];
                g_array_append_val(a, v);
        }
        return a;
}

/* unload/detach: what the committed state no longer has and is still to go (NULL: nothing). */
int spec_record_save(SpecStore *s, SpecState *st, GArray *unload, GArray *detach, bool removing) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        _cleanup_free_ char *path = spec_file_path(s, st->name, "conf");
        g_autofree gchar *data = NULL;
        GHashTableIter it;
        gpointer k, v;
        gsize size;

        if (!path)
                return -ENOMEM;
        g_key_file_set_uint64(kf, "Record", "Owner", st->owner_uid);
        g_key_file_set_string(kf, "Record", "Origin", strempty(st->origin));
        g_key_file_set_uint64(kf, "Record", "Generation", st->generation);
        g_key_file_set_string(kf, "Record", "Status", spec_status_to_string(st->status));
        g_key_file_set_string(kf, "Record", "Error", strempty(st->error));
        g_key_file_set_string(kf, "Record", "WaitingFor", strempty(st->waiting_for));
        g_key_file_set_boolean(kf, "Record", "Removing", removing);
        set_ids(kf, "Record", "Unload", unload);
        set_ids(kf, "Record", "Detach", detach);
        g_hash_table_iter_init(&it, st->objects);
        while (g_hash_table_iter_next(&it, &k, &v))
                set_ids(kf, "Programs", k, v);
        g_hash_table_iter_init(&it, st->links);
        while (g_hash_table_iter_next(&it, &k, &v))
                g_key_file_set_uint64(kf, "Links", k, GPOINTER_TO_UINT(v));
        if (st->applied)
                spec_to_keyfile(st->applied, kf);
        data = g_key_file_to_data(kf, &size, NULL);
        return write_file_atomic(path, data, size);
}

void spec_record_remove(SpecStore *s, const char *name, const char *suffix) {
        _cleanup_free_ char *path = spec_file_path(s, name, suffix);
        if (path && unlink(path) < 0 && errno != ENOENT)
                log_warning("Cannot remove %s: %m", path);
        sync_dir(s);
}

int spec_journal_write(SpecStore *s, const char *name, uint64_t generation, GPtrArray *swapped) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        _cleanup_free_ char *path = spec_file_path(s, name, "journal");
        g_autofree gchar *data = NULL;
        gsize size;

        if (!path)
                return -ENOMEM;
        g_key_file_set_uint64(kf, "Journal", "Generation", generation);
        if (swapped && swapped->len > 0)
                g_key_file_set_string_list(kf, "Journal", "Swapped", (const gchar *const *) swapped->pdata,
                                           swapped->len);
        data = g_key_file_to_data(kf, &size, NULL);
        return write_file_atomic(path, data, size);
}

/* A pending spec waits in NAME.pending: the spec and who applied it, so that it is still applied when its
 * interface comes after a restart. */
int spec_pending_save(SpecStore *s, SpecState *st) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        _cleanup_free_ char *path = spec_file_path(s, st->name, "pending");
        g_autofree gchar *data = NULL;
        g_autofree gint *gids = g_new0(gint, st->desired_caller.n_gids + 1);
        gsize size;

        if (!path || !st->desired)
                return -ENOMEM;
        g_key_file_set_uint64(kf, "Pending", "Uid", st->desired_caller.uid);
        g_key_file_set_uint64(kf, "Pending", "Gid", st->desired_caller.gid);
        for (size_t i = 0; i < st->desired_caller.n_gids; i++)
                gids[i] = (gint) st->desired_caller.gids[i];
        g_key_file_set_integer_list(kf, "Pending", "Groups", gids, st->desired_caller.n_gids);
        g_key_file_set_string(kf, "Pending", "Origin", strempty(st->desired_origin));
        g_key_file_set_string(kf, "Pending", "WaitingFor", strempty(st->waiting_for));
        g_key_file_set_integer(kf, "Pending", "WaitingKind", st->waiting_kind);
        spec_to_keyfile(st->desired, kf);
        data = g_key_file_to_data(kf, &size, NULL);
        return write_file_atomic(path, data, size);
}

/* ---- the status of an apply that did not happen ---- */

SpecState *spec_state_for(SpecStore *s, SpecApply *a) {
        SpecState *st = g_hash_table_lookup(s->specs, a->name);

        if (st)
                return st;
        st = spec_state_new(a->name);
        if (!st)
                return NULL;
        st->owner_uid = a->caller.uid;
        g_hash_table_replace(s->specs, st->name, st);
        return st;
}

/* The apply did not happen: the old state stays, the status says why. */
int spec_finish_unapplied(SpecStore *s, SpecApply *a, SpecStatus status, SpecWait kind, const char *waiting_for) {
        SpecState *st = spec_state_for(s, a);

        if (!st)
                return -ENOMEM;
        st->status = status;
        spec_set_str(&st->error, status == SPEC_FAILED ? a->error.message : "");
        spec_set_str(&st->waiting_for, waiting_for);
        st->waiting_kind = status == SPEC_PENDING ? kind : SPEC_WAIT_NONE;
        if (status == SPEC_PENDING) {
                spec_free(st->desired);
                st->desired = TAKE_PTR(a->spec);
                caller_done(&st->desired_caller);
                (void) caller_copy(&st->desired_caller, &a->caller);
                st->desired_caller.pid = 0; /* it may be gone when the interface comes */
                spec_set_str(&st->desired_origin, a->origin);
                g_strfreev(st->desired_approved);
                st->desired_approved = TAKE_PTR(a->approved);
                if (spec_pending_save(s, st) < 0)
                        log_warning("Cannot keep pending spec %s across restarts.", st->name);
        } else {
                st->desired = spec_free(st->desired);
                g_strfreev(st->desired_approved);
                st->desired_approved = NULL;
                spec_record_remove(s, st->name, "pending");
        }
        if (!st->applied)
                spec_set_str(&st->origin, a->origin);
        if (st->applied && spec_record_save(s, st, NULL, NULL, false) < 0)
                log_warning("Cannot write the record of spec %s.", st->name);
        a->view = spec_state_view(st);
        return status == SPEC_FAILED ? -EIO : 0;
}

int spec_set_failed(SpecStore *s, SpecApply *a) {
        if (!engine_error_is_set(&a->error))
                (void) engine_error_setf(&a->error, BPFD_ERR_FAILED, "The spec could not be applied.");
        return spec_finish_unapplied(s, a, SPEC_FAILED, SPEC_WAIT_NONE, NULL);
}

int spec_plan_failed(SpecStore *s, SpecApply *a) {
        BpfdError code = engine_error_is_set(&a->error) ? a->error.code : BPFD_ERR_FAILED;
        const SpecObject *o = a->spec && a->failed_pull > 0 && a->failed_pull <= a->spec->n_objects
                                      ? &a->spec->objects[a->failed_pull - 1] : NULL;
        const LoadRequest *lr = o && a->loads ? a->loads[a->failed_pull - 1] : NULL;

        if (lr && lr->image_ref && a->caller.uid == 0) {
                if (code == BPFD_ERR_REGISTRY_UNREACHABLE) {
                        log_info("Spec %s waits for registry %s to be reachable.", a->name, lr->image_registry);
                        return spec_finish_unapplied(s, a, SPEC_PENDING, SPEC_WAIT_NETWORK, lr->image_registry);
                }
                if (code == BPFD_ERR_IMAGE_NOT_CACHED && lr->pull_policy == 2 /* Never */) {
                        log_info("Spec %s waits for image %s to be pulled.", a->name, lr->image_ref);
                        return spec_finish_unapplied(s, a, SPEC_PENDING, SPEC_WAIT_IMAGE, lr->image_ref);
                }
        }
        return spec_finish_unapplied(s, a, SPEC_FAILED, SPEC_WAIT_NONE, NULL);
}

/* ---- undoing and finishing ---- */

static void note_removed_program(SpecApply *a, uint32_t id, uint32_t *gone, size_t n_gone) {
        uint32_t *l = a ? reallocarray(a->removed_programs, a->n_removed_programs + 1, sizeof(uint32_t)) : NULL;
        if (l) {
                a->removed_programs = l;
                l[a->n_removed_programs++] = id;
        }
        for (size_t i = 0; a && i < n_gone; i++) {
                l = reallocarray(a->removed_links, a->n_removed_links + 1, sizeof(uint32_t));
                if (!l)
                        break;
                a->removed_links = l;
                l[a->n_removed_links++] = gone[i];
        }
}

void spec_unload_quietly(Engine *e, uint32_t id, SpecApply *a) {
        _cleanup_(engine_error_done) EngineError error = ENGINE_ERROR_NULL;
        _cleanup_free_ uint32_t *gone = NULL;
        size_t n_gone = 0;
        ProgramInfo *p = engine_program_ref(e, id);

        if (!p)
                return; /* gone already (unloaded by hand, or by the step a crash interrupted) */
        program_info_unref(p);
        if (engine_unload(e, id, &gone, &n_gone, &error) < 0)
                log_warning("Cannot unload program %" PRIu32 ": %s", id, error.message);
        else
                note_removed_program(a, id, gone, n_gone);
}

void spec_detach_quietly(Engine *e, uint32_t id, SpecApply *a) {
        _cleanup_(engine_error_done) EngineError error = ENGINE_ERROR_NULL;

        if (!engine_link_exists(e, id))
                return;
        if (engine_detach(e, id, &error) < 0) {
                log_warning("Cannot detach link %" PRIu32 ": %s", id, error.message);
                return;
        }
        if (a) {
                uint32_t *l = reallocarray(a->removed_links, a->n_removed_links + 1, sizeof(uint32_t));
                if (l) {
                        a->removed_links = l;
                        l[a->n_removed_links++] = id;
                }
        }
}

bool spec_ids_contain(GArray *ids, uint32_t id) {
        for (guint i = 0; ids && i < ids->len; i++)
                if (g_array_index(ids, guint32, i) == id)
                        return true;
        return false;
}

void spec_ids_add(GArray *a, uint32_t id) {
        g_array_append_val(a, id);
}
