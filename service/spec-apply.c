/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>

#include "engine-error.h"
#include "log.h"
#include "spec-store.h"
#include "engine-lifecycle.h"
#include "engine-load.h"
/* ---- execute ---- */

static bool is_net_kind(Kind k) {
        return IN_SET2(k, KIND_XDP, KIND_TC) || k == KIND_TCX;
}

/* A network attachment in bpfd's own namespace whose interface is not there (yet). */
static const char *missing_interface(const AttachTarget *t) {
        return is_net_kind(t->kind) && t->interface && !t->netns && if_nametoindex(t->interface) == 0 ? t->interface
                                                                                                     : NULL;
}


static int push_program(SpecApply *a, ProgramInfo *p) {
        ProgramInfo **l = reallocarray(a->added_programs, a->n_added_programs + 1, sizeof(ProgramInfo *));
        if (!l)
                return -ENOMEM;
        a->added_programs = l;
        l[a->n_added_programs++] = program_info_ref(p);
        return 0;
}

static int push_link(SpecApply *a, LinkInfo *li) {
        LinkInfo **l = reallocarray(a->added_links, a->n_added_links + 1, sizeof(LinkInfo *));
        if (!l)
                return -ENOMEM;
        a->added_links = l;
        l[a->n_added_links++] = link_info_ref(li);
        return 0;
}

/* Loads the object at index i; one that shares the maps of an object loaded in this apply is inspected again
 * now that they exist, and must still be what polkit was asked about. */
static int load_object(SpecApply *a, Engine *e, size_t i, GHashTable *objects) {
        const SpecObject *o = &a->spec->objects[i];
        LoadRequest *lr = a->loads[i];
        int r;

        if (o->map_owner && !lr->map_owner_id) {
                GArray *owner = g_hash_table_lookup(objects, o->map_owner);
                LoadRequest *again = owner && owner->len ? spec_load_request(a, i, g_array_index(owner, guint32, 0)) : NULL;
                bool same;

                if (!again)
                        return -ENOMEM;
                r = engine_inspect(e, again, &a->error);
                same = r >= 0 && strv_length(again->selected) == strv_length(lr->selected);
                for (size_t k = 0; same && lr->selected[k]; k++)
                        same = streq(again->selected[k], lr->selected[k]) && again->kinds[k] == lr->kinds[k];
                if (r >= 0 && !same)
                        r = engine_error_setf(&a->error, BPFD_ERR_FAILED,
                                              "[Object %s] changed while the apply was being authorized.", o->name);
                if (r < 0) {
                        load_request_free(again);
                        return r;
                }
                load_request_free(lr);
                a->loads[i] = lr = again;
        }
        r = engine_load(e, lr, &a->error);
        return r;
}

/* The kind an [Attach] of the applied spec has: its own, or that of its program. */
static Kind applied_kind(SpecState *st, Engine *e, const SpecAttach *at) {
        assert(st);
        assert(at);
        GArray *ids = g_hash_table_lookup(st->objects, at->object);
        Kind k = at->target.kind;

        for (guint i = 0; k == KIND_DEFAULT && ids && i < ids->len; i++) {
                ProgramInfo *p = engine_program_ref(e, g_array_index(ids, guint32, i));
                if (p && (!at->target.program || streq(p->name, at->target.program)))
                        k = p->kind;
                program_info_unref(p);
        }
        return k;
}

static bool makes_xdp_link_on(SpecApply *a, const SpecAttach *old) {
        for (size_t i = 0; i < a->spec_objects; i++)
                for (size_t t = 0; a->loads[i] && t < a->loads[i]->n_targets; t++) {
                        const AttachTarget *n = &a->loads[i]->targets[t];
                        if (n->kind == KIND_XDP && streq_ptr(n->interface, old->target.interface) &&
                            streq_ptr(n->netns, old->target.netns))
                                return true;
                }
        for (size_t i = 0; i < a->n_attaches; i++) {
                const AttachTarget *n = &a->attaches[i].target;
                if (n->kind == KIND_XDP && streq_ptr(n->interface, old->target.interface) &&
                    streq_ptr(n->netns, old->target.netns))
                        return true;
        }
        return false;
}

/* XDP may take one program per interface (without program extensions there is no dispatcher): an XDP link
 * of the old state that goes, on a hook where the new state makes one, is detached before, not after. The
 * journal names it first, so that an apply that does not commit attaches it again. */
static int swap_out_xdp(SpecStore *s, Engine *e, SpecApply *a, SpecState *st, GArray *detach, GArray *unload,
                        GPtrArray *swapped) {
        GHashTableIter it;
        gpointer k, v;
        int r;

        if (!st || !st->applied)
                return 0;
        g_hash_table_iter_init(&it, st->links);
        while (g_hash_table_iter_next(&it, &k, &v)) {
                const SpecAttach *old = spec_find_attach(st->applied, k);
                GArray *ids = old ? g_hash_table_lookup(st->objects, old->object) : NULL;
                bool going = spec_ids_contain(detach, GPOINTER_TO_UINT(v)) ||
                             (ids && ids->len > 0 && spec_ids_contain(unload, g_array_index(ids, guint32, 0)));

                if (going && engine_link_exists(e, GPOINTER_TO_UINT(v)) && applied_kind(st, e, old) == KIND_XDP &&
                    makes_xdp_link_on(a, old))
                        g_ptr_array_add(swapped, g_strdup(k));
        }
        if (swapped->len == 0)
                return 0;
        r = spec_journal_write(s, a->name, a->generation + 1, swapped);
        if (r < 0)
                return engine_error_set_errnof(&a->error, r, "Cannot write the journal of spec %s: %m", a->name);
        for (guint i = 0; i < swapped->len; i++) {
                gpointer id = g_hash_table_lookup(st->links, g_ptr_array_index(swapped, i));
                log_info("Spec %s: detaching XDP link %u first to make room on its interface.", a->name,
                         GPOINTER_TO_UINT(id));
                spec_detach_quietly(e, GPOINTER_TO_UINT(id), a);
        }
        spec_crash_point("swapped");
        return 0;
}

int spec_reattach(Engine *e, SpecState *st, const char *attach_name, SpecApply *a) {
        const SpecAttach *at = st->applied ? spec_find_attach(st->applied, attach_name) : NULL;
        GArray *ids = at ? g_hash_table_lookup(st->objects, at->object) : NULL;
        _cleanup_(link_info_unrefp) LinkInfo *l = NULL;
        SpecApply *tmp = calloc(1, sizeof(SpecApply));
        int r;

        if (!tmp || !ids || !(tmp->name = strdup(st->name))) {
                spec_apply_free(tmp);
                return -ENOENT;
        }
        tmp->caller = CALLER_NULL;
        tmp->caller.uid = st->owner_uid;
        r = spec_plan_attach(tmp, e, ids, at);
        if (r >= 0) {
                r = engine_attach(e, tmp->attaches[0].program->id, &tmp->attaches[0].target, &tmp->caller, &l, &tmp->error);
        }
        if (r < 0)
                log_warning("Spec %s: cannot attach [Attach %s] again: %s", st->name, attach_name,
                            tmp->error.message ?: strerror(-r));
        else {
                log_info("Spec %s: [Attach %s] attached again as link %" PRIu32 ".", st->name, attach_name, l->id);
                g_hash_table_replace(st->links, g_strdup(attach_name), GUINT_TO_POINTER(l->id));
                if (a)
                        (void) push_link(a, l);
        }
        spec_apply_free(tmp);
        return r;
}

static void rollback(SpecApply *a, Engine *e, GArray *made_programs, GArray *made_links) {
        for (guint i = made_links->len; i > 0; i--)
                spec_detach_quietly(e, g_array_index(made_links, guint32, i - 1), NULL);
        for (guint i = made_programs->len; i > 0; i--)
                spec_unload_quietly(e, g_array_index(made_programs, guint32, i - 1), NULL);
}

int spec_execute(SpecStore *s, Engine *e, SpecApply *a) {
        g_autoptr(GHashTable) objects = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref);
        g_autoptr(GHashTable) links = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GArray) made_programs = g_array_new(false, false, sizeof(guint32));
        g_autoptr(GArray) made_links = g_array_new(false, false, sizeof(guint32));
        g_autoptr(GArray) unload = g_array_new(false, false, sizeof(guint32));
        g_autoptr(GArray) detach = g_array_new(false, false, sizeof(guint32));
        g_autoptr(GPtrArray) swapped = g_ptr_array_new_with_free_func(g_free);
        SpecState *st = g_hash_table_lookup(s->specs, a->name);
        const char *missing = NULL;
        bool creates = false;
        GHashTableIter it;
        gpointer k, v;
        int r;

        if ((st ? st->generation : 0) != a->generation)
                return engine_error_setf(&a->error, BPFD_ERR_FAILED,
                                         "Spec %s was changed by another apply meanwhile; apply it again.", a->name);
        for (size_t i = 0; i < a->n_keep_programs; i++) {
                ProgramInfo *p = engine_program_ref(e, a->keep_programs[i]);
                if (!p)
                        return engine_error_setf(&a->error, BPFD_ERR_FAILED,
                                                 "Program %" PRIu32 " of spec %s was unloaded meanwhile; apply it again.",
                                                 a->keep_programs[i], a->name);
                program_info_unref(p);
        }

        /* A network hook whose interface is not there yet: wait for it, all or nothing. */
        for (size_t i = 0; !missing && i < a->spec_objects; i++) {
                creates = creates || a->loads[i];
                for (size_t t = 0; a->loads[i] && !missing && t < a->loads[i]->n_targets; t++)
                        missing = missing_interface(&a->loads[i]->targets[t]);
        }
        for (size_t i = 0; !missing && i < a->n_attaches; i++)
                missing = missing_interface(&a->attaches[i].target);
        if (missing) {
                log_info("Spec %s waits for interface %s.", a->name, missing);
                return spec_finish_unapplied(s, a, SPEC_PENDING, SPEC_WAIT_INTERFACE, missing);
        }
        creates = creates || a->n_attaches > 0;

        /* What the old state has and the new one does not. */
        if (st && st->applied) {
                g_hash_table_iter_init(&it, st->objects);
                while (g_hash_table_iter_next(&it, &k, &v)) {
                        int i = spec_object_index(a->spec, k);
                        if (i < 0 || a->loads[i])
                                g_array_append_vals(unload, ((GArray *) v)->data, ((GArray *) v)->len);
                }
                g_hash_table_iter_init(&it, st->links);
                while (g_hash_table_iter_next(&it, &k, &v)) {
                        const SpecAttach *old = spec_find_attach(st->applied, k), *at = spec_find_attach(a->spec, k);
                        int i = old ? spec_object_index(a->spec, old->object) : -1;
                        uint32_t link;
                        if (i < 0 || a->loads[i])
                                continue; /* its program is unloaded: the link goes with it */
                        if (!at || !spec_kept_attach(st, e, at, &link))
                                spec_ids_add(detach, GPOINTER_TO_UINT(v));
                }
        }
        if (!creates && unload->len == 0 && detach->len == 0) {
                /* Nothing differs: no record is touched, the ids stay. */
                st = spec_state_for(s, a);
                if (!st)
                        return -ENOMEM;
                bool dirty = st->status != SPEC_APPLIED || !st->applied;

                if (st->applied && !streq_ptr(st->applied->description, a->spec->description)) {
                        /* only the description changed: nothing to do in the kernel */
                        free(st->applied->description);
                        st->applied->description = TAKE_PTR(a->spec->description);
                        dirty = true;
                }
                if (dirty) {
                        st->status = SPEC_APPLIED;
                        spec_set_str(&st->error, "");
                        spec_set_str(&st->waiting_for, "");
                        st->waiting_kind = SPEC_WAIT_NONE;
                        st->desired = spec_free(st->desired);
                        spec_record_remove(s, st->name, "pending");
                        if (!st->applied) {
                                st->applied = TAKE_PTR(a->spec);
                                spec_set_str(&st->origin, a->origin);
                        }
                        (void) spec_record_save(s, st, NULL, NULL, false);
                        a->changed = true;
                }
                a->view = spec_state_view(st);
                return 0;
        }

        r = spec_journal_write(s, a->name, a->generation + 1, NULL);
        if (r < 0)
                return engine_error_set_errnof(&a->error, r, "Cannot write the journal of spec %s: %m", a->name);
        r = swap_out_xdp(s, e, a, st, detach, unload, swapped);
        if (r < 0)
                goto fail;

        for (size_t i = 0; i < a->spec_objects; i++) {
                const SpecObject *o = &a->spec->objects[i];
                GArray *ids = g_array_new(false, false, sizeof(guint32));
                size_t t = 0;

                g_hash_table_replace(objects, g_strdup(o->name), ids);
                if (!a->loads[i]) {
                        /* Nothing to load: the object is kept as the applied spec has it. */
                        assert(st);
                        GArray *old = g_hash_table_lookup(st->objects, o->name);
                        assert(old);
                        g_array_append_vals(ids, old->data, old->len);
                        continue;
                }
                r = load_object(a, e, i, objects);
                if (r < 0)
                        goto fail;
                for (size_t p = 0; p < a->loads[i]->n_loaded; p++) {
                        spec_ids_add(ids, a->loads[i]->loaded[p]->id);
                        spec_ids_add(made_programs, a->loads[i]->loaded[p]->id);
                }
                for (size_t n = 0; n < a->spec->n_attach; n++)
                        if (streq(a->spec->attach[n].object, o->name) && t < a->loads[i]->n_links)
                                g_hash_table_replace(links, g_strdup(a->spec->attach[n].name),
                                                     GUINT_TO_POINTER(a->loads[i]->links[t++]->id));
        }
        for (size_t i = 0; i < a->n_attaches; i++) {
                SpecAttachPlan *ap = &a->attaches[i];
                _cleanup_(link_info_unrefp) LinkInfo *l = NULL;

                r = engine_attach(e, ap->program->id, &ap->target, &a->caller, &l, &a->error);
                if (r < 0)
                        goto fail;
                spec_ids_add(made_links, l->id);
                g_hash_table_replace(links, g_strdup(ap->attach_name), GUINT_TO_POINTER(l->id));
                if (push_link(a, l) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        /* Unchanged attachments keep their links. */
        for (size_t i = 0; st && i < a->spec->n_attach; i++) {
                uint32_t link;
                if (!g_hash_table_contains(links, a->spec->attach[i].name) && spec_kept_attach(st, e, &a->spec->attach[i], &link))
                        g_hash_table_replace(links, g_strdup(a->spec->attach[i].name), GUINT_TO_POINTER(link));
        }
        spec_crash_point("created");

        /* The commit point. */
        st = spec_state_for(s, a);
        if (!st) {
                r = -ENOMEM;
                goto fail;
        }
        {
                Spec *old_applied = st->applied;
                GHashTable *old_objects = st->objects, *old_links = st->links;
                uint64_t old_generation = st->generation;
                uid_t old_owner = st->owner_uid;

                st->applied = a->spec;
                st->objects = g_steal_pointer(&objects);
                st->links = g_steal_pointer(&links);
                st->generation = a->generation + 1;
                st->owner_uid = a->caller.uid;
                r = spec_record_save(s, st, unload, detach, false);
                if (r < 0) {
                        st->applied = old_applied;
                        objects = g_steal_pointer(&st->objects); /* this apply's again, freed on return */
                        links = g_steal_pointer(&st->links);
                        st->objects = old_objects;
                        st->links = old_links;
                        st->generation = old_generation;
                        st->owner_uid = old_owner;
                        engine_error_set_errnof(&a->error, r, "Cannot write the record of spec %s: %m", a->name);
                        goto fail;
                }
                a->spec = NULL;
                if (old_objects)
                        g_hash_table_unref(old_objects);
                if (old_links)
                        g_hash_table_unref(old_links);
                spec_free(old_applied);
        }
        spec_record_remove(s, a->name, "journal");
        spec_crash_point("committed");

        for (guint i = 0; i < detach->len; i++)
                spec_detach_quietly(e, g_array_index(detach, guint32, i), a);
        for (guint i = 0; i < unload->len; i++)
                spec_unload_quietly(e, g_array_index(unload, guint32, i), a);
        st->status = SPEC_APPLIED;
        spec_set_str(&st->error, "");
        spec_set_str(&st->waiting_for, "");
        st->waiting_kind = SPEC_WAIT_NONE;
        spec_set_str(&st->origin, a->origin);
        st->desired = spec_free(st->desired);
        spec_record_remove(s, st->name, "pending");
        if (spec_record_save(s, st, NULL, NULL, false) < 0)
                log_warning("Cannot rewrite the record of spec %s; the next start finishes it.", a->name);

        for (size_t i = 0; i < a->spec_objects; i++) {
                for (size_t p = 0; a->loads[i] && p < a->loads[i]->n_loaded; p++)
                        (void) push_program(a, a->loads[i]->loaded[p]);
                for (size_t l = 0; a->loads[i] && l < a->loads[i]->n_links; l++)
                        (void) push_link(a, a->loads[i]->links[l]);
        }
        a->changed = true;
        a->view = spec_state_view(st);
        log_info("Applied spec %s (generation %" PRIu64 "): %u program(s) and %zu link(s) new, %u program(s) and %u "
                 "link(s) gone.", st->name, st->generation, made_programs->len, a->n_added_links, unload->len,
                 detach->len);
        return 0;

fail:
        if (!engine_error_is_set(&a->error))
                engine_error_set_errnof(&a->error, r, "Applying spec %s failed: %m", a->name);
        /* Links made on kept programs and programs loaded go again; the engine's own steps were each whole. */
        for (size_t i = 0; i < a->n_added_links; i++)
                link_info_unref(a->added_links[i]);
        a->n_added_links = 0;
        rollback(a, e, made_programs, made_links);
        for (guint i = 0; st && i < swapped->len; i++)
                (void) spec_reattach(e, st, g_ptr_array_index(swapped, i), a);
        if (st && swapped->len > 0 && spec_record_save(s, st, NULL, NULL, false) < 0)
                log_warning("Cannot rewrite the record of spec %s.", a->name);
        spec_record_remove(s, a->name, "journal");
        log_warning("Spec %s not applied: %s", a->name, a->error.message);
        return spec_finish_unapplied(s, a, SPEC_FAILED, SPEC_WAIT_NONE, NULL);
}

/* ---- remove ---- */

int spec_remove(SpecStore *s, Engine *e, SpecApply *a) {
        SpecState *st = g_hash_table_lookup(s->specs, a->name);
        g_autoptr(GArray) all = g_array_new(false, false, sizeof(guint32));
        GHashTableIter it;
        gpointer v;
        int r;

        if (!st)
                return engine_error_setf(&a->error, BPFD_ERR_SPEC_NOT_FOUND, "No spec %s is known to bpfd.", a->name);
        if (a->owner_uid != st->owner_uid || a->generation != st->generation)
                return engine_error_setf(&a->error, BPFD_ERR_FAILED,
                                         "Spec %s was changed meanwhile; remove it again.", a->name);
        g_hash_table_iter_init(&it, st->objects);
        while (g_hash_table_iter_next(&it, NULL, &v))
                g_array_append_vals(all, ((GArray *) v)->data, ((GArray *) v)->len);
        if (st->applied) {
                r = spec_record_save(s, st, all, NULL, true);
                if (r < 0)
                        return engine_error_set_errnof(&a->error, r, "Cannot write the record of spec %s: %m", a->name);
                spec_crash_point("removing");
                for (guint i = 0; i < all->len; i++)
                        spec_unload_quietly(e, g_array_index(all, guint32, i), a);
                spec_record_remove(s, a->name, "conf");
        }
        spec_record_remove(s, a->name, "pending");
        log_info("Removed spec %s: %u program(s) unloaded.", a->name, all->len);
        g_hash_table_remove(s->specs, a->name);
        a->changed = true;
        return 0;
}

/* For the bus side before a remove: who owns the spec, and its generation. */
int spec_lookup(SpecStore *s, const char *name, uid_t *ret_owner, uint64_t *ret_generation) {
        SpecState *st = g_hash_table_lookup(s->specs, name);
        if (!st)
                return -ENOENT;
        *ret_owner = st->owner_uid;
        *ret_generation = st->generation;
        return 0;
}
