/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine: after polkit: the inspected bytes opened with libbpf, bound and checked. */
#include <assert.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "engine-internal.h"
#include "engine-steps.h"

static char *datasec_of_map(const struct bpf_map *map) {
        const char *dot = strchr(bpf_map__name(map), '.');
        return dot ? strdup(dot) : NULL;
}

/* Writes one global-data override into the object's initial values, checking name and size. */
static int apply_global(struct bpf_object *obj, const GlobalData *gd, EngineError *error) {
        struct btf *btf = bpf_object__btf(obj);
        struct bpf_map *map;

        assert(obj);
        assert(gd);

        if (!btf)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "Cannot set global '%s': the object has no BTF.", gd->name);
        bpf_object__for_each_map(map, obj) {
                _cleanup_free_ char *sec = NULL;
                const struct btf_type *t;
                const struct btf_var_secinfo *vs;
                int id;

                if (!bpf_map__is_internal(map) || !(sec = datasec_of_map(map)))
                        continue;
                if (!streq(sec, ".rodata") && !streq(sec, ".data") && !streq(sec, ".bss"))
                        continue;
                id = btf__find_by_name_kind(btf, sec, BTF_KIND_DATASEC);
                if (id < 0)
                        continue;
                t = btf__type_by_id(btf, id);
                vs = btf_var_secinfos(t);
                for (unsigned i = 0; i < btf_vlen(t); i++, vs++) {
                        const struct btf_type *var = btf__type_by_id(btf, vs->type);
                        const char *name = btf__name_by_offset(btf, var->name_off);
                        uint8_t *data;
                        size_t size;

                        if (!name || !streq(name, gd->name))
                                continue;
                        if (vs->size != gd->size)
                                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                         "The global '%s' is %u bytes long, the value given is %zu.",
                                                         gd->name, vs->size, gd->size);
                        /* libbpf 1.4 hands out the initial value writable, in place, until the object loads. */
                        data = bpf_map__initial_value(map, &size);
                        if (!data || vs->offset + vs->size > size)
                                return engine_error_setf(error, BPFD_ERR_INVALID_OBJECT,
                                                         "The global '%s' lies outside its section.", gd->name);
                        memcpy(data + vs->offset, gd->data, gd->size);
                        return 0;
                }
        }
        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                 "The object has no global variable '%s' in .rodata, .data or .bss.", gd->name);
}

/* fentry/fexit programs name their kernel function at load: from the load's attach target, or from the
 * section. Check it in the kernel's BTF here, for a clear error instead of libbpf's. */
static int bind_tracing_program(Engine *e, LoadRequest *req, size_t i, EngineError *error) {
        struct bpf_program *prog = bpf_object__find_program_by_name(req->obj, req->selected[i]);
        AttachTarget section_target = { .kind = req->kinds[i] };
        const char *function = NULL;
        int r;

        assert(e);
        assert(req);
        assert(req->obj);
        assert(i < strv_length(req->selected));

        for (size_t t = 0; t < req->n_targets; t++)
                if (streq(req->targets[t].program, req->selected[i])) {
                        if (function && !streq(function, req->targets[t].function))
                                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                         "An %s program traces one function; '%s' has two targets.",
                                                         kind_to_string(req->kinds[i]), req->selected[i]);
                        function = req->targets[t].function;
                }
        r = attach_target_fill_from_section(&section_target, bpf_program__section_name(prog));
        if (r < 0)
                return r;
        if (!function)
                function = section_target.function;
        if (!function) {
                attach_target_done(&section_target);
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "Program '%s' is an %s program without a function in its section; give one "
                                         "with an attach target ('function') in the same load.",
                                         req->selected[i], kind_to_string(req->kinds[i]));
        }
        if (!e->vmlinux_btf)
                e->vmlinux_btf = btf__load_vmlinux_btf();
        if (!e->vmlinux_btf)
                r = engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED,
                                      "This kernel has no BTF (/sys/kernel/btf/vmlinux); fentry/fexit need it.");
        else if (btf__find_by_name_kind(e->vmlinux_btf, function, BTF_KIND_FUNC) < 0)
                r = engine_error_setf(error, BPFD_ERR_ATTACH_TARGET_NOT_FOUND,
                                      "There is no kernel function '%s' in the kernel's BTF; fentry/fexit can "
                                      "trace only functions listed there.",
                                      function);
        else {
                r = bpf_program__set_attach_target(prog, 0, function);
                if (r < 0)
                        r = engine_error_set_errnof(error, r, "Cannot bind '%s' to '%s': %m", req->selected[i],
                                                    function);
                else {
                        free(req->attach_functions[i]);
                        req->attach_functions[i] = strdup(function);
                        if (!req->attach_functions[i])
                                r = -ENOMEM;
                }
        }
        attach_target_done(&section_target);
        return r;
}

/* A load that names another managed program shares its maps: every map of the new object with the name of
 * one of the owner's (not the per-object .rodata/.data/.bss) is that map. Same shape or a clear error. */
static int reuse_owner_maps(Engine *e, LoadRequest *req, EngineError *error) {
        Group *g = g_hash_table_lookup(e->programs, GUINT_TO_POINTER(req->map_owner_id));
        ProgramInfo *owner = g ? group_find_program(g, req->map_owner_id, NULL) : NULL;
        struct bpf_map *map;
        int r;

        assert(e);
        assert(req);
        assert(req->obj);

        if (!owner)
                return engine_error_setf(error, BPFD_ERR_PROGRAM_NOT_FOUND,
                                         "No program %" PRIu32 " is loaded by bpfd to share maps with.", req->map_owner_id);
        bpf_object__for_each_map(map, req->obj) {
                const MapInfo *m = NULL;
                struct bpf_map_info info = {};
                uint32_t len = sizeof info;
                _cleanup_close_ int fd = -1;

                if (bpf_map__is_internal(map))
                        continue;
                for (size_t i = 0; i < owner->n_maps && !m; i++)
                        if (streq(owner->maps[i].name, bpf_map__name(map)))
                                m = &owner->maps[i];
                if (!m)
                        continue;
                fd = bpf_obj_get(m->pin_path);
                if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
                        return engine_error_set_errnof(error, -errno, "Cannot open the shared map '%s': %m", m->name);
                if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
                    info.value_size != bpf_map__value_size(map) || info.max_entries != bpf_map__max_entries(map))
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "Map '%s' of the object does not match program %" PRIu32 "'s (%s, key %u, "
                                                 "value %u, %u entries there).",
                                                 m->name, owner->id, libbpf_bpf_map_type_str(info.type) ?: "?",
                                                 info.key_size, info.value_size, info.max_entries);
                r = bpf_map__reuse_fd(map, fd);
                if (r < 0)
                        return engine_error_set_errnof(error, r, "Cannot share map '%s': %m", m->name);
                if (strv_push(&req->shared_maps, strdup(m->name)) < 0 || strv_push(&req->shared_maps, strdup(m->pin_path)) < 0)
                        return -ENOMEM;
        }
        if (!req->shared_maps)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "The object has no map of the same name as program %" PRIu32 "'s.", owner->id);
        req->map_owner_group = owner->map_group ?: owner->load_group;
        return 0;
}

/* After polkit: the bytes bpfd-inspect sealed, opened with libbpf for the first time in a privileged place.
 * They are the same bytes, so libbpf must see what the helper saw. */
int load_open(Engine *e, LoadRequest *req, EngineError *error) {
        _cleanup_free_ char *objname = NULL;
        struct bpf_program *prog;
        struct stat st;
        ssize_t n;
        int r;

        assert(e);
        assert(req);
        assert(req->selected);
        assert(req->kinds);

        if (req->object_memfd < 0 || fstat(req->object_memfd, &st) < 0 || (size_t) st.st_size != req->object_size ||
            fcntl(req->object_memfd, F_GET_SEALS) != (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL))
                return engine_error_setf(error, BPFD_ERR_FAILED, "The inspected object is not sealed.");
        req->object_data = malloc(req->object_size ?: 1);
        if (!req->object_data)
                return -ENOMEM;
        n = pread(req->object_memfd, req->object_data, req->object_size, 0);
        if (n != (ssize_t) req->object_size)
                return engine_error_setf(error, BPFD_ERR_FAILED, "Cannot read the inspected object.");

        /* libbpf copies what it needs at open; keep the bytes all the same for programs that a dispatcher
         * loads again as extensions when they are attached (XDP, TC). */
        objname = object_name_of(req->source);
        LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = objname);
        libbpf_log_begin();
        req->obj = bpf_object__open_mem(req->object_data, req->object_size, &opts);
        if (!req->obj) {
                _cleanup_free_ char *why = libbpf_log_last_line();
                return engine_error_setf(error, BPFD_ERR_INVALID_OBJECT, "Not a usable BPF object: %s", strempty(why));
        }
        for (size_t i = 0; req->selected[i]; i++) {
                prog = bpf_object__find_program_by_name(req->obj, req->selected[i]);
                if (!prog || kind_of_program(prog) != req->kinds[i])
                        return engine_error_setf(error, BPFD_ERR_FAILED,
                                                 "The object does not hold what its inspection said (program '%s').",
                                                 req->selected[i]);
        }
        bpf_object__for_each_program(prog, req->obj)
                bpf_program__set_autoload(prog, strv_contains(req->selected, bpf_program__name(prog)));

        for (size_t i = 0; req->selected[i]; i++)
                if (IN_SET2(req->kinds[i], KIND_FENTRY, KIND_FEXIT)) {
                        r = bind_tracing_program(e, req, i, error);
                        if (r < 0)
                                return r;
                }
        /* Only now, with polkit's yes for the owner's maps (org.bpfd.map-others), are their shapes compared. */
        if (req->map_owner_id) {
                r = reuse_owner_maps(e, req, error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < req->n_globals; i++) {
                r = apply_global(req->obj, &req->globals[i], error);
                if (r < 0)
                        return r;
        }
        return 0;
}
