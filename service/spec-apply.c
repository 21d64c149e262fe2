/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>

#include "errors.h"
#include "log.h"
#include "spec-store.h"
/* ---- plan ---- */

void spec_apply_free(SpecApply *a) {
        if (!a)
                return;
        free(a->name);
        spec_free(a->spec);
        free(a->origin);
        caller_done(&a->caller);
        for (size_t i = 0; a->loads && a->spec_objects && i < a->spec_objects; i++)
                load_request_free(a->loads[i]);
        free(a->loads);
        for (size_t i = 0; i < a->n_attaches; i++) {
                program_info_unref(a->attaches[i].program);
                attach_target_done(&a->attaches[i].target);
                free(a->attaches[i].attach_name);
        }
        free(a->attaches);
        free(a->keep_programs);
        spec_view_free(a->view);
        for (size_t i = 0; i < a->n_added_programs; i++)
                program_info_unref(a->added_programs[i]);
        free(a->added_programs);
        for (size_t i = 0; i < a->n_added_links; i++)
                link_info_unref(a->added_links[i]);
        free(a->added_links);
        free(a->removed_programs);
        free(a->removed_links);
        sd_bus_error_free(&a->error);
        free(a);
}

static bool fingerprints_equal(char *a, char *b) {
        bool eq = a && b && streq(a, b);
        free(a);
        free(b);
        return eq;
}

/* The old state's programs for [Object] o, if o is unchanged and they are all still loaded. */
static GArray *kept_object(SpecState *st, Engine *e, const SpecObject *o) {
        const SpecObject *old = st && st->applied ? spec_find_object(st->applied, o->name) : NULL;
        GArray *ids = old ? g_hash_table_lookup(st->objects, o->name) : NULL;

        if (!ids || ids->len == 0 || !fingerprints_equal(spec_object_fingerprint(old), spec_object_fingerprint(o)))
                return NULL;
        for (guint i = 0; i < ids->len; i++) {
                ProgramInfo *p = engine_program_ref(e, g_array_index(ids, guint32, i));
                if (!p)
                        return NULL;
                program_info_unref(p);
        }
        return ids;
}

static bool kept_attach(SpecState *st, Engine *e, const SpecAttach *at, uint32_t *ret_link) {
        const SpecAttach *old = st && st->applied ? spec_find_attach(st->applied, at->name) : NULL;
        gpointer id;

        if (!old || !g_hash_table_lookup_extended(st->links, at->name, NULL, &id) ||
            !engine_link_exists(e, GPOINTER_TO_UINT(id)) ||
            !fingerprints_equal(spec_attach_fingerprint(old), spec_attach_fingerprint(at)))
                return false;
        *ret_link = GPOINTER_TO_UINT(id);
        return true;
}

static char *registry_of(const char *ref) {
        size_t n = strcspn(ref, "/");
        char *r;

        if (!ref[n] || n == 0)
                return NULL;
        r = strndup(ref, n);
        if (r && !strpbrk(r, ".:") && !streq(r, "localhost"))
                r = mfree(r);
        return r;
}

static int pull_policy_number(const char *s) {
        return !s || streq(s, "IfNotPresent") ? 1 : streq(s, "Always") ? 0 : 2;
}

static LoadRequest *load_request_for(SpecApply *a, const SpecObject *o, uint32_t map_owner_id) {
        LoadRequest *lr = calloc(1, sizeof(LoadRequest));

        if (!lr)
                return NULL;
        lr->object_fd = -1;
        lr->pull_policy = pull_policy_number(o->pull_policy);
        lr->map_owner_id = map_owner_id;
        if (caller_copy(&lr->caller, &a->caller) < 0)
                goto fail;
        if (o->path && (!(lr->path = strdup(o->path)) || !(lr->source = strdup(o->path))))
                goto fail;
        if (o->image && (!(lr->image_ref = strdup(o->image)) || !(lr->image_registry = registry_of(o->image)) ||
                         asprintf(&lr->source, "image:%s", o->image) < 0))
                goto fail;
        lr->programs_given = o->programs != NULL;
        if (o->programs && !(lr->programs = strv_copy(o->programs)))
                goto fail;
        if (o->metadata && !(lr->metadata = strv_copy(o->metadata)))
                goto fail;
        if (strv_push(&lr->metadata, strdup(SPEC_METADATA_NAME)) < 0 || strv_push(&lr->metadata, strdup(a->name)) < 0 ||
            strv_push(&lr->metadata, strdup(SPEC_METADATA_OBJECT)) < 0 || strv_push(&lr->metadata, strdup(o->name)) < 0)
                goto fail;
        lr->globals = calloc(o->n_globals + 1, sizeof(GlobalData));
        if (!lr->globals)
                goto fail;
        for (size_t i = 0; i < o->n_globals; i++) {
                lr->globals[i] = (GlobalData) { .name = strdup(o->globals[i].name), .data = malloc(o->globals[i].size),
                                                .size = o->globals[i].size };
                lr->n_globals++;
                if (!lr->globals[i].name || !lr->globals[i].data)
                        goto fail;
                memcpy(lr->globals[i].data, o->globals[i].data, o->globals[i].size);
        }
        lr->targets = calloc(a->spec->n_attach + 1, sizeof(AttachTarget));
        if (!lr->targets)
                goto fail;
        for (size_t i = 0; i < a->spec->n_attach; i++)
                if (streq(a->spec->attach[i].object, o->name)) {
                        if (attach_target_copy(&lr->targets[lr->n_targets], &a->spec->attach[i].target) < 0)
                                goto fail;
                        lr->n_targets++;
                }
        return lr;
fail:
        load_request_free(lr);
        return NULL;
}

static int index_of_object(const Spec *s, const char *name) {
        for (size_t i = 0; name && i < s->n_objects; i++)
                if (streq(s->objects[i].name, name))
                        return (int) i;
        return -1;
}

/* An attachment of a program the spec keeps, resolved as Attach resolves it. */
static int plan_attach(SpecApply *a, Engine *e, GArray *ids, const SpecAttach *at) {
        SpecAttachPlan *ap;
        ProgramInfo *p = NULL;
        int r;

        for (guint i = 0; i < ids->len && !p; i++) {
                ProgramInfo *q = engine_program_ref(e, g_array_index(ids, guint32, i));
                if (q && (at->target.program ? streq(q->name, at->target.program) : ids->len == 1))
                        p = q;
                else
                        program_info_unref(q);
        }
        if (!p)
                return sd_bus_error_setf(&a->error, BPFD_ERROR_INVALID_ARGUMENT,
                                         "[Attach %s] needs Program= naming one of the programs of [Object %s].",
                                         at->name, at->object);
        ap = reallocarray(a->attaches, a->n_attaches + 1, sizeof(SpecAttachPlan));
        if (!ap) {
                program_info_unref(p);
                return -ENOMEM;
        }
        a->attaches = ap;
        ap = &a->attaches[a->n_attaches++];
        *ap = (SpecAttachPlan) { .program = p, .attach_name = strdup(at->name) };
        r = attach_target_copy(&ap->target, &at->target);
        if (r < 0 || !ap->attach_name)
                return -ENOMEM;
        free(ap->target.program);
        ap->target.program = NULL;
        if (ap->target.kind == KIND_DEFAULT)
                ap->target.kind = p->kind;
        if (IN_SET2(ap->target.kind, KIND_FENTRY, KIND_FEXIT) && !ap->target.function && p->attach_function &&
            !(ap->target.function = strdup(p->attach_function)))
                return -ENOMEM;
        if (attach_target_fill_from_section(&ap->target, p->section) < 0)
                return -ENOMEM;
        if (!kind_attach_compatible(p->kind, ap->target.kind))
                return sd_bus_error_setf(&a->error, BPFD_ERROR_INVALID_ARGUMENT,
                                         "[Attach %s]: program %s is a %s program; it cannot be attached as %s.",
                                         at->name, p->name, kind_to_string(p->kind), kind_to_string(ap->target.kind));
        return attach_target_validate(&ap->target, &a->error);
}

int spec_plan(SpecStore *s, Engine *e, SpecApply *a) {
        SpecState *st = g_hash_table_lookup(s->specs, a->name);
        const Spec *spec = a->spec;
        GArray **kept;
        int r = 0;

        a->generation = st ? st->generation : 0;
        a->exists = st != NULL;
        a->owner_uid = st ? st->owner_uid : a->caller.uid;
        a->spec_objects = spec->n_objects;
        a->loads = calloc(spec->n_objects + 1, sizeof(LoadRequest *));
        kept = calloc(spec->n_objects + 1, sizeof(GArray *));
        a->keep_programs = calloc(1, sizeof(uint32_t));
        if (!a->loads || !kept || !a->keep_programs) {
                free(kept);
                return -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < spec->n_objects; i++) {
                const SpecObject *o = &spec->objects[i];
                int owner = index_of_object(spec, o->map_owner);

                /* Sharing the maps of a reloaded object means reloading too. */
                kept[i] = kept_object(st, e, o);
                if (kept[i] && owner >= 0 && !kept[owner])
                        kept[i] = NULL;
                if (kept[i]) {
                        uint32_t *l = reallocarray(a->keep_programs, a->n_keep_programs + kept[i]->len + 1,
                                                   sizeof(uint32_t));
                        if (!l) {
                                r = -ENOMEM;
                                break;
                        }
                        a->keep_programs = l;
                        for (guint k = 0; k < kept[i]->len; k++)
                                l[a->n_keep_programs++] = g_array_index(kept[i], guint32, k);
                        continue;
                }
                /* An object whose map owner is loaded in this apply is inspected again then, with its maps. */
                a->loads[i] = load_request_for(a, o, owner >= 0 && kept[owner] ? g_array_index(kept[owner], guint32, 0) : 0);
                if (!a->loads[i])
                        r = -ENOMEM;
                else
                        r = engine_inspect(e, a->loads[i], &a->error);
        }
        for (size_t i = 0; r >= 0 && i < spec->n_attach; i++) {
                const SpecAttach *at = &spec->attach[i];
                int o = index_of_object(spec, at->object);
                uint32_t link;

                if (o < 0 || !kept[o] || kept_attach(st, e, at, &link))
                        continue; /* loaded with its object, or unchanged */
                r = plan_attach(a, e, kept[o], at);
        }
        free(kept);
        if (r < 0 && !sd_bus_error_is_set(&a->error))
                bpfd_error_set_errnof(&a->error, r, "Cannot plan spec %s: %m", a->name);
        return r;
}

/* ---- execute ---- */

static bool is_net_kind(Kind k) {
        return IN_SET2(k, KIND_XDP, KIND_TC) || k == KIND_TCX;
}

/* A network attachment in bpfd's own namespace whose interface is not there (yet). */
static const char *missing_interface(const AttachTarget *t) {
        return is_net_kind(t->kind) && t->interface && !t->netns && if_nametoindex(t->interface) == 0 ? t->interface
                                                                                                     : NULL;
}

static SpecState *state_for(SpecStore *s, SpecApply *a) {
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
static int finish_unapplied(SpecStore *s, SpecApply *a, SpecStatus status, SpecWait kind, const char *waiting_for) {
        SpecState *st = state_for(s, a);

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
                if (spec_pending_save(s, st) < 0)
                        log_warning("Cannot keep pending spec %s across restarts.", st->name);
        } else {
                st->desired = spec_free(st->desired);
                spec_record_remove(s, st->name, "pending");
        }
        if (!st->applied)
                spec_set_str(&st->origin, a->origin);
        if (st->applied && spec_record_save(s, st, NULL, NULL, false) < 0)
                log_warning("Cannot write the record of spec %s.", st->name);
        a->view = spec_state_view(st);
        return status == SPEC_FAILED ? -EIO : 0;
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
                LoadRequest *again = owner && owner->len ? load_request_for(a, o, g_array_index(owner, guint32, 0)) : NULL;
                bool same;

                if (!again)
                        return -ENOMEM;
                r = engine_inspect(e, again, &a->error);
                same = r >= 0 && strv_length(again->selected) == strv_length(lr->selected);
                for (size_t k = 0; same && lr->selected[k]; k++)
                        same = streq(again->selected[k], lr->selected[k]) && again->kinds[k] == lr->kinds[k];
                if (r >= 0 && !same)
                        r = sd_bus_error_setf(&a->error, BPFD_ERROR_FAILED,
                                              "[Object %s] changed while the apply was being authorized.", o->name);
                if (r < 0) {
                        load_request_free(again);
                        return r;
                }
                load_request_free(lr);
                a->loads[i] = lr = again;
        }
        return engine_load(e, lr, &a->error);
}

/* The kind an [Attach] of the applied spec has: its own, or that of its program. */
static Kind applied_kind(SpecState *st, Engine *e, const SpecAttach *at) {
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
                return bpfd_error_set_errnof(&a->error, r, "Cannot write the journal of spec %s: %m", a->name);
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
        r = plan_attach(tmp, e, ids, at);
        if (r >= 0)
                r = engine_attach(e, tmp->attaches[0].program->id, &tmp->attaches[0].target, &tmp->caller, &l,
                                  &tmp->error);
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

        if (a->retry) {
                if (!st || !st->desired)
                        return 0; /* applied or removed meanwhile */
                a->spec = TAKE_PTR(st->desired);
                caller_done(&a->caller);
                if (caller_copy(&a->caller, &st->desired_caller) < 0)
                        return -ENOMEM;
                spec_set_str(&a->origin, st->desired_origin);
                if (spec_plan(s, e, a) < 0)
                        return spec_plan_failed(s, a);
        }
        if ((st ? st->generation : 0) != a->generation)
                return sd_bus_error_setf(&a->error, BPFD_ERROR_FAILED,
                                         "Spec %s was changed by another apply meanwhile; apply it again.", a->name);
        for (size_t i = 0; i < a->n_keep_programs; i++) {
                ProgramInfo *p = engine_program_ref(e, a->keep_programs[i]);
                if (!p)
                        return sd_bus_error_setf(&a->error, BPFD_ERROR_FAILED,
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
                return finish_unapplied(s, a, SPEC_PENDING, SPEC_WAIT_INTERFACE, missing);
        }
        creates = creates || a->n_attaches > 0;

        /* What the old state has and the new one does not. */
        if (st && st->applied) {
                g_hash_table_iter_init(&it, st->objects);
                while (g_hash_table_iter_next(&it, &k, &v)) {
                        int i = index_of_object(a->spec, k);
                        if (i < 0 || a->loads[i])
                                g_array_append_vals(unload, ((GArray *) v)->data, ((GArray *) v)->len);
                }
                g_hash_table_iter_init(&it, st->links);
                while (g_hash_table_iter_next(&it, &k, &v)) {
                        const SpecAttach *old = spec_find_attach(st->applied, k), *at = spec_find_attach(a->spec, k);
                        int i = old ? index_of_object(a->spec, old->object) : -1;
                        uint32_t link;
                        if (i < 0 || a->loads[i])
                                continue; /* its program is unloaded: the link goes with it */
                        if (!at || !kept_attach(st, e, at, &link))
                                spec_ids_add(detach, GPOINTER_TO_UINT(v));
                }
        }
        if (!creates && unload->len == 0 && detach->len == 0) {
                /* Nothing differs: no record is touched, the ids stay. */
                st = state_for(s, a);
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
                return bpfd_error_set_errnof(&a->error, r, "Cannot write the journal of spec %s: %m", a->name);
        r = swap_out_xdp(s, e, a, st, detach, unload, swapped);
        if (r < 0)
                goto fail;

        for (size_t i = 0; i < a->spec_objects; i++) {
                const SpecObject *o = &a->spec->objects[i];
                GArray *ids = g_array_new(false, false, sizeof(guint32));
                size_t t = 0;

                g_hash_table_replace(objects, g_strdup(o->name), ids);
                if (!a->loads[i]) {
                        GArray *old = g_hash_table_lookup(st->objects, o->name);
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
                if (!g_hash_table_contains(links, a->spec->attach[i].name) && kept_attach(st, e, &a->spec->attach[i], &link))
                        g_hash_table_replace(links, g_strdup(a->spec->attach[i].name), GUINT_TO_POINTER(link));
        }
        spec_crash_point("created");

        /* The commit point. */
        st = state_for(s, a);
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
                st->objects = objects;
                st->links = links;
                st->generation = a->generation + 1;
                st->owner_uid = a->caller.uid;
                r = spec_record_save(s, st, unload, detach, false);
                if (r < 0) {
                        st->applied = old_applied;
                        st->objects = old_objects;
                        st->links = old_links;
                        st->generation = old_generation;
                        st->owner_uid = old_owner;
                        bpfd_error_set_errnof(&a->error, r, "Cannot write the record of spec %s: %m", a->name);
                        goto fail;
                }
                a->spec = NULL;
                objects = old_objects; /* freed on return */
                links = old_links;
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
        if (!sd_bus_error_is_set(&a->error))
                bpfd_error_set_errnof(&a->error, r, "Applying spec %s failed: %m", a->name);
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
        return finish_unapplied(s, a, SPEC_FAILED, SPEC_WAIT_NONE, NULL);
}

/* ---- remove ---- */

int spec_remove(SpecStore *s, Engine *e, SpecApply *a) {
        SpecState *st = g_hash_table_lookup(s->specs, a->name);
        g_autoptr(GArray) all = g_array_new(false, false, sizeof(guint32));
        GHashTableIter it;
        gpointer v;
        int r;

        if (!st)
                return sd_bus_error_setf(&a->error, BPFD_ERROR_SPEC_NOT_FOUND, "No spec %s is known to bpfd.", a->name);
        if (a->owner_uid != st->owner_uid || a->generation != st->generation)
                return sd_bus_error_setf(&a->error, BPFD_ERROR_FAILED,
                                         "Spec %s was changed meanwhile; remove it again.", a->name);
        g_hash_table_iter_init(&it, st->objects);
        while (g_hash_table_iter_next(&it, NULL, &v))
                g_array_append_vals(all, ((GArray *) v)->data, ((GArray *) v)->len);
        if (st->applied) {
                r = spec_record_save(s, st, all, NULL, true);
                if (r < 0)
                        return bpfd_error_set_errnof(&a->error, r, "Cannot write the record of spec %s: %m", a->name);
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

int spec_set_failed(SpecStore *s, SpecApply *a) {
        if (!sd_bus_error_is_set(&a->error))
                (void) sd_bus_error_set_const(&a->error, BPFD_ERROR_FAILED, "The spec could not be applied.");
        return finish_unapplied(s, a, SPEC_FAILED, SPEC_WAIT_NONE, NULL);
}

int spec_plan_failed(SpecStore *s, SpecApply *a) {
        const char *name = a->error.name;

        const SpecObject *first = NULL;

        /* The object the error is about: the one whose registry it names, else the first from an image. */
        for (size_t i = 0; a->spec && a->caller.uid == 0 && name && i < a->spec->n_objects; i++) {
                const SpecObject *o = &a->spec->objects[i];
                _cleanup_free_ char *host = o->image ? strndup(o->image, strcspn(o->image, "/")) : NULL;

                if (!host)
                        continue;
                if (!first)
                        first = o;
                if (a->error.message && strstr(a->error.message, host)) {
                        first = o;
                        break;
                }
        }
        if (first) {
                const SpecObject *o = first;
                _cleanup_free_ char *registry = NULL;

                if (streq(name, "org.bpfd.Error.RegistryUnreachable") &&
                    (registry = strndup(o->image, strcspn(o->image, "/")))) {
                        log_info("Spec %s waits for registry %s to be reachable.", a->name, registry);
                        return finish_unapplied(s, a, SPEC_PENDING, SPEC_WAIT_NETWORK, registry);
                }
                if (streq(name, "org.bpfd.Error.ImageNotCached") && o->pull_policy && streq(o->pull_policy, "Never")) {
                        log_info("Spec %s waits for image %s to be pulled.", a->name, o->image);
                        return finish_unapplied(s, a, SPEC_PENDING, SPEC_WAIT_IMAGE, o->image);
                }
        }
        return finish_unapplied(s, a, SPEC_FAILED, SPEC_WAIT_NONE, NULL);
}
