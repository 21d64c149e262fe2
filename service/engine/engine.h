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

/* A managed program (referenced), or NULL; whether a managed link exists. */
ProgramInfo *engine_program_ref(Engine *e, uint32_t id);
bool engine_link_exists(Engine *e, uint32_t id);

