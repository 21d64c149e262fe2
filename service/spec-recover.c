/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Recovery of the spec store at startup (worker, after the engine's recovery): records whose clean-up was
 * interrupted are finished, journals of applies that did not commit are rolled back (and the XDP links they had
 * swapped out attached again), pending specs are read back. Above the store (spec-store.c) and the apply
 * (spec-apply.c), which it uses. */
#include <assert.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>

#include "engine-error.h"
#include "log.h"
#include "spec-recover.h"
#include "spec-store.h"

static inline void closedirp_wrap(DIR **d) {
        if (*d)
                (void) closedir(*d);
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
        *ret_unload = spec_record_get_ids(kf, "Record", "Unload");
        *ret_detach = spec_record_get_ids(kf, "Record", "Detach");
        keys = g_key_file_get_keys(kf, "Programs", NULL, NULL);
        for (char **k = keys; k && *k; k++)
                g_hash_table_replace(st->objects, g_strdup(*k), spec_record_get_ids(kf, "Programs", *k));
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

