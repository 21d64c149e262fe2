/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "engine.h"
#include "spec.h"

/* Applying specs: the difference between a spec and what bpfd made for it before, and the loads, attaches,
 * detaches and unloads that close it, all or nothing. Worker thread only (like the engine it calls). Each
 * spec has a record in the spec directory, written after the engine's own records: it names the programs and
 * links the spec owns and the spec they were made from. An apply
 *   1. writes a journal (NAME.journal) with the generation it is making,
 *   2. loads and attaches what is new (each step committed by the engine as usual),
 *   3. commits by writing the record with the new generation and what is to go (the commit point),
 *   4. detaches and unloads what the old state had and the new one does not, and writes the record again.
 * After a crash, recovery undoes 2 if 3 did not happen (programs carrying the spec's metadata and links on the
 * spec's programs that the record does not name go), and finishes 4 if it did: the spec is left in its old or
 * its new state. Programs made for a spec carry the metadata bpfd.spec=NAME and bpfd.spec.object=OBJECT. */

typedef enum SpecStatus {
        SPEC_APPLIED,
        SPEC_PENDING, /* waiting for an interface; the old state (if any) stays */
        SPEC_FAILED,  /* the last apply failed; the old state (if any) stays */
        _SPEC_STATUS_MAX,
} SpecStatus;

const char *spec_status_to_string(SpecStatus s);

/* What a pending spec waits for, and so which event applies it again. */
typedef enum SpecWait {
        SPEC_WAIT_NONE,
        SPEC_WAIT_INTERFACE, /* an interface of bpfd's namespace: rtnetlink says when it comes */
        SPEC_WAIT_NETWORK,   /* a registry that was unreachable: any change of the network may help */
        SPEC_WAIT_IMAGE,     /* an image with pull policy Never: someone pulls it through bpfd */
} SpecWait;

/* What the bus shows of a spec, made by the worker after each change. */
typedef struct SpecView {
        char *name;
        char *description;
        uid_t owner_uid;
        char *origin;      /* the file it came from, or "" (the bus) */
        SpecStatus status;
        char *error;       /* why the last apply failed, or "" */
        char *waiting_for; /* the interface, registry or image a pending spec waits for, or "" */
        SpecWait waiting_kind;
        uint64_t generation;
        uint32_t *programs;
        size_t n_programs;
        uint32_t *links;
        size_t n_links;
} SpecView;

SpecView *spec_view_free(SpecView *v);

typedef struct SpecStore SpecStore;

int spec_store_new(const char *dir, SpecStore **ret);
SpecStore *spec_store_free(SpecStore *s);


/* One ApplySpec or RemoveSpec between the bus thread and the worker. */
typedef struct SpecAttachPlan {
        ProgramInfo *program; /* a program the spec keeps */
        AttachTarget target;  /* resolved: kind, what the section names */
        char *attach_name;
} SpecAttachPlan;

/* What the puller gave for an [Object] with Image= (bus-spec-pull.c): a sealed memfd of the object, the
 * canonical reference, the manifest digest and the programs the image's labels name. */
typedef struct SpecPulled {
        int fd; /* -1: not pulled */
        char *reference;
        char *digest;
        char **labels;
} SpecPulled;

typedef struct SpecApply {
        /* inputs */
        char *name;
        Spec *spec;        /* NULL: remove the spec */
        char *origin;
        Caller caller;
        /* the plan: what the apply will do, for polkit */
        uint64_t generation;
        bool exists;       /* the spec has a record or a status */
        uid_t owner_uid;   /* of the existing spec */
        LoadRequest **loads; /* per [Object]: inspected if it is to be loaded, else NULL */
        size_t spec_objects; /* the length of loads */
        SpecAttachPlan *attaches;
        size_t n_attaches;
        uint32_t *keep_programs; /* programs of the old state that stay */
        size_t n_keep_programs;
        char **approved;     /* a user's apply: the polkit questions answered yes, one string each (bus/spec.c); a
                              * retry of a pending spec does nothing polkit was not asked about */
        bool pulls_needed;   /* objects from images are to load: the bus thread pulls them, then they are inspected */
        SpecPulled *pulled;  /* per [Object] (spec_objects of them), or NULL */
        size_t failed_pull;  /* 1 + the index of the [Object] whose pull failed, or 0 */
        /* results */
        SpecView *view;
        ProgramInfo **added_programs;
        size_t n_added_programs;
        LinkInfo **added_links;
        size_t n_added_links;
        uint32_t *removed_programs;
        size_t n_removed_programs;
        uint32_t *removed_links;
        size_t n_removed_links;
        bool changed;
        EngineError error;
} SpecApply;

void spec_apply_free(SpecApply *a);

/* Plan: diff and inspect what is new (opening objects as the caller). An object from an image is not
 * inspected here: the worker never waits for a registry. pulls_needed says the bus thread is to pull the
 * images of a->loads that have image_ref (polkit's org.bpfd.load-image "pull" first), fill a->pulled and
 * call spec_inspect_pulled(). */
int spec_plan(SpecStore *s, Engine *e, SpecApply *a);
/* The rest of the plan once the images are pulled: their objects inspected. With a->error already set (a
 * pull failed) or on failure, returns < 0. */
int spec_inspect_pulled(SpecStore *s, Engine *e, SpecApply *a);
/* A pending spec's retry: takes the spec kept with it and plans it with the caller it was applied by. 1 if
 * planned (execute next, after the pulls if any), 0 if there is nothing to do (applied or removed
 * meanwhile, or the plan failed and the status says so). */
int spec_retry_plan(SpecStore *s, Engine *e, SpecApply *a);
/* Execute the plan. */
int spec_execute(SpecStore *s, Engine *e, SpecApply *a);
int spec_remove(SpecStore *s, Engine *e, SpecApply *a);
/* Who owns a known spec, and its generation; -ENOENT if none. */
int spec_lookup(SpecStore *s, const char *name, uid_t *ret_owner, uint64_t *ret_generation);
/* Marks the spec Failed with a->error (its old state stays). */
int spec_set_failed(SpecStore *s, SpecApply *a);
/* After a failed plan: Pending if the pull of an image failed (failed_pull) for a reason that may go (its
 * registry not reachable yet, an image with pull policy Never not pulled yet) and root applied it (a retry
 * asks polkit nothing), else Failed. */
int spec_plan_failed(SpecStore *s, SpecApply *a);
