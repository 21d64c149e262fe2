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

static inline void closedirp_wrap(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

static const char *const status_names[_SPEC_STATUS_MAX] = { "Applied", "Pending", "Failed" };

const char *spec_status_to_string(SpecStatus s) {
        return s >= 0 && s < _SPEC_STATUS_MAX ? status_names[s] : "Failed";
}

static void spec_state_free(void *p) {
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

static char *spec_file_path(SpecStore *s, const char *name, const char *suffix) {
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

static GArray *get_ids(GKeyFile *kf, const char *group, const char *key) {
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

static void pending_load(SpecStore *s, const char *name) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        _cleanup_free_ char *path = spec_file_path(s, name, "pending");
        _cleanup_(engine_error_done) EngineError error = ENGINE_ERROR_NULL;
        g_autofree gchar *origin = NULL, *waiting = NULL;
        g_autofree gint *gids = NULL;
        gsize n_gids = 0;
        SpecState *st = g_hash_table_lookup(s->specs, name);
        Spec *spec = calloc(1, sizeof(Spec));

        if (!spec || !path || !g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL)) {
                free(spec);
                return;
        }
        if (!st && (st = spec_state_new(name))) {
                st->status = SPEC_PENDING;
                st->owner_uid = (uid_t) g_key_file_get_uint64(kf, "Pending", "Uid", NULL);
                g_hash_table_replace(s->specs, st->name, st);
        }
        if (!st) {
                free(spec);
                return;
        }
        st->desired_caller.uid = (uid_t) g_key_file_get_uint64(kf, "Pending", "Uid", NULL);
        st->desired_caller.gid = (gid_t) g_key_file_get_uint64(kf, "Pending", "Gid", NULL);
        gids = g_key_file_get_integer_list(kf, "Pending", "Groups", &n_gids, NULL);
        if (n_gids && (st->desired_caller.gids = calloc(n_gids, sizeof(gid_t)))) {
                for (gsize i = 0; i < n_gids; i++)
                        st->desired_caller.gids[i] = (gid_t) gids[i];
                st->desired_caller.n_gids = n_gids;
        }
        origin = g_key_file_get_string(kf, "Pending", "Origin", NULL);
        waiting = g_key_file_get_string(kf, "Pending", "WaitingFor", NULL);
        spec_set_str(&st->desired_origin, origin);
        (void) g_key_file_remove_group(kf, "Pending", NULL);
        if (spec_from_keyfile(kf, name, spec, &error) < 0) {
                log_warning("The pending spec %s does not read back (%s); it is dropped.", name,
                            error.message ?: "out of memory");
                free(spec);
                spec_record_remove(s, name, "pending");
                return;
        }
        st->desired = spec;
        st->status = SPEC_PENDING;
        spec_set_str(&st->waiting_for, waiting);
        st->waiting_kind = g_key_file_get_integer(kf, "Pending", "WaitingKind", NULL);
        if (st->waiting_kind <= SPEC_WAIT_NONE || st->waiting_kind > SPEC_WAIT_IMAGE)
                st->waiting_kind = SPEC_WAIT_INTERFACE;
        if (!st->applied)
                spec_set_str(&st->origin, origin);
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

/* ---- recovery ---- */

static SpecState *record_load(SpecStore *s, const char *name, GArray **ret_unload, GArray **ret_detach,
                              bool *ret_removing) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        _cleanup_free_ char *path = spec_file_path(s, name, "conf");
        _cleanup_(engine_error_done) EngineError error = ENGINE_ERROR_NULL;
        g_auto(GStrv) keys = NULL;
        g_autofree gchar *status = NULL, *origin = NULL, *err = NULL, *waiting = NULL;
        SpecState *st;

        if (!path || !g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL) ||
            !(st = spec_state_new(name)))
                return NULL;
        st->owner_uid = (uid_t) g_key_file_get_uint64(kf, "Record", "Owner", NULL);
        st->generation = g_key_file_get_uint64(kf, "Record", "Generation", NULL);
        origin = g_key_file_get_string(kf, "Record", "Origin", NULL);
        err = g_key_file_get_string(kf, "Record", "Error", NULL);
        waiting = g_key_file_get_string(kf, "Record", "WaitingFor", NULL);
        status = g_key_file_get_string(kf, "Record", "Status", NULL);
        spec_set_str(&st->origin, origin);
        spec_set_str(&st->error, err);
        spec_set_str(&st->waiting_for, waiting);
        st->status = status && streq(status, "Applied") ? SPEC_APPLIED : status && streq(status, "Pending") ? SPEC_PENDING : SPEC_FAILED;
        *ret_removing = g_key_file_get_boolean(kf, "Record", "Removing", NULL);
        *ret_unload = get_ids(kf, "Record", "Unload");
        *ret_detach = get_ids(kf, "Record", "Detach");
        keys = g_key_file_get_keys(kf, "Programs", NULL, NULL);
        for (char **k = keys; k && *k; k++)
                g_hash_table_replace(st->objects, g_strdup(*k), get_ids(kf, "Programs", *k));
        g_strfreev(keys);
        keys = g_key_file_get_keys(kf, "Links", NULL, NULL);
        for (char **k = keys; k && *k; k++)
                g_hash_table_replace(st->links, g_strdup(*k),
                                     GUINT_TO_POINTER((guint32) g_key_file_get_uint64(kf, "Links", *k, NULL)));
        (void) g_key_file_remove_group(kf, "Record", NULL);
        (void) g_key_file_remove_group(kf, "Programs", NULL);
        (void) g_key_file_remove_group(kf, "Links", NULL);
        st->applied = calloc(1, sizeof(Spec));
        if (!st->applied || spec_from_keyfile(kf, name, st->applied, &error) < 0) {
                log_warning("The record of spec %s does not read back (%s); it is dropped.", name,
                            error.message ?: "out of memory");
                st->applied = mfree(st->applied);
        }
        return st;
}

/* An apply that did not reach its commit: what it made goes, by the metadata of the programs and the links
 * on the spec's own programs. */
static void rollback_journal(Engine *e, const char *name, SpecState *st) {
        _cleanup_free_ ProgramInfo **programs = NULL;
        _cleanup_free_ LinkInfo **links = NULL;
        size_t n_programs = 0, n_links = 0;
        g_autoptr(GArray) keep = g_array_new(false, false, sizeof(guint32));
        GHashTableIter it;
        gpointer v;

        if (st) {
                g_hash_table_iter_init(&it, st->objects);
                while (g_hash_table_iter_next(&it, NULL, &v))
                        g_array_append_vals(keep, ((GArray *) v)->data, ((GArray *) v)->len);
        }
        if (engine_snapshot(e, &programs, &n_programs, &links, &n_links) < 0)
                return;
        for (size_t i = 0; i < n_links; i++) {
                bool named = false;
                if (st) {
                        g_hash_table_iter_init(&it, st->links);
                        while (g_hash_table_iter_next(&it, NULL, &v))
                                named = named || GPOINTER_TO_UINT(v) == links[i]->id;
                }
                if (spec_ids_contain(keep, links[i]->program_id) && !named) {
                        log_info("Spec %s: link %" PRIu32 " was made by an interrupted apply; detaching it.", name,
                                 links[i]->id);
                        spec_detach_quietly(e, links[i]->id, NULL);
                }
        }
        for (size_t i = 0; i < n_programs; i++) {
                bool ours = false;
                for (char **m = programs[i]->metadata; m && m[0] && m[1]; m += 2)
                        ours = ours || (streq(m[0], SPEC_METADATA_NAME) && streq(m[1], name));
                if (ours && !spec_ids_contain(keep, programs[i]->id)) {
                        log_info("Spec %s: program %" PRIu32 " was loaded by an interrupted apply; unloading it.",
                                 name, programs[i]->id);
                        spec_unload_quietly(e, programs[i]->id, NULL);
                }
        }
        for (size_t i = 0; i < n_programs; i++)
                program_info_unref(programs[i]);
        for (size_t i = 0; i < n_links; i++)
                link_info_unref(links[i]);
}

int spec_store_recover(SpecStore *s, Engine *e, SpecView ***ret_views, size_t *ret_n) {
        g_autoptr(GPtrArray) journals = g_ptr_array_new_with_free_func(free);
        g_autoptr(GPtrArray) pending = g_ptr_array_new_with_free_func(free);
        _cleanup_(closedirp_wrap) DIR *d = opendir(s->dir);
        SpecView **views;
        struct dirent *de;
        GHashTableIter it;
        gpointer v;
        size_t n = 0;

        while (d && (de = readdir(d))) {
                size_t len = strlen(de->d_name);
                if (len > 8 && streq(de->d_name + len - 8, ".journal"))
                        g_ptr_array_add(journals, strndup(de->d_name, len - 8));
                else if (len > 8 && streq(de->d_name + len - 8, ".pending"))
                        g_ptr_array_add(pending, strndup(de->d_name, len - 8));
                else if (len > 5 && streq(de->d_name + len - 5, ".conf")) {
                        _cleanup_free_ char *name = strndup(de->d_name, len - 5);
                        g_autoptr(GArray) unload = NULL, detach = NULL;
                        bool removing = false;
                        SpecState *st = name ? record_load(s, name, &unload, &detach, &removing) : NULL;

                        if (!st)
                                continue;
                        /* A commit whose clean-up was interrupted: finish it. */
                        for (guint i = 0; i < detach->len; i++)
                                spec_detach_quietly(e, g_array_index(detach, guint32, i), NULL);
                        for (guint i = 0; i < unload->len; i++)
                                spec_unload_quietly(e, g_array_index(unload, guint32, i), NULL);
                        if (removing) {
                                spec_record_remove(s, name, "conf");
                                spec_state_free(st);
                                continue;
                        }
                        if ((unload->len || detach->len) && spec_record_save(s, st, NULL, NULL, false) < 0)
                                log_warning("Cannot rewrite the record of spec %s.", name);
                        g_hash_table_replace(s->specs, st->name, st);
                }
        }
        for (guint i = 0; i < journals->len; i++) {
                const char *name = g_ptr_array_index(journals, i);
                _cleanup_free_ char *path = spec_file_path(s, name, "journal");
                g_autoptr(GKeyFile) kf = g_key_file_new();
                SpecState *st = g_hash_table_lookup(s->specs, name);
                uint64_t gen = 0;

                if (path && g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
                        gen = g_key_file_get_uint64(kf, "Journal", "Generation", NULL);
                if (!st || st->generation < gen) {
                        g_auto(GStrv) swapped = g_key_file_get_string_list(kf, "Journal", "Swapped", NULL, NULL);

                        rollback_journal(e, name, st);
                        /* XDP links the apply had detached to make room come back. */
                        for (char **n = swapped; st && n && *n; n++)
                                (void) spec_reattach(e, st, *n, NULL);
                        if (st && swapped && spec_record_save(s, st, NULL, NULL, false) < 0)
                                log_warning("Cannot rewrite the record of spec %s.", name);
                }
                spec_record_remove(s, name, "journal");
        }
        for (guint i = 0; i < pending->len; i++)
                pending_load(s, g_ptr_array_index(pending, i));
        views = calloc(g_hash_table_size(s->specs) + 1, sizeof(SpecView *));
        if (!views)
                return -ENOMEM;
        g_hash_table_iter_init(&it, s->specs);
        while (g_hash_table_iter_next(&it, NULL, &v))
                if ((views[n] = spec_state_view(v)))
                        n++;
        *ret_views = views;
        *ret_n = n;
        return 0;
}

