/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plan of an apply: the difference between a spec and the state bpfd made for it, and the inspection of
 * the objects to load. Objects from images are pulled in between, on the bus thread (bus-spec-pull.c). */
#include <fcntl.h>
#include <stdio.h>

#include "engine-error.h"
#include "image-ref.h"
#include "spec-store.h"
#include "engine-load.h"

/* ---- plan ---- */

void spec_apply_free(SpecApply *a) {
        if (!a)
                return;
        free(a->name);
        spec_free(a->spec);
        free(a->origin);
        caller_done(&a->caller);
        g_strfreev(a->approved);
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
        for (size_t i = 0; a->pulled && i < a->spec_objects; i++) {
                if (a->pulled[i].fd >= 0)
                        close(a->pulled[i].fd);
                free(a->pulled[i].reference);
                free(a->pulled[i].digest);
                strv_free(a->pulled[i].labels);
        }
        free(a->pulled);
        engine_error_done(&a->error);
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

bool spec_kept_attach(SpecState *st, Engine *e, const SpecAttach *at, uint32_t *ret_link) {
        const SpecAttach *old = st && st->applied ? spec_find_attach(st->applied, at->name) : NULL;
        gpointer id;

        if (!old || !g_hash_table_lookup_extended(st->links, at->name, NULL, &id) ||
            !engine_link_exists(e, GPOINTER_TO_UINT(id)) ||
            !fingerprints_equal(spec_attach_fingerprint(old), spec_attach_fingerprint(at)))
                return false;
        *ret_link = GPOINTER_TO_UINT(id);
        return true;
}

static int pull_policy_number(const char *s) {
        return !s || streq(s, "IfNotPresent") ? 1 : streq(s, "Always") ? 0 : 2;
}

/* The image details polkit and the puller see: the canonical reference and registry (spec.c checked that
 * Image= parses). Once pulled, the object is the puller's sealed memfd, Program.Source the reference the
 * puller resolved, and without Programs= the image's labels name the programs, as for LoadFromImage. */
static int load_request_image(LoadRequest *lr, const SpecObject *o, const SpecPulled *pulled) {
        _cleanup_image_ref_ ImageRef *ref = NULL;
        int r;

        r = image_ref_parse(o->image, &ref);
        if (r < 0)
                return r;
        lr->pull_policy = pull_policy_number(o->pull_policy);
        lr->image_ref = image_ref_to_string(ref);
        lr->image_registry = strdup(ref->registry);
        if (!lr->image_ref || !lr->image_registry)
                return -ENOMEM;
        if (!pulled || pulled->fd < 0)
                return asprintf(&lr->source, "image:%s", lr->image_ref) < 0 ? -ENOMEM : 0;
        /* The worker reads it with pread(): a duplicate per inspection is as good as a fresh descriptor. */
        lr->object_fd = fcntl(pulled->fd, F_DUPFD_CLOEXEC, 3);
        if (lr->object_fd < 0)
                return -errno;
        if (asprintf(&lr->source, "image:%s", pulled->reference) < 0 || !(lr->image_digest = strdup(pulled->digest)))
                return -ENOMEM;
        if (!o->programs && pulled->labels && !(lr->programs = strv_copy(pulled->labels)))
                return -ENOMEM;
        return 0;
}

LoadRequest *spec_load_request(SpecApply *a, size_t i, uint32_t map_owner_id) {
        const SpecObject *o = &a->spec->objects[i];
        /* load_request_new(): every descriptor of a LoadRequest starts as -1. A zeroed one names fd 0, which
         * load_request_free() would close: whatever fd 0 is by then, another thread's socket or directory. */
        LoadRequest *lr = load_request_new();

        if (!lr)
                return NULL;
        lr->pull_policy = pull_policy_number(o->pull_policy);
        lr->map_owner_id = map_owner_id;
        if (caller_copy(&lr->caller, &a->caller) < 0)
                goto fail;
        if (o->path && (!(lr->path = strdup(o->path)) || !(lr->source = strdup(o->path))))
                goto fail;
        if (o->image && load_request_image(lr, o, a->pulled ? &a->pulled[i] : NULL) < 0)
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

int spec_object_index(const Spec *s, const char *name) {
        for (size_t i = 0; name && i < s->n_objects; i++)
                if (streq(s->objects[i].name, name))
                        return (int) i;
        return -1;
}

/* An attachment of a program the spec keeps, resolved as Attach resolves it. */
int spec_plan_attach(SpecApply *a, Engine *e, GArray *ids, const SpecAttach *at) {
        _cleanup_free_ char *label = NULL;
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
                return engine_error_setf(&a->error, BPFD_ERR_INVALID_ARGUMENT,
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
        /* The one completion of a target for its program, as for a load's targets and Attach. */
        if (asprintf(&label, "[Attach %s]: program %s", at->name, p->name) < 0) {
                label = NULL;
                return -ENOMEM;
        }
        return attach_target_complete(&ap->target, label, p->kind, strempty(p->section), p->attach_function, NULL,
                                      &a->error);
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
                int owner = spec_object_index(spec, o->map_owner);

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
                a->loads[i] = spec_load_request(a, i, owner >= 0 && kept[owner] ? g_array_index(kept[owner], guint32, 0) : 0);
                if (!a->loads[i])
                        r = -ENOMEM;
                else if (a->loads[i]->image_ref && a->loads[i]->object_fd < 0)
                        a->pulls_needed = true; /* inspected once pulled: spec_inspect_pulled() */
                else {
                        r = engine_inspect(e, a->loads[i], &a->error);
                }
        }
        for (size_t i = 0; r >= 0 && i < spec->n_attach; i++) {
                const SpecAttach *at = &spec->attach[i];
                int o = spec_object_index(spec, at->object);
                uint32_t link;

                if (o < 0 || !kept[o] || spec_kept_attach(st, e, at, &link))
                        continue; /* loaded with its object, or unchanged */
                r = spec_plan_attach(a, e, kept[o], at);
        }
        free(kept);
        if (r < 0 && !engine_error_is_set(&a->error))
                engine_error_set_errnof(&a->error, r, "Cannot plan spec %s: %m", a->name);
        return r;
}


int spec_inspect_pulled(SpecStore *s, Engine *e, SpecApply *a) {
        int r = 0;

        a->pulls_needed = false;
        if (engine_error_is_set(&a->error))
                return -EIO; /* a pull failed */
        for (size_t i = 0; r >= 0 && i < a->spec_objects; i++) {
                LoadRequest *lr = a->loads[i];

                if (!lr || !lr->image_ref || lr->obj)
                        continue;
                if (!a->pulled || a->pulled[i].fd < 0)
                        return engine_error_setf(&a->error, BPFD_ERR_FAILED, "The image of [Object %s] was not pulled.",
                                                 a->spec->objects[i].name);
                a->loads[i] = spec_load_request(a, i, lr->map_owner_id);
                load_request_free(lr);
                r = a->loads[i] ? engine_inspect(e, a->loads[i], &a->error) : -ENOMEM;
        }
        if (r < 0 && !engine_error_is_set(&a->error))
                engine_error_set_errnof(&a->error, r, "Cannot plan spec %s: %m", a->name);
        return r;
}

int spec_retry_plan(SpecStore *s, Engine *e, SpecApply *a) {
        SpecState *st = g_hash_table_lookup(s->specs, a->name);

        if (!st || !st->desired)
                return 0; /* applied or removed meanwhile */
        a->spec = TAKE_PTR(st->desired);
        caller_done(&a->caller);
        if (caller_copy(&a->caller, &st->desired_caller) < 0)
                return -ENOMEM;
        g_strfreev(a->approved);
        a->approved = g_strdupv(st->desired_approved); /* NULL after a restart: nothing is known to be allowed */
        spec_set_str(&a->origin, st->desired_origin);
        if (spec_plan(s, e, a) < 0) {
                (void) spec_plan_failed(s, a);
                return 0;
        }
        return 1;
}
