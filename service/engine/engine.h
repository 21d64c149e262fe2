/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <bpf/libbpf.h>
#include <glib.h>

#include "caller.h"
#include "engine-changes.h"
#include "engine-error.h"
#include "model.h"

/* The engine does all BPF and bpffs work and owns the truth about what is loaded: pins on bpfd's own bpffs
 * plus one crash-safe record per load group in the state directory. It runs on the worker thread only. */
typedef struct Engine Engine;

typedef struct LoadRequest {
        /* inputs, filled on the bus thread */
        int object_fd;    /* the caller's descriptor (LoadFromFd), or -1 */
        char *path;       /* LoadFromPath: opened as the caller */
        char *source;     /* what Program.Source shows */
        Caller caller;
        char **programs;
        bool programs_given;
        GlobalData *globals;
        size_t n_globals;
        char **metadata;  /* key, value, ... */
        AttachTarget *targets;
        size_t n_targets;
        uint32_t map_owner_id;   /* reuse the maps of this managed program (by name) */
        char *image_ref;         /* LoadFromImage: canonical; pulled (per pull_policy) by the puller, the object
                                  * then in object_fd */
        char *image_registry;
        int pull_policy;         /* an ImagePullPolicy */
        char *image_digest;      /* after inspect: the manifest digest of the pulled image */
        char **shared_maps;      /* after inspect: map name, pin path, ... of the maps reused */
        uint32_t map_owner_group; /* after inspect: the load group whose directory holds them */
        /* after engine_prepare_load() (worker, before polkit): the object, opened as the caller, goes to
         * bpfd-inspect; attach targets naming files are opened as the caller (attach_target_resolve()) */
        pid_t inspect_pid;
        int inspect_sock;
        /* after load_plan() (bus thread, from the inspection): what the object holds, for authorization */
        int object_memfd;        /* the sealed bytes bpfd-inspect read: exactly these are loaded */
        char **selected;
        Kind *kinds;
        int *expected_attach_types;
        /* on the worker, after polkit */
        struct bpf_object *obj;
        char **attach_functions; /* per selected program: the function fentry/fexit trace, else NULL */
        char *object_data;       /* the ELF bytes, kept for XDP and TC programs (see engine_group_object) */
        size_t object_size;
        /* after engine_load() */
        ProgramInfo **loaded;
        size_t n_loaded;
        LinkInfo **links;
        size_t n_links;
} LoadRequest;

LoadRequest *load_request_new(void);
void load_request_free(LoadRequest *r);

/* A program seen in the kernel, whoever loaded it. */
typedef struct KernelProgram {
        uint32_t id;
        char name[16];
        const char *kernel_type;
        Kind kind; /* KIND_INVALID where the type does not tell */
        char tag[17];
        uint64_t load_time_usec;
        uint32_t *map_ids;
        uint32_t n_map_ids;
        uint64_t run_count, run_time_ns; /* 0 unless run statistics are on */
} KernelProgram;

void kernel_programs_free(KernelProgram *p, size_t n);

int engine_new(const char *runtime_dir, Engine **ret);
Engine *engine_free(Engine *e);
const char *engine_bpffs_path(Engine *e);

/* Worker thread only, from here on. */
/* What entered and left the engine's indexes since the last call, in order (see engine-changes.h). */
EngineChanges *engine_take_changes(Engine *e);
void engine_probe(Engine *e, bool supported[_KIND_MAX]);
int engine_recover(Engine *e);
/* Every managed program and link, referenced. */
int engine_snapshot(Engine *e, ProgramInfo ***ret_programs, size_t *ret_n_programs, LinkInfo ***ret_links,
                    size_t *ret_n_links);
/* Before polkit: gets the object (opens a path as the caller, or takes the caller's fd or the puller's
 * memfd) and starts bpfd-inspect on the object. Parses nothing of the caller's. The attach targets are
 * opened as the caller once the plan completed them (targets_open_as_caller()). */
int engine_prepare_load(Engine *e, LoadRequest *req, EngineError *error);
/* Worker: engine_prepare_load(), the plan from bpfd-inspect's answer, waiting for it, and the targets opened
 * as the caller (specs). */
int engine_inspect(Engine *e, LoadRequest *req, EngineError *error);
/* After polkit: opens the inspected bytes with libbpf, binds, shares maps, loads, pins, attaches. */
int engine_load(Engine *e, LoadRequest *req, EngineError *error);
int engine_attach(Engine *e, uint32_t program_id, const AttachTarget *target, const Caller *caller,
                  LinkInfo **ret, EngineError *error);
int engine_detach(Engine *e, uint32_t link_id, EngineError *error);
/* Returns the ids of the links that went with the program. */
int engine_unload(Engine *e, uint32_t program_id, uint32_t **ret_link_ids, size_t *ret_n, EngineError *error);
/* Every interface of bpfd's own network namespace, and those of other namespaces where bpfd has links, with
 * the chains on their hooks. Links whose interface or namespace is gone are dropped (pins removed, records
 * rewritten); their ids come back in ret_gone. */
int engine_scan_interfaces(Engine *e, InterfaceInfo ***ret, size_t *ret_n, uint32_t **ret_gone, size_t *ret_n_gone);
/* An interface by namespace (inode) and index. */
typedef struct InterfaceKey {
        uint64_t netns_ino;
        uint32_t ifindex;
} InterfaceKey;
/* The same for these interfaces only, after a change bpfd made on them or an rtnetlink event about them.
 * Interfaces that are no longer there (or, in other namespaces, no longer hold links of bpfd) come back in
 * ret_vanished; links on vanished interfaces are dropped as above (ret_gone). */
int engine_scan_interfaces_of(Engine *e, const InterfaceKey *keys, size_t n_keys, InterfaceInfo ***ret, size_t *ret_n,
                              InterfaceKey **ret_vanished, size_t *ret_n_vanished, uint32_t **ret_gone, size_t *ret_n_gone);
typedef enum MapOp {
        MAP_OP_INFO,
        MAP_OP_LOOKUP,
        MAP_OP_DUMP,
        MAP_OP_UPDATE,
        MAP_OP_DELETE,
        MAP_OP_RINGBUF,
} MapOp;

/* One map operation: inputs from the bus thread, results from the worker. */
typedef struct MapAccess {
        MapOp op;
        char *map;
        uint8_t *key;
        size_t key_size_given;
        uint8_t *value;          /* update: input; lookup: result */
        size_t value_len;
        uint64_t flags;
        /* results */
        GPtrArray *entries;      /* dump: GBytes key, value, key, value, ... */
        char *type;
        char *pin_path;
        uint32_t map_id, map_type, key_size, value_size, max_entries, map_flags;
        uint32_t btf_key_type_id, btf_value_type_id, possible_cpus;
        bool per_cpu;
        uint8_t *btf;
        size_t btf_size;
        int ringbuf_fd;          /* ringbuf: the map, for the caller (owned; -1 otherwise) */
} MapAccess;

void map_access_done(MapAccess *a);
int engine_map_access(Engine *e, uint32_t program_id, MapAccess *a, EngineError *error);

/* A managed program (referenced), or NULL; whether a managed link exists. */
ProgramInfo *engine_program_ref(Engine *e, uint32_t id);
bool engine_link_exists(Engine *e, uint32_t id);

int engine_kernel_programs(Engine *e, KernelProgram **ret, size_t *ret_n, EngineError *error);
int engine_kernel_program(Engine *e, uint32_t id, KernelProgram *ret, EngineError *error);
