/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Inside the spec store: shared by spec-store.c (state, records, journals, recovery) and spec-apply.c (plan,
 * execute, remove). Worker thread only. */

#include "spec-apply.h"

typedef struct SpecState {
        char *name;
        uid_t owner_uid;
        char *origin;
        uint64_t generation;
        Spec *applied;       /* what the programs and links below were made from; NULL: nothing yet */
        GHashTable *objects; /* [Object] name → GArray of guint32 program ids */
        GHashTable *links;   /* [Attach] name → link id */
        SpecStatus status;
        char *error;
        char *waiting_for;
        SpecWait waiting_kind;
        Spec *desired;       /* pending: applied again when waiting_for appears */
        Caller desired_caller;
        char *desired_origin;
        char **desired_approved; /* a user's: what polkit said yes to for it (SpecApply.approved) */
} SpecState;

struct SpecStore {
        char *dir;
        GHashTable *specs; /* name → SpecState* */
};

SpecState *spec_state_new(const char *name);
void spec_state_free(void *st);
/* The state of a->name, made (owned by a->caller) if there is none. */
SpecState *spec_state_for(SpecStore *s, SpecApply *a);
/* The apply did not happen: the old state stays, the status (and a pending spec's record) says why. */
int spec_finish_unapplied(SpecStore *s, SpecApply *a, SpecStatus status, SpecWait kind, const char *waiting_for);
char *spec_file_path(SpecStore *s, const char *name, const char *suffix);
GArray *spec_record_get_ids(GKeyFile *kf, const char *group, const char *key);
void spec_set_str(char **field, const char *v);
SpecView *spec_state_view(SpecState *st);
/* A test hook: BPFD_TEST_SPEC_CRASH=POINT kills bpfd at that point, as kill -9 would. */
void spec_crash_point(const char *point);
/* The commit point: the record names the applied spec and its ids; unload/detach: what is still to go. */
int spec_record_save(SpecStore *s, SpecState *st, GArray *unload, GArray *detach, bool removing);
void spec_record_remove(SpecStore *s, const char *name, const char *suffix);
int spec_pending_save(SpecStore *s, SpecState *st);
/* swapped: [Attach] names of the old state whose XDP links were detached to make room (NULL: none). */
int spec_journal_write(SpecStore *s, const char *name, uint64_t generation, GPtrArray *swapped);
/* Attaches an [Attach] of the applied spec again (its link was detached by an apply that did not commit);
 * st->links gets the new link; with a, noted for the bus view. */
int spec_reattach(Engine *e, SpecState *st, const char *attach_name, SpecApply *a);
/* Unload or detach what is still there; with a, note it for the bus view. */
void spec_unload_quietly(Engine *e, uint32_t id, SpecApply *a);
void spec_detach_quietly(Engine *e, uint32_t id, SpecApply *a);
bool spec_ids_contain(GArray *ids, uint32_t id);
void spec_ids_add(GArray *a, uint32_t id);

/* spec-plan.c, for the execution of a plan. */
bool spec_kept_attach(SpecState *st, Engine *e, const SpecAttach *at, uint32_t *ret_link);
int spec_object_index(const Spec *s, const char *name);
/* The load of [Object] number I of a->spec; its object is the pulled one if it is from an image. */
LoadRequest *spec_load_request(SpecApply *a, size_t i, uint32_t map_owner_id);
int spec_plan_attach(SpecApply *a, Engine *e, GArray *ids, const SpecAttach *at);
