/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine: the load, step by step, and the undo log every change goes through. */
#include <bpf/bpf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "engine-internal.h"
#include "log.h"

void undo_run(Undo *u) {
        for (guint i = u->slots ? u->slots->len : 0; i > 0; i--)
                remove_slot(u->engine, g_ptr_array_index(u->slots, i - 1));
        for (guint i = u->pins ? u->pins->len : 0; i > 0; i--)
                (void) unlink(g_ptr_array_index(u->pins, i - 1));
        if (u->map_dir)
                (void) rmdir(u->map_dir);
}

void undo_done(Undo *u) {
        /* Committed or undone: either way the journal has served. */
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
        g_ptr_array_set_size(u->pins, 0);
        if (u->slots)
                g_ptr_array_set_size(u->slots, 0);
}

int pin_fd(Undo *u, int fd, char *path) {
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

int engine_load(Engine *e, LoadRequest *req, EngineError *error) {
        _cleanup_(undo_done) Undo undo = { .engine = e, .pins = g_ptr_array_new_with_free_func(free),
                                           .slots = g_ptr_array_new_with_free_func(link_info_destroy),
                                           .journals = g_ptr_array_new_with_free_func(free) };
        Group *g = NULL;
        size_t n = strv_length(req->selected);
        struct bpf_map *map;
        _cleanup_free_ char *object_path = NULL;
        KernelProgram *kps = NULL;
        MapInfo *maps = NULL;
        size_t n_maps = 0;
        int r;

        r = load_open(e, req, error);
        if (r < 0)
                return r;
        libbpf_log_begin();
        r = bpf_object__load(req->obj);
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

        req->loaded = calloc(n, sizeof(ProgramInfo *));
        kps = calloc(n, sizeof(KernelProgram));
        if (!req->loaded || !kps) {
                free(kps);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                struct bpf_program *prog = bpf_object__find_program_by_name(req->obj, req->selected[i]);
                ProgramInfo *p = calloc(1, sizeof(ProgramInfo));

                if (!p)
                        goto nomem;
                req->loaded[req->n_loaded++] = p;
                p->n_ref = 1;
                p->fd = fcntl(bpf_program__fd(prog), F_DUPFD_CLOEXEC, 3);
                if (p->fd < 0)
                        goto fail_errno;
                r = kernel_program_from_fd(p->fd, &kps[i]);
                if (r < 0)
                        goto fail;
                p->id = kps[i].id;
                p->kernel_type = strdup(kps[i].kernel_type);
                p->tag = strdup(kps[i].tag);
                p->load_time_usec = kps[i].load_time_usec;
                p->load_group = req->loaded[0]->id;
                p->map_group = req->map_owner_group;
                p->image_reference = strdup(req->image_digest ? req->source + strlen("image:") : "");
                p->image_digest = strdup(strempty(req->image_digest));
                if (!p->image_reference || !p->image_digest)
                        goto nomem;
                p->name = strdup(req->selected[i]);
                p->kind = req->kinds[i];
                p->section = strdup(bpf_program__section_name(prog));
                p->owner_uid = req->caller.uid;
                p->source = strdup(strempty(req->source));
                p->expected_attach_type = bpf_program__expected_attach_type(prog);
                if (req->attach_functions && req->attach_functions[i] && *req->attach_functions[i] &&
                    !(p->attach_function = strdup(req->attach_functions[i])))
                        goto nomem;
                p->pin_path = path_join(e->fs_dir, "prog_%" PRIu32, p->id);
                if (!p->kernel_type || !p->tag || !p->name || !p->section || !p->source || !p->pin_path ||
                    copy_metadata_and_globals(p, req) < 0)
                        goto nomem;
                r = pin_fd(&undo, p->fd, strdup(p->pin_path));
                if (r < 0) {
                        engine_error_set_errnof(error, r, "Cannot pin program %" PRIu32 " at %s: %m", p->id,
                                                p->pin_path);
                        goto fail;
                }
        }

        /* The maps of one load are shared by its programs and pinned once, under the group's directory. */
        r = mkdir_p_one(e->maps_dir, 0755);
        if (r < 0)
                goto fail;
        undo.map_dir = path_join(e->maps_dir, "%" PRIu32, req->loaded[0]->id);
        if (!undo.map_dir)
                goto nomem;
        r = mkdir_p_one(undo.map_dir, 0755);
        if (r < 0)
                goto fail;
        bpf_object__for_each_map(map, req->obj) {
                struct bpf_map_info info = {};
                uint32_t len = sizeof info;
                _cleanup_free_ char *pin_name = NULL;
                const char *shared;
                int fd = bpf_map__fd(map);

                if (fd < 0)
                        continue;
                if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
                        goto fail_errno;
                maps = reallocarray(maps, n_maps + 1, sizeof(MapInfo));
                if (!maps)
                        goto nomem;
                pin_name = sanitize_pin_name(bpf_map__name(map));
                shared = NULL;
                for (char **s = req->shared_maps; s && s[0] && s[1] && !shared; s += 2)
                        if (streq(s[0], bpf_map__name(map)))
                                shared = s[1];
                maps[n_maps] = (MapInfo) { .id = info.id, .name = strdup(bpf_map__name(map)),
                                           .pin_path = shared ? strdup(shared)
                                                       : pin_name ? path_join(undo.map_dir, "%s", pin_name) : NULL };
                n_maps++;
                if (!maps[n_maps - 1].name || !maps[n_maps - 1].pin_path)
                        goto nomem;
                if (shared)
                        continue; /* pinned by its owner already */
                r = pin_fd(&undo, fd, strdup(maps[n_maps - 1].pin_path));
                if (r < 0) {
                        engine_error_set_errnof(error, r, "Cannot pin map '%s': %m", bpf_map__name(map));
                        goto fail;
                }
                /* The pins of the maps belong to the program's owner: their own tools can open them where the
                 * kernel lets unprivileged users use map file descriptors. */
                /* (group root keeps read-write: the worker has no CAP_DAC_OVERRIDE) */
                if (chmod(maps[n_maps - 1].pin_path, 0660) < 0 ||
                    chown(maps[n_maps - 1].pin_path, req->caller.uid, 0) < 0)
                        log_warning("Cannot give %s to uid %u: %m", maps[n_maps - 1].pin_path, (unsigned) req->caller.uid);
        }
        /* Each program lists the maps it really uses. */
        for (size_t i = 0; i < req->n_loaded; i++) {
                ProgramInfo *p = req->loaded[i];

                p->maps = calloc(kps[i].n_map_ids + 1, sizeof(MapInfo));
                if (!p->maps)
                        goto nomem;
                for (uint32_t k = 0; k < kps[i].n_map_ids; k++)
                        for (size_t m = 0; m < n_maps; m++)
                                if (maps[m].id == kps[i].map_ids[k]) {
                                        p->maps[p->n_maps++] = (MapInfo) { .id = maps[m].id,
                                                                           .name = strdup(maps[m].name),
                                                                           .pin_path = strdup(maps[m].pin_path) };
                                        break;
                                }
        }

        /* Dispatchers load XDP and TC programs again as extensions: keep the object for them. */
        for (size_t i = 0; i < req->n_loaded && !object_path; i++)
                if (IN_SET2(req->loaded[i]->kind, KIND_XDP, KIND_TC) || req->loaded[i]->kind == KIND_TCX) {
                        r = mkdir_p_one(e->objects_dir, 0700);
                        if (r < 0)
                                goto fail;
                        object_path = path_join(e->objects_dir, "group-%" PRIu32 ".o", req->loaded[0]->id);
                        if (!object_path)
                                goto nomem;
                        r = write_file_atomic(object_path, req->object_data, req->object_size);
                        if (r < 0) {
                                engine_error_set_errnof(error, r, "Cannot keep the object file: %m");
                                goto fail;
                        }
                        g_ptr_array_add(undo.pins, strdup(object_path));
                }

        req->links = calloc(req->n_targets + 1, sizeof(LinkInfo *));
        if (!req->links)
                goto nomem;
        for (size_t t = 0; t < req->n_targets; t++) {
                ProgramInfo *p = NULL;
                for (size_t i = 0; i < req->n_loaded; i++)
                        if (streq(req->loaded[i]->name, req->targets[t].program))
                                p = req->loaded[i];
                r = make_link(e, &undo, p, object_path, &req->targets[t], &req->caller, &req->links[req->n_links], error);
                if (r < 0)
                        goto fail;
                req->n_links++;
        }

        g = group_new(req->loaded[0]->id, req->caller.uid, req->source);
        if (!g)
                goto nomem;
        if (object_path && !(g->object_path = strdup(object_path)))
                goto nomem;
        for (size_t i = 0; i < req->n_loaded; i++)
                g_ptr_array_add(g->programs, program_info_ref(req->loaded[i]));
        for (size_t i = 0; i < req->n_links; i++)
                g_ptr_array_add(g->links, link_info_ref(req->links[i]));
        r = group_save(e, g);
        if (r < 0) {
                engine_error_set_errnof(error, r, "Cannot write the state record: %m");
                goto fail;
        }
        engine_index_group(e, g);
        g = NULL;
        undo_commit(&undo);
        free(TAKE_PTR(undo.map_dir));
        for (size_t m = 0; m < n_maps; m++) {
                free(maps[m].name);
                free(maps[m].pin_path);
        }
        free(maps);
        kernel_programs_free(kps, n);
        log_info("Loaded %zu program(s) from %s for uid %u, group %" PRIu32 ", %zu link(s).", req->n_loaded,
                 req->source, (unsigned) req->caller.uid, req->loaded[0]->id, req->n_links);
        return 0;

nomem:
        r = -ENOMEM;
        goto fail;
fail_errno:
        r = -errno;
fail:
        if (!engine_error_is_set(error))
                engine_error_set_errnof(error, r, "Loading failed: %m");
        group_free(g);
        undo_run(&undo);
        for (size_t m = 0; m < n_maps; m++) {
                free(maps[m].name);
                free(maps[m].pin_path);
        }
        free(maps);
        kernel_programs_free(kps, n);
        return r < 0 ? r : -EIO;
}
