/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the files of the engine (service/engine/engine*.c) share, and nothing outside them includes: the Engine
 * itself, its load groups, the records and the undo log of an operation. The steps the files offer one another
 * are in engine-steps.h (loading and linking) and engine-hooks.h (network hooks, the kernel's view). */

#include <bpf/libbpf.h>
#include <glib.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine.h"
#include "record.h"
#include "util.h"

#define OBJECT_SIZE_MAX (64U * 1024U * 1024U)

typedef struct Group {
        uint32_t id;
        uid_t owner_uid;
        char *source;
        char *object_path; /* the ELF object kept for dispatchers, or NULL */
        GPtrArray *programs; /* ProgramInfo* */
        GPtrArray *links;    /* LinkInfo* */
} Group;

struct Engine {
        char *runtime_dir;
        char *fs_dir;
        char *maps_dir;
        char *state_dir;
        char *objects_dir;
        char *tc_dir;
        GHashTable *groups;   /* group id → Group* (owned) */
        GHashTable *programs; /* program id → Group* */
        GHashTable *links;    /* link id → Group* */
        GHashTable *map_borrowers; /* load group id → how many programs of other groups use its maps */
        bool supported[_KIND_MAX];
        uint64_t link_seq;       /* attach order, for equal priorities on network hooks */
        uint32_t slot_id;        /* the last id given to a dispatcher slot */
        bool tcx_native;         /* the kernel has TCX; else tcx links are ordered cls_bpf filters */
        struct btf *vmlinux_btf; /* loaded on first use, for fentry/fexit checks */
        GHashTable *scan_slots;  /* during an interface scan: component id → LinkInfo* of a dispatcher slot */
        unsigned forgotten_programs; /* records whose program was gone at recovery (as after a reboot) */
        EngineChanges *changes;  /* programs and links in and out of the indexes since engine_take_changes() */
};

typedef struct Undo {
        Engine *engine;
        GPtrArray *pins;     /* paths to unlink if the operation fails */
        char *map_dir;
        GPtrArray *slots;    /* LinkInfo* of dispatcher slots to take out again if the operation fails */
        GPtrArray *journals; /* journal files to remove once the operation committed or was undone */
} Undo;

/* Our own privileges, for namespaces the caller named when attaching. */
extern const Caller daemon_caller;

/* engine.c: the Engine, its load groups and indexes, libbpf's messages */
void libbpf_log_begin(void);
char *libbpf_log_last_line(void);
char *libbpf_log_verifier(void);
void group_free(Group *g);
Group *group_new(uint32_t id, uid_t owner, const char *source);
char *path_join(const char *a, const char *fmt, ...) _printf_(2, 3);
int mkdir_p_one(const char *p, mode_t mode);
GPtrArray *engine_all_links(Engine *e);
void map_borrowers_add(Engine *e, uint32_t gid, int delta);
void engine_index_group(Engine *e, Group *g);
ProgramInfo *group_find_program(Group *g, uint32_t id, guint *ret_index);
LinkInfo *engine_find_link(Engine *e, uint32_t id);

/* engine-records.c: the records: one key file per load group, and the journal of a slot being added */
int group_save(Engine *e, Group *g);
int group_remove_record(Engine *e, uint32_t id);
int journal_write(Engine *e, Undo *u, const LinkInfo *l);

/* engine-load.c: the load, step by step, and the undo log every change goes through */
void undo_run(Undo *u);
void undo_done(Undo *u);
void undo_commit(Undo *u);
int pin_fd(Undo *u, int fd, char *path);

