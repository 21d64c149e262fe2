/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine: the load, step by step, and the undo log every change goes through. */
#include <assert.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "engine-internal.h"
#include "engine-steps.h"
#include "engine-hooks.h"
#include "log.h"
#include "engine-load.h"

void undo_run(Undo *u) {
        assert(u);

        for (guint i = u->slots ? u->slots->len : 0; i > 0; i--)
                remove_slot(u->engine, g_ptr_array_index(u->slots, i - 1));
        for (guint i = u->pins ? u->pins->len : 0; i > 0; i--)
                (void) unlink(g_ptr_array_index(u->pins, i - 1));
        if (u->map_dir)
                (void) rmdir(u->map_dir);
}

void undo_done(Undo *u) {
        /* Committed or undone: either way the journal has served. */
        assert(u);

        for (guint i = u->journals ? u->journals->len : 0; i > 0; i--)
                (void) unlink(g_ptr_array_index(u->journals, i - 1));
        if (u->journals)
                g_ptr_array_unref(u->journals);
        if (u->slots)
                g_ptr_array_unref(u->slots);
        if (u->pins)
                g_ptr_array_unref(u->pins);
        free(u->map_dir);
}

void undo_commit(Undo *u) {
        assert(u);
        assert(u->pins);

        g_ptr_array_set_size(u->pins, 0);
        if (u->slots)
                g_ptr_array_set_size(u->slots, 0);
}

int pin_fd(Undo *u, int fd, char *path) {
        assert(u);
        assert(u->pins);
        assert(fd >= 0);

        if (bpf_obj_pin(fd, path) < 0) {
                int r = -errno;
                free(path);
                return r;
        }
        g_ptr_array_add(u->pins, path);
        return 0;
}

static char *sanitize_pin_name(const char *name) {
        char *s = strdup(name);
        /* bpffs refuses names with dots, and internal maps are called ".rodata" and the like. */
        for (char *p = s; p && *p; p++)
                if (*p == '.' || *p == '/')
                        *p = '_';
        return s;
}

static int copy_metadata_and_globals(ProgramInfo *p, const LoadRequest *req) {
        assert(p);
        assert(req);

        p->metadata = strv_copy(req->metadata ?: (char *[]) { NULL });
        if (!p->metadata)
                return -ENOMEM;
        if (req->n_globals == 0)
                return 0;
        p->globals = calloc(req->n_globals, sizeof(GlobalData));
        if (!p->globals)
                return -ENOMEM;
        for (size_t i = 0; i < req->n_globals; i++, p->n_globals++) {
                p->globals[i].name = strdup(req->globals[i].name);
                p->globals[i].data = malloc(req->globals[i].size + 1);
                if (!p->globals[i].name || !p->globals[i].data)
                        return -ENOMEM;
                memcpy(p->globals[i].data, req->globals[i].data, req->globals[i].size);
                p->globals[i].size = req->globals[i].size;
        }
        return 0;
}

/* One load on its way: what engine_load()'s steps build, and the undo log that takes it back if a step
 * fails. */
typedef struct Load {
        Engine *engine;
        LoadRequest *req;
        Undo undo;
        size_t n_selected;
        KernelProgram *kps; /* per selected program, as the kernel has it */
        MapInfo *maps;      /* every map of the object, pinned in the group's directory or shared */
        size_t n_maps;
        char *object_path;  /* the object kept for dispatchers, or NULL */
} Load;

static void load_done(Load *l) {
        for (size_t m = 0; m < l->n_maps; m++) {
                free(l->maps[m].name);
                free(l->maps[m].pin_path);
        }
        free(l->maps);
        kernel_programs_free(l->kps, l->n_selected);
        free(l->object_path);
        undo_done(&l->undo);
}

/* The kernel's verifier, through libbpf; its log goes into the error. */
static int load__verify(Load *l, EngineError *error) {
        int r;

        libbpf_log_begin();
        r = bpf_object__load(l->req->obj);
        if (r < 0) {
                _cleanup_free_ char *vlog = libbpf_log_verifier(), *last = libbpf_log_last_line();
                if (vlog)
                        return engine_error_setf(error, BPFD_ERR_VERIFIER_REJECTED,
                                                 "The kernel verifier rejected the program (%s). Verifier log:\n%s",
                                                 strerror(-r), vlog);
                return engine_error_setf(error, r == -EPERM ? BPFD_ERR_NOT_SUPPORTED : BPFD_ERR_FAILED,
                                         "The kernel refused to load the object: %s (%s)", strerror(-r),
                                         strempty(last));
        }
        return 0;
}

/* The i-th selected program: what bpfd records of it, and its pin. */
static int load__program(Load *l, size_t i, EngineError *error) {
        LoadRequest *req = l->req;
        struct bpf_program *prog = bpf_object__find_program_by_name(req->obj, req->selected[i]);
        ProgramInfo *p;
        int r;

        assert(prog); /* load_open() checked that the object holds every selected program */
        p = calloc(1, sizeof(ProgramInfo));
        if (!p)
                return -ENOMEM;
        req->loaded[req->n_loaded++] = p;
        p->n_ref = 1;
        p->fd = fcntl(bpf_program__fd(prog), F_DUPFD_CLOEXEC, 3);
        if (p->fd < 0)
                return -errno;
        r = kernel_program_from_fd(p->fd, &l->kps[i]);
        if (r < 0)
                return r;
        p->id = l->kps[i].id;
        p->kernel_type = strdup(l->kps[i].kernel_type);
        p->tag = strdup(l->kps[i].tag);
        p->load_time_usec = l->kps[i].load_time_usec;
        p->load_group = req->loaded[0]->id;
        p->map_group = req->map_owner_group;
        p->image_reference = strdup(req->image_digest ? req->source + strlen("image:") : "");
        p->image_digest = strdup(strempty(req->image_digest));
        if (!p->image_reference || !p->image_digest)
                return -ENOMEM;
        p->name = strdup(req->selected[i]);
        p->kind = req->kinds[i];
        p->section = strdup(bpf_program__section_name(prog));
        p->owner_uid = req->caller.uid;
        p->source = strdup(strempty(req->source));
        p->expected_attach_type = bpf_program__expected_attach_type(prog);
        if (req->attach_functions && req->attach_functions[i] && *req->attach_functions[i] &&
            !(p->attach_function = strdup(req->attach_functions[i])))
                return -ENOMEM;
        p->pin_path = path_join(l->engine->fs_dir, "prog_%" PRIu32, p->id);
        if (!p->kernel_type || !p->tag || !p->name || !p->section || !p->source || !p->pin_path ||
            copy_metadata_and_globals(p, req) < 0)
                return -ENOMEM;
        r = pin_fd(&l->undo, p->fd, strdup(p->pin_path));
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot pin program %" PRIu32 " at %s: %m", p->id,
                                               p->pin_path);
        return 0;
}

static int load__programs(Load *l, EngineError *error) {
        LoadRequest *req = l->req;
        int r;

        req->loaded = calloc(l->n_selected, sizeof(ProgramInfo *));
        l->kps = calloc(l->n_selected, sizeof(KernelProgram));
        if (!req->loaded || !l->kps)
                return -ENOMEM;
        for (size_t i = 0; i < l->n_selected; i++) {
                r = load__program(l, i, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* One map of the object: pinned under the group's directory for the program's owner, or, when it is the
 * map of another program this load shares, recorded with that program's pin. */
static int load__pin_map(Load *l, struct bpf_map *map, EngineError *error) {
        LoadRequest *req = l->req;
        struct bpf_map_info info = {};
        uint32_t len = sizeof info;
        _cleanup_free_ char *pin_name = NULL;
        const char *shared = NULL;
        int fd = bpf_map__fd(map), r;
        MapInfo *maps, *m;

        if (fd < 0)
                return 0;
        if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
                return -errno;
        /* Into a new array first: on failure the old one (and what its entries own) is still freed. */
        maps = reallocarray(l->maps, l->n_maps + 1, sizeof(MapInfo));
        if (!maps)
                return -ENOMEM;
        l->maps = maps;
        pin_name = sanitize_pin_name(bpf_map__name(map));
        for (char **s = req->shared_maps; s && s[0] && s[1] && !shared; s += 2)
                if (streq(s[0], bpf_map__name(map)))
                        shared = s[1];
        m = &l->maps[l->n_maps++];
        *m = (MapInfo) { .id = info.id, .name = strdup(bpf_map__name(map)),
                         .pin_path = shared ? strdup(shared) : pin_name ? path_join(l->undo.map_dir, "%s", pin_name) : NULL };
        if (!m->name || !m->pin_path)
                return -ENOMEM;
        if (shared)
                return 0; /* pinned by its owner already */
        r = pin_fd(&l->undo, fd, strdup(m->pin_path));
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot pin map '%s': %m", bpf_map__name(map));
        /* The pins of the maps belong to the program's owner: their own tools can open them where the
         * kernel lets unprivileged users use map file descriptors. */
        /* (group root keeps read-write: the worker has no CAP_DAC_OVERRIDE) */
        if (chmod(m->pin_path, 0660) < 0 || chown(m->pin_path, req->caller.uid, 0) < 0)
                log_warning("Cannot give %s to uid %u: %m", m->pin_path, (unsigned) req->caller.uid);
        return 0;
}

/* The maps of one load are shared by its programs and pinned once, under the group's directory. */
static int load__pin_maps(Load *l, EngineError *error) {
        Engine *e = l->engine;
        struct bpf_map *map;
        int r;

        r = mkdir_p_one(e->maps_dir, 0755);
        if (r < 0)
                return r;
        l->undo.map_dir = path_join(e->maps_dir, "%" PRIu32, l->req->loaded[0]->id);
        if (!l->undo.map_dir)
                return -ENOMEM;
        r = mkdir_p_one(l->undo.map_dir, 0755);
        if (r < 0)
                return r;
        bpf_object__for_each_map(map, l->req->obj) {
                r = load__pin_map(l, map, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Each program lists the maps it really uses. */
static int load__assign_maps(Load *l) {
        LoadRequest *req = l->req;

        for (size_t i = 0; i < req->n_loaded; i++) {
                ProgramInfo *p = req->loaded[i];

                p->maps = calloc(l->kps[i].n_map_ids + 1, sizeof(MapInfo));
                if (!p->maps)
                        return -ENOMEM;
                for (uint32_t k = 0; k < l->kps[i].n_map_ids; k++)
                        for (size_t m = 0; m < l->n_maps; m++)
                                if (l->maps[m].id == l->kps[i].map_ids[k]) {
                                        MapInfo *mi = &p->maps[p->n_maps++];
                                        *mi = (MapInfo) { .id = l->maps[m].id, .name = strdup(l->maps[m].name),
                                                          .pin_path = strdup(l->maps[m].pin_path) };
                                        if (!mi->name || !mi->pin_path)
                                                return -ENOMEM;
                                        break;
                                }
        }
        return 0;
}

/* Dispatchers load XDP and TC programs again as extensions: keep the object for them. */
static int load__keep_object(Load *l, EngineError *error) {
        Engine *e = l->engine;
        LoadRequest *req = l->req;
        bool needed = false;
        int r;

        for (size_t i = 0; i < req->n_loaded; i++)
                needed = needed || IN_SET2(req->loaded[i]->kind, KIND_XDP, KIND_TC) || req->loaded[i]->kind == KIND_TCX;
        if (!needed)
                return 0;
        r = mkdir_p_one(e->objects_dir, 0700);
        if (r < 0)
                return r;
        l->object_path = path_join(e->objects_dir, "group-%" PRIu32 ".o", req->loaded[0]->id);
        if (!l->object_path)
                return -ENOMEM;
        r = write_file_atomic(l->object_path, req->object_data, req->object_size);
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot keep the object file: %m");
        g_ptr_array_add(l->undo.pins, strdup(l->object_path));
        return 0;
}

/* The attach targets given with the load. */
static int load__attach(Load *l, EngineError *error) {
        LoadRequest *req = l->req;
        int r;

        req->links = calloc(req->n_targets + 1, sizeof(LinkInfo *));
        if (!req->links)
                return -ENOMEM;
        for (size_t t = 0; t < req->n_targets; t++) {
                ProgramInfo *p = NULL;

                for (size_t i = 0; i < req->n_loaded; i++)
                        if (streq(req->loaded[i]->name, req->targets[t].program))
                                p = req->loaded[i];
                assert(p); /* load_plan() gave every target a program of the load */
                r = make_link(l->engine, &l->undo, p, l->object_path, &req->targets[t], &req->caller,
                              &req->links[req->n_links], error);
                if (r < 0)
                        return r;
                req->n_links++;
        }
        return 0;
}

/* The commit point: the group's record written, then the indexes. */
static int load__commit(Load *l, EngineError *error) {
        LoadRequest *req = l->req;
        Group *g;
        int r;

        g = group_new(req->loaded[0]->id, req->caller.uid, req->source);
        if (!g)
                return -ENOMEM;
        if (l->object_path && !(g->object_path = strdup(l->object_path))) {
                group_free(g);
                return -ENOMEM;
        }
        for (size_t i = 0; i < req->n_loaded; i++)
                g_ptr_array_add(g->programs, program_info_ref(req->loaded[i]));
        for (size_t i = 0; i < req->n_links; i++)
                g_ptr_array_add(g->links, link_info_ref(req->links[i]));
        r = group_save(l->engine, g);
        if (r < 0) {
                group_free(g);
                return engine_error_set_errnof(error, r, "Cannot write the state record: %m");
        }
        engine_index_group(l->engine, g);
        undo_commit(&l->undo);
        free(TAKE_PTR(l->undo.map_dir));
        return 0;
}

int engine_load(Engine *e, LoadRequest *req, EngineError *error) {
        _cleanup_(load_done) Load l = {
                .engine = e, .req = req, .n_selected = strv_length(req->selected),
                .undo = { .engine = e, .pins = g_ptr_array_new_with_free_func(free),
                          .slots = g_ptr_array_new_with_free_func(link_info_destroy),
                          .journals = g_ptr_array_new_with_free_func(free) },
        };
        int r;

        assert(e);
        assert(req);
        assert(l.n_selected > 0); /* load_plan() selected at least one program */
        r = load_open(e, req, error);
        if (r < 0)
                return r;
        r = load__verify(&l, error);
        if (r >= 0)
                r = load__programs(&l, error);
        if (r >= 0)
                r = load__pin_maps(&l, error);
        if (r >= 0)
                r = load__assign_maps(&l);
        if (r >= 0)
                r = load__keep_object(&l, error);
        if (r >= 0)
                r = load__attach(&l, error);
        if (r >= 0)
                r = load__commit(&l, error);
        if (r < 0) {
                if (!engine_error_is_set(error))
                        engine_error_set_errnof(error, r, "Loading failed: %m");
                undo_run(&l.undo);
                return r;
        }
        log_info("Loaded %zu program(s) from %s for uid %u, group %" PRIu32 ", %zu link(s).", req->n_loaded,
                 req->source, (unsigned) req->caller.uid, req->loaded[0]->id, req->n_links);
        return 0;
}
