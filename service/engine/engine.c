/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <dirent.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <libgen.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "attach.h"
#include "netns.h"
#include "tcx.h"
#include "tc-dispatcher.h"
#include "xdp-chain.h"
#include "engine.h"
#include "engine-changes.h"
#include "netdev-dump.h"
#include "inspect.h"
#include "load-plan.h"
#include "caps.h"
#include "config.h"
#include "engine-error.h"
#include "log.h"

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

/* ---- libbpf's messages: collected while a load runs, so errors can quote them ---- */

static GString *libbpf_log;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap) {
        if (libbpf_log && level != LIBBPF_DEBUG)
                g_string_append_vprintf(libbpf_log, fmt, ap);
        else if (level == LIBBPF_WARN) {
                char buf[1024];
                vsnprintf(buf, sizeof buf, fmt, ap);
                log_debug("libbpf: %s", g_strchomp(buf));
        }
        return 0;
}

static void libbpf_log_begin(void) {
        if (libbpf_log)
                g_string_truncate(libbpf_log, 0);
        else
                libbpf_log = g_string_new(NULL);
}

/* The last line libbpf said, for one-line error messages. */
static char *libbpf_log_last_line(void) {
        char *s, *nl;

        if (!libbpf_log || libbpf_log->len == 0)
                return strdup("no details from libbpf");
        s = g_strchomp(g_strdup(libbpf_log->str));
        nl = strrchr(s, '\n');
        char *r = strdup(nl ? nl + 1 : s);
        g_free(s);
        if (r && strncmp(r, "libbpf: ", 8) == 0)
                memmove(r, r + 8, strlen(r + 8) + 1);
        return r;
}

static char *libbpf_log_verifier(void) {
        const char *b, *e;

        if (!libbpf_log || !(b = strstr(libbpf_log->str, "-- BEGIN PROG LOAD LOG --")))
                return NULL;
        b = strchr(b, '\n');
        if (!b)
                return NULL;
        b++;
        e = strstr(b, "-- END PROG LOAD LOG --");
        return strndup(b, e ? (size_t) (e - b) : strlen(b));
}

/* ---- small helpers ---- */

LoadRequest *load_request_new(void) {
        LoadRequest *r = calloc(1, sizeof(LoadRequest));

        if (!r)
                return NULL;
        r->object_fd = r->inspect_sock = r->object_memfd = -1;
        r->caller = CALLER_NULL;
        r->pull_policy = 1; /* IfNotPresent */
        return r;
}

void load_request_free(LoadRequest *r) {
        if (!r)
                return;
        if (r->object_fd >= 0)
                close(r->object_fd);
        if (r->inspect_pid > 0) {
                (void) kill(r->inspect_pid, SIGKILL);
                while (waitpid(r->inspect_pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        if (r->inspect_sock >= 0)
                close(r->inspect_sock);
        if (r->object_memfd >= 0)
                close(r->object_memfd);
        free(r->expected_attach_types);
        free(r->path);
        free(r->source);
        caller_done(&r->caller);
        strv_free(r->programs);
        for (size_t i = 0; i < r->n_globals; i++) {
                free(r->globals[i].name);
                free(r->globals[i].data);
        }
        free(r->globals);
        strv_free(r->metadata);
        for (size_t i = 0; i < r->n_targets; i++)
                attach_target_done(&r->targets[i]);
        free(r->targets);
        bpf_object__close(r->obj);
        for (size_t i = 0; r->selected && r->attach_functions && r->selected[i]; i++)
                free(r->attach_functions[i]);
        free(r->attach_functions);
        free(r->object_data);
        free(r->image_ref);
        free(r->image_registry);
        free(r->image_digest);
        strv_free(r->shared_maps);
        strv_free(r->selected);
        free(r->kinds);
        for (size_t i = 0; i < r->n_loaded; i++)
                program_info_unref(r->loaded[i]);
        free(r->loaded);
        for (size_t i = 0; i < r->n_links; i++)
                link_info_unref(r->links[i]);
        free(r->links);
        free(r);
}

void kernel_programs_free(KernelProgram *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(p[i].map_ids);
        free(p);
}

static uint64_t boottime_to_realtime_usec(uint64_t boot_ns) {
        return now_usec(CLOCK_REALTIME) - now_usec(CLOCK_BOOTTIME) + boot_ns / 1000ULL;
}

static void tag_to_hex(const uint8_t tag[8], char out[17]) {
        for (int i = 0; i < 8; i++)
                snprintf(out + 2 * i, 3, "%02x", tag[i]);
}

static void group_free(Group *g) {
        if (!g)
                return;
        free(g->source);
        free(g->object_path);
        g_ptr_array_unref(g->programs);
        g_ptr_array_unref(g->links);
        free(g);
}

static Group *group_new(uint32_t id, uid_t owner, const char *source) {
        Group *g = calloc(1, sizeof(Group));
        if (!g)
                return NULL;
        g->id = id;
        g->owner_uid = owner;
        g->source = strdup(strempty(source));
        g->programs = g_ptr_array_new_with_free_func(program_info_destroy);
        g->links = g_ptr_array_new_with_free_func(link_info_destroy);
        return g;
}

static char *path_join(const char *a, const char *fmt, ...) _printf_(2, 3);
static char *path_join(const char *a, const char *fmt, ...) {
        _cleanup_free_ char *b = NULL;
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&b, fmt, ap) < 0)
                b = NULL;
        va_end(ap);
        if (!b || asprintf(&s, "%s/%s", a, b) < 0)
                return NULL;
        return s;
}

/* The mode is the one meant whatever the umask (the unit sets UMask=0077): the maps directories must
 * stay searchable by the programs' owners. */
static int mkdir_p_one(const char *p, mode_t mode) {
        if (mkdir(p, mode) < 0)
                return errno == EEXIST ? 0 : -errno;
        if (chmod(p, mode) < 0)
                return -errno;
        return 0;
}

int engine_new(const char *runtime_dir, Engine **ret) {
        Engine *e = calloc(1, sizeof(Engine));

        if (!e)
                return -ENOMEM;
        e->runtime_dir = strdup(runtime_dir);
        e->fs_dir = path_join(runtime_dir, "fs");
        e->maps_dir = path_join(runtime_dir, "fs/maps");
        e->state_dir = path_join(runtime_dir, "state");
        e->objects_dir = path_join(runtime_dir, "state/objects");
        e->tc_dir = path_join(runtime_dir, "fs/tc");
        e->groups = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify) group_free);
        e->programs = g_hash_table_new(NULL, NULL);
        e->links = g_hash_table_new(NULL, NULL);
        e->map_borrowers = g_hash_table_new(NULL, NULL);
        e->slot_id = BPFD_SLOT_LINK_ID_BASE;
        if (!e->runtime_dir || !e->fs_dir || !e->maps_dir || !e->state_dir || !e->objects_dir || !e->tc_dir) {
                engine_free(e);
                return -ENOMEM;
        }
        libbpf_set_print(libbpf_print);
        *ret = e;
        return 0;
}

Engine *engine_free(Engine *e) {
        if (!e)
                return NULL;
        g_hash_table_unref(e->programs);
        g_hash_table_unref(e->links);
        g_hash_table_unref(e->map_borrowers);
        g_hash_table_unref(e->groups);
        free(e->runtime_dir);
        free(e->fs_dir);
        free(e->maps_dir);
        free(e->state_dir);
        free(e->objects_dir);
        free(e->tc_dir);
        btf__free(e->vmlinux_btf);
        engine_changes_free(e->changes);
        free(e);
        return NULL;
}

const char *engine_bpffs_path(Engine *e) {
        return e->fs_dir;
}

EngineChanges *engine_take_changes(Engine *e) {
        return TAKE_PTR(e->changes);
}

void engine_probe(Engine *e, bool supported[_KIND_MAX]) {
        kind_probe_kernel(e->supported);
        e->supported[KIND_TC] = e->supported[KIND_TC] && tc_dispatcher_supported();
        /* Without TCX the same chain is made of cls_bpf filters: a program returning TCX_NEXT (TC_ACT_UNSPEC)
         * lets the next filter run there too. */
        e->tcx_native = tcx_supported();
        e->supported[KIND_TCX] = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL) > 0;
        memcpy(supported, e->supported, sizeof e->supported);
}

/* ---- records: one key file per load group; writing it is the commit point of every change ---- */

static char *group_record_path(Engine *e, uint32_t id) {
        return path_join(e->state_dir, "group-%" PRIu32 ".conf", id);
}

static char *hex_encode(const uint8_t *d, size_t n) {
        char *s = malloc(n * 2 + 1);
        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i++)
                snprintf(s + 2 * i, 3, "%02x", d[i]);
        s[n * 2] = 0;
        return s;
}

static int hex_decode(const char *s, uint8_t **ret, size_t *ret_n) {
        size_t n = strlen(s);
        uint8_t *d;

        if (n % 2)
                return -EINVAL;
        d = malloc(n / 2 + 1);
        if (!d)
                return -ENOMEM;
        for (size_t i = 0; i < n / 2; i++) {
                unsigned v;
                if (sscanf(s + 2 * i, "%2x", &v) != 1) {
                        free(d);
                        return -EINVAL;
                }
                d[i] = (uint8_t) v;
        }
        *ret = d;
        *ret_n = n / 2;
        return 0;
}

static void keyfile_set_strv(GKeyFile *kf, const char *group, const char *key, char **l) {
        g_key_file_set_string_list(kf, group, key, (const char *const *) (l ?: (char *[]) { NULL }), strv_length(l));
}

static int group_save(Engine *e, Group *g) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        _cleanup_free_ char *path = group_record_path(e, g->id);
        g_autofree gchar *data = NULL;
        gsize size;

        if (!path)
                return -ENOMEM;
        g_key_file_set_uint64(kf, "Group", "Id", g->id);
        g_key_file_set_uint64(kf, "Group", "Owner", g->owner_uid);
        g_key_file_set_string(kf, "Group", "Source", g->source);
        if (g->object_path)
                g_key_file_set_string(kf, "Group", "Object", g->object_path);
        for (guint i = 0; i < g->programs->len; i++) {
                ProgramInfo *p = g_ptr_array_index(g->programs, i);
                g_autofree gchar *sec = g_strdup_printf("Program %" PRIu32, p->id);
                _cleanup_strv_free_ char **names = NULL, **pins = NULL, **globals = NULL;
                g_autofree gint *ids = g_new0(gint, p->n_maps + 1);

                g_key_file_set_string(kf, sec, "Name", p->name);
                g_key_file_set_string(kf, sec, "Kind", kind_to_string(p->kind));
                g_key_file_set_string(kf, sec, "KernelType", p->kernel_type);
                g_key_file_set_string(kf, sec, "Section", p->section);
                g_key_file_set_string(kf, sec, "Tag", p->tag);
                g_key_file_set_uint64(kf, sec, "LoadTime", p->load_time_usec);
                g_key_file_set_integer(kf, sec, "ExpectedAttachType", p->expected_attach_type);
                if (p->attach_function)
                        g_key_file_set_string(kf, sec, "AttachFunction", p->attach_function);
                if (p->map_group)
                        g_key_file_set_uint64(kf, sec, "MapGroup", p->map_group);
                if (p->image_digest && *p->image_digest) {
                        g_key_file_set_string(kf, sec, "Image", p->image_reference);
                        g_key_file_set_string(kf, sec, "ImageDigest", p->image_digest);
                }
                for (size_t m = 0; m < p->n_maps; m++) {
                        ids[m] = (gint) p->maps[m].id;
                        if (strv_push(&names, strdup(p->maps[m].name)) < 0 ||
                            strv_push(&pins, strdup(p->maps[m].pin_path)) < 0)
                                return -ENOMEM;
                }
                g_key_file_set_integer_list(kf, sec, "MapIds", ids, p->n_maps);
                keyfile_set_strv(kf, sec, "MapNames", names);
                keyfile_set_strv(kf, sec, "MapPins", pins);
                keyfile_set_strv(kf, sec, "Metadata", p->metadata);
                for (size_t m = 0; m < p->n_globals; m++)
                        if (strv_push(&globals, strdup(p->globals[m].name)) < 0 ||
                            strv_push(&globals, hex_encode(p->globals[m].data, p->globals[m].size)) < 0)
                                return -ENOMEM;
                keyfile_set_strv(kf, sec, "GlobalData", globals);
        }
        for (guint i = 0; i < g->links->len; i++) {
                LinkInfo *l = g_ptr_array_index(g->links, i);
                g_autofree gchar *sec = g_strdup_printf("Link %" PRIu32, l->id);

                g_key_file_set_uint64(kf, sec, "Program", l->program_id);
                g_key_file_set_uint64(kf, sec, "Owner", l->owner_uid);
                g_key_file_set_uint64(kf, sec, "AttachTime", l->attach_time_usec);
                g_key_file_set_string(kf, sec, "AttachPoint", l->attach_point);
                g_key_file_set_uint64(kf, sec, "Seq", l->seq);
                if (l->ifindex) {
                        g_key_file_set_uint64(kf, sec, "NetnsInode", l->netns_ino);
                        g_key_file_set_uint64(kf, sec, "Ifindex", l->ifindex);
                }
                if (l->component_id)
                        g_key_file_set_uint64(kf, sec, "ComponentId", l->component_id);
                if (l->tc_priority)
                        g_key_file_set_uint64(kf, sec, "TcPriority", l->tc_priority);
                attach_target_save(&l->target, kf, sec);
        }
        data = g_key_file_to_data(kf, &size, NULL);
        return write_file_atomic(path, data, size);
}

static int group_remove_record(Engine *e, uint32_t id) {
        _cleanup_free_ char *path = group_record_path(e, id);
        _cleanup_close_ int dfd = -1;

        if (!path)
                return -ENOMEM;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        dfd = open(e->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
        return 0;
}

/* ---- building ProgramInfo from the kernel ---- */

static int prog_map_ids(int fd, uint32_t **ret, uint32_t *ret_n) {
        struct bpf_prog_info info = {};
        uint32_t len = sizeof info, n;
        uint32_t *ids;
        int r;

        r = bpf_obj_get_info_by_fd(fd, &info, &len);
        if (r < 0)
                return r;
        n = info.nr_map_ids;
        ids = calloc(n + 1, sizeof(uint32_t));
        if (!ids)
                return -ENOMEM;
        if (n > 0) {
                memset(&info, 0, sizeof info);
                info.nr_map_ids = n;
                info.map_ids = (uint64_t) (uintptr_t) ids;
                len = sizeof info;
                r = bpf_obj_get_info_by_fd(fd, &info, &len);
                if (r < 0) {
                        free(ids);
                        return r;
                }
                n = info.nr_map_ids < n ? info.nr_map_ids : n;
        }
        *ret = ids;
        *ret_n = n;
        return 0;
}

static int kernel_program_from_fd(int fd, KernelProgram *k) {
        struct bpf_prog_info info = {};
        uint32_t len = sizeof info;
        int r;

        r = bpf_obj_get_info_by_fd(fd, &info, &len);
        if (r < 0)
                return r;
        *k = (KernelProgram) { .id = info.id, .kernel_type = libbpf_bpf_prog_type_str(info.type) ?: "unknown",
                               .kind = kind_of_kernel_type(info.type),
                               .load_time_usec = boottime_to_realtime_usec(info.load_time),
                               .run_count = info.run_cnt, .run_time_ns = info.run_time_ns };
        memcpy(k->name, info.name, sizeof k->name - 1);
        tag_to_hex(info.tag, k->tag);
        return prog_map_ids(fd, &k->map_ids, &k->n_map_ids);
}

static int link_id_of_fd(int fd, uint32_t *ret_id, uint32_t *ret_prog_id) {
        struct bpf_link_info info = {};
        uint32_t len = sizeof info;
        int r = bpf_obj_get_info_by_fd(fd, &info, &len);
        if (r < 0)
                return r;
        *ret_id = info.id;
        if (ret_prog_id)
                *ret_prog_id = info.prog_id;
        return 0;
}

/* ---- inspect: parse the object and check what can be checked before authorization ---- */

static char *datasec_of_map(const struct bpf_map *map) {
        const char *dot = strchr(bpf_map__name(map), '.');
        return dot ? strdup(dot) : NULL;
}

/* Writes one global-data override into the object's initial values, checking name and size. */
static int apply_global(struct bpf_object *obj, const GlobalData *gd, EngineError *error) {
        struct btf *btf = bpf_object__btf(obj);
        struct bpf_map *map;

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

static char *object_name_of(const char *source) {
        _cleanup_free_ char *copy = strdup(strempty(source));
        const char *b;
        char *dot, *name;

        if (!copy)
                return NULL;
        b = strrchr(copy, '/') ? strrchr(copy, '/') + 1 : copy;
        name = strdup(*b ? b : "bpfd");
        if (name && (dot = strchr(name, '.')) && dot != name)
                *dot = 0;
        return name;
}

/* fentry/fexit programs name their kernel function at load: from the load's attach target, or from the
 * section. Check it in the kernel's BTF here, for a clear error instead of libbpf's. */
static int bind_tracing_program(Engine *e, LoadRequest *req, size_t i, EngineError *error) {
        struct bpf_program *prog = bpf_object__find_program_by_name(req->obj, req->selected[i]);
        AttachTarget section_target = { .kind = req->kinds[i] };
        const char *function = NULL;
        int r;

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

static ProgramInfo *group_find_program(Group *g, uint32_t id, guint *ret_index);

/* A load that names another managed program shares its maps: every map of the new object with the name of
 * one of the owner's (not the per-object .rodata/.data/.bss) is that map. Same shape or a clear error. */
static int reuse_owner_maps(Engine *e, LoadRequest *req, EngineError *error) {
        Group *g = g_hash_table_lookup(e->programs, GUINT_TO_POINTER(req->map_owner_id));
        ProgramInfo *owner = g ? group_find_program(g, req->map_owner_id, NULL) : NULL;
        struct bpf_map *map;
        int r;

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

int engine_prepare_load(Engine *e, LoadRequest *req, EngineError *error) {
        _cleanup_free_ char *objname = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        /* An image's object comes as object_fd too: the puller's sealed memfd (see image-puller.h). */
        if (req->path) {
                r = open_as_caller(&req->caller, req->path, O_RDONLY, &fd, NULL);
                if (r == -ESTALE)
                        return engine_error_setf(error, BPFD_ERR_PERMISSION_DENIED,
                                                 "Cannot open '%s' as the caller: the calling process changed its "
                                                 "identity since it connected to the bus.", req->path);
                if (r < 0)
                        return engine_error_setf(error, bpfd_error_for_open_errno(r), "Cannot open '%s' as the caller: %s",
                                                 req->path, strerror(-r));
        } else
                fd = TAKE_FD(req->object_fd);

        /* A path or an image names a file; a descriptor may also be a pipe or a socket (bpfd-inspect reads
         * it, with a time limit). Nothing else: a device could block or never end. */
        if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || (!req->path && !req->image_ref &&
                                                            (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))))
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "The object must be a regular file (an ELF object from clang -target bpf).");
        if (S_ISREG(st.st_mode) && (uint64_t) st.st_size > OBJECT_SIZE_MAX)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "The object is larger than %u MiB.",
                                         OBJECT_SIZE_MAX >> 20);

        for (size_t t = 0; t < req->n_targets; t++) {
                r = attach_target_resolve(&req->targets[t], &req->caller, error);
                if (r < 0)
                        return r;
        }

        objname = object_name_of(req->source);
        r = inspect_spawn(fd, objname, &req->inspect_pid, &req->inspect_sock);
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot start the object inspection helper: %m");
        return 0;
}

/* The whole inspection for callers already on the worker (specs): engine_prepare_load(), then waiting for
 * bpfd-inspect's answer (it reads with its own time limit), then the plan from it. Nothing of the object is
 * parsed here either. */
int engine_inspect(Engine *e, LoadRequest *req, EngineError *error) {
        _cleanup_(inspection_done) Inspection ins = { .memfd = -1 };
        int r;

        r = engine_prepare_load(e, req, error);
        if (r < 0)
                return r;
        r = inspect_read(req->inspect_sock, req->inspect_pid, &ins, error);
        req->inspect_pid = 0; /* reaped */
        close(req->inspect_sock);
        req->inspect_sock = -1;
        if (r < 0)
                return r;
        return load_plan(req, &ins, e->supported, error);
}

/* After polkit: the bytes bpfd-inspect sealed, opened with libbpf for the first time in a privileged place.
 * They are the same bytes, so libbpf must see what the helper saw. */
static int load_open(Engine *e, LoadRequest *req, EngineError *error) {
        _cleanup_free_ char *objname = NULL;
        struct bpf_program *prog;
        struct stat st;
        ssize_t n;
        int r;

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

/* ---- load ---- */

typedef struct Undo {
        Engine *engine;
        GPtrArray *pins;     /* paths to unlink if the operation fails */
        char *map_dir;
        GPtrArray *slots;    /* LinkInfo* of dispatcher slots to take out again if the operation fails */
        GPtrArray *journals; /* journal files to remove once the operation committed or was undone */
} Undo;

static void remove_slot(Engine *e, LinkInfo *l);

static void undo_run(Undo *u) {
        for (guint i = u->slots ? u->slots->len : 0; i > 0; i--)
                remove_slot(u->engine, g_ptr_array_index(u->slots, i - 1));
        for (guint i = u->pins ? u->pins->len : 0; i > 0; i--)
                (void) unlink(g_ptr_array_index(u->pins, i - 1));
        if (u->map_dir)
                (void) rmdir(u->map_dir);
}

static void undo_done(Undo *u) {
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

static void undo_commit(Undo *u) {
        g_ptr_array_set_size(u->pins, 0);
        if (u->slots)
                g_ptr_array_set_size(u->slots, 0);
}

static int pin_fd(Undo *u, int fd, char *path) {
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

/* Every link bpfd manages, each once (e->links maps each link to its group, so walk the groups). */
static GPtrArray *engine_all_links(Engine *e) {
        GPtrArray *all = g_ptr_array_new();
        GHashTableIter it;
        gpointer v;

        g_hash_table_iter_init(&it, e->groups);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                Group *g = v;
                for (guint k = 0; k < g->links->len; k++)
                        g_ptr_array_add(all, g_ptr_array_index(g->links, k));
        }
        return all;
}

/* The links of bpfd on one TCX hook, which a new link is ordered among. */
static bool same_tcx_hook(const LinkInfo *a, const LinkInfo *b) {
        return a->target.kind == KIND_TCX && b->target.kind == KIND_TCX && a->netns_ino == b->netns_ino &&
               a->ifindex == b->ifindex && streq(a->target.direction, b->target.direction);
}

static bool runs_before(const LinkInfo *a, const LinkInfo *b) {
        return a->target.priority < b->target.priority ||
               (a->target.priority == b->target.priority && a->seq < b->seq);
}

/* Places the link by priority (then attach order) among bpfd's own links on the hook, through before/after
 * anchors the kernel checks against the chain's revision: when someone changed the chain meanwhile, look again.
 * Programs others attached stay where they are. */
static int attach_tcx_ordered(Engine *e, ProgramInfo *p, LinkInfo *l, int *ret_link_fd, EngineError *error) {
        bool egress = streq(l->target.direction, "egress");

        for (unsigned attempt = 0; attempt < 10; attempt++) {
                _cleanup_(tcx_chain_done) TcxChain chain = {};
                TcxPosition position = TCX_APPEND;
                uint32_t anchor = 0;
                int r;

                r = tcx_query(l->ifindex, egress, &chain);
                if (r < 0)
                        return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED, "Cannot read the TCX chain of '%s': %s",
                                                 l->target.interface, strerror(-r));
                for (size_t i = 0; i < chain.n; i++) {
                        Group *g = chain.link_ids[i] ? g_hash_table_lookup(e->links, GUINT_TO_POINTER(chain.link_ids[i])) : NULL;
                        LinkInfo *other = NULL;

                        for (guint k = 0; g && k < g->links->len; k++)
                                if (((LinkInfo *) g_ptr_array_index(g->links, k))->id == chain.link_ids[i])
                                        other = g_ptr_array_index(g->links, k);
                        if (!other || !same_tcx_hook(other, l))
                                continue;
                        if (runs_before(other, l)) {
                                position = TCX_AFTER_LINK; /* the last of ours that runs before wins */
                                anchor = other->id;
                        } else if (position == TCX_APPEND) {
                                position = TCX_BEFORE_LINK; /* none of ours before: before the first after */
                                anchor = other->id;
                        }
                }
                r = tcx_attach(p->fd, l->ifindex, egress, position, anchor, chain.revision, ret_link_fd);
                if (r == -ESTALE)
                        continue;
                if (r == -EINVAL && p->kind != KIND_TC && p->kind != KIND_TCX)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Only tc programs attach to TCX.");
                if (r < 0)
                        return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                                 "The kernel refused the TCX attachment on '%s' (%s): %s",
                                                 l->target.interface, l->target.direction, strerror(-r));
                return 0;
        }
        return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                 "The TCX chain of '%s' kept changing while bpfd placed the program; try again.",
                                 l->target.interface);
}

static const char *const xdp_action_names[] = { "aborted", "drop", "pass", "tx", "redirect" };

/* The slot's place in libxdp's order: priority first, then attach order; unique per link, so it also tells
 * the slot apart in the chain before its component id is known (see the journal). */
static unsigned xdp_run_prio(const LinkInfo *l) {
        return ((unsigned) l->target.priority << 16) | (unsigned) (l->seq & 0xffff);
}

static int journal_write(Engine *e, Undo *u, const LinkInfo *l) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree gchar *data = NULL;
        char *path;
        gsize size;
        int r;

        path = path_join(e->state_dir, "slot-%" PRIu64 ".journal", l->seq);
        if (!path)
                return -ENOMEM;
        g_key_file_set_string(kf, "Slot", "Kind", kind_to_string(l->target.kind));
        g_key_file_set_string(kf, "Slot", "Netns", strempty(l->target.netns));
        g_key_file_set_uint64(kf, "Slot", "NetnsInode", l->netns_ino);
        g_key_file_set_uint64(kf, "Slot", "Ifindex", l->ifindex);
        g_key_file_set_uint64(kf, "Slot", "RunPrio", xdp_run_prio(l));
        g_key_file_set_uint64(kf, "Slot", "Program", l->program_id); /* XDP alone: what runs is the program */
        if (l->target.direction)
                g_key_file_set_string(kf, "Slot", "Direction", l->target.direction);
        if (l->tc_priority)
                g_key_file_set_uint64(kf, "Slot", "TcPriority", l->tc_priority);
        data = g_key_file_to_data(kf, &size, NULL);
        r = write_file_atomic(path, data, size);
        if (r < 0) {
                free(path);
                return r;
        }
        g_ptr_array_add(u->journals, path);
        return 0;
}

/* Our own privileges, for namespaces the caller named when attaching. */
static const Caller daemon_caller = { .pidfd = -1 }; /* root, in bpfd's own namespaces */

static int tc_hook_update(Engine *e, const LinkInfo *hook, LinkInfo *adding, int adding_fd, uint32_t skip_id,
                          EngineError *error);
static void remove_tc_filter(const LinkInfo *l);

static void remove_slot(Engine *e, LinkInfo *l) {
        NetnsGuard guard;
        int r;

        if (netns_enter(l->target.netns, &daemon_caller, &guard) < 0)
                return; /* the namespace is gone, and the chain with it */
        if (l->target.kind == KIND_TCX)
                remove_tc_filter(l);
        else if (l->target.kind == KIND_TC) {
                _cleanup_(engine_error_done) EngineError error = ENGINE_ERROR_NULL;
                /* The hook as bpfd's records have it, without this slot. */
                if (tc_hook_update(e, l, NULL, -1, l->id, &error) < 0)
                        log_warning("Cannot rebuild the TC dispatcher of %s: %s", l->target.interface, error.message);
                if (l->pin_path && *l->pin_path)
                        (void) unlink(l->pin_path);
        } else {
                r = xdp_chain_remove((int) l->ifindex, l->component_id);
                if (r < 0 && r != -ENOENT && r != -ENODEV)
                        log_warning("Cannot take program %" PRIu32 " out of the XDP chain of %s: %s (%s)", l->component_id,
                                    l->target.interface, strerror(-r), xdp_chain_last_error());
        }
        netns_leave(&guard);
}

static int map_reuse_lists(ProgramInfo *p, char ***ret_names, int **ret_fds, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ int *fds = calloc(p->n_maps + 1, sizeof(int));
        size_t n = 0;

        if (!fds)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_maps; i++) {
                const char *dot = strchr(p->maps[i].name, '.');
                int fd = bpf_obj_get(p->maps[i].pin_path);
                if (fd < 0)
                        continue;
                /* Internal maps ("obj.rodata") are found by their section name in a fresh open. */
                if (strv_push(&names, strdup(dot ?: p->maps[i].name)) < 0) {
                        close(fd);
                        return -ENOMEM;
                }
                fds[n++] = fd;
        }
        *ret_names = TAKE_PTR(names);
        *ret_fds = TAKE_PTR(fds);
        *ret_n = n;
        return 0;
}

/* A dispatcher slot is filled from the program's object as bpfd kept it at load time. */
static int read_kept_object(const ProgramInfo *p, const char *object_path, char **ret, size_t *ret_size,
                            EngineError *error) {
        int r;

        if (!object_path)
                return engine_error_setf(error, BPFD_ERR_FAILED, "The object of program %" PRIu32 " was not kept.", p->id);
        r = read_full_file(object_path, OBJECT_SIZE_MAX, ret, ret_size);
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot read the kept object %s: %m", object_path);
        return 0;
}

/* Whether the XDP program prog_id on the link's interface is the slot of one of bpfd's links. */
static bool xdp_program_is_ours(Engine *e, const LinkInfo *l, uint32_t prog_id) {
        g_autoptr(GPtrArray) all = engine_all_links(e);

        for (guint k = 0; k < all->len; k++) {
                const LinkInfo *o = g_ptr_array_index(all, k);
                if (o->target.kind == KIND_XDP && o->component_id == prog_id && o->ifindex == l->ifindex &&
                    o->netns_ino == l->netns_ino)
                        return true;
        }
        return false;
}

/* The interface already runs a plain XDP program: name it, and say whether it is bpfd's. */
static int xdp_occupied_error(Engine *e, const LinkInfo *l, EngineError *error) {
        char name[64] = "";
        uint32_t id = 0;

        if (xdp_chain_plain_program((int) l->ifindex, &id, name, sizeof(name)) < 0 || id == 0)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                         "Interface '%s' already runs an XDP program.", l->target.interface);
        if (!xdp_program_is_ours(e, l, id))
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                         "Interface '%s' already runs program %" PRIu32 " (%s), not loaded by bpfd.",
                                         l->target.interface, id, name);
        return engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED,
                                 "This kernel cannot run libxdp's dispatcher (it needs freplace), so '%s' takes one "
                                 "XDP program only, and it has one already (program %" PRIu32 " of bpfd).",
                                 l->target.interface, id);
}

static int attach_xdp(Engine *e, Undo *u, ProgramInfo *p, const char *object_path, LinkInfo *l, EngineError *error) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ int *fds = NULL;
        _cleanup_free_ char *obj = NULL;
        enum xdp_attach_mode mode = XDP_MODE_UNSPEC;
        unsigned actions = 0;
        size_t size, n = 0;
        bool is_dispatcher = false;
        uint32_t plain_id = 0;
        int r;

        r = read_kept_object(p, object_path, &obj, &size, error);
        if (r < 0)
                return r;
        for (char **a = l->target.proceed_on; a && *a; a++)
                for (unsigned i = 0; i < ELEMENTSOF(xdp_action_names); i++)
                        if (streq(*a, xdp_action_names[i]))
                                actions |= 1U << i;
        if (l->target.mode)
                mode = streq(l->target.mode, "skb") ? XDP_MODE_SKB : streq(l->target.mode, "hw") ? XDP_MODE_HW : XDP_MODE_NATIVE;
        r = map_reuse_lists(p, &names, &fds, &n);
        if (r < 0)
                return r;
        r = journal_write(e, u, l);
        if (r < 0)
                goto out;
        r = xdp_chain_add((int) l->ifindex, obj, size, p->name, (const char *const *) names, fds, n, xdp_run_prio(l),
                          actions, mode, &l->component_id, &is_dispatcher);
        switch (r) {
        case -E2BIG:
                engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                  "The XDP chain of '%s' is full: it holds %d programs, the dispatcher's limit.",
                                  l->target.interface, XDP_CHAIN_MAX);
                break;
        case -EBUSY:
                (void) xdp_occupied_error(e, l, error);
                break;
        case -EOPNOTSUPP:
                if (xdp_chain_plain_program((int) l->ifindex, &plain_id, NULL, 0) >= 0 && plain_id)
                        (void) xdp_occupied_error(e, l, error);
                else if (mode == XDP_MODE_NATIVE)
                        engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED,
                                          "Interface '%s' has no native XDP support (its driver cannot run XDP "
                                          "programs in mode 'native'; mode 'skb' works on every interface).",
                                          l->target.interface);
                else
                        engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED, "Cannot attach to '%s': %s",
                                          l->target.interface, xdp_chain_last_error());
                break;
        case -ENODEV:
                engine_error_setf(error, BPFD_ERR_ATTACH_TARGET_NOT_FOUND, "There is no network interface '%s'.",
                                  l->target.interface);
                break;
        case -EINVAL:
                engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "libxdp refused the attachment: %s",
                                  xdp_chain_last_error());
                break;
        default:
                if (r < 0)
                        engine_error_setf(error, BPFD_ERR_ATTACH_FAILED, "Cannot add the program to the XDP chain of '%s': %s (%s)",
                                          l->target.interface, strerror(-r), xdp_chain_last_error());
        }
        if (r >= 0 && !is_dispatcher) {
                /* libxdp fell back to attaching alone a copy it loaded from the object (the kernel cannot
                 * run its dispatcher): put the caller's program itself in its place, so that what runs is
                 * what bpfd reports; the copy goes when libxdp's descriptors close. */
                r = xdp_chain_replace_plain((int) l->ifindex, l->component_id, p->fd);
                if (r < 0) {
                        (void) xdp_chain_remove((int) l->ifindex, l->component_id);
                        engine_error_setf(error, BPFD_ERR_ATTACH_FAILED, "Cannot attach the program to '%s': %s",
                                          l->target.interface, xdp_chain_last_error());
                } else
                        l->component_id = p->id;
        }
        if (r >= 0) {
                r = 0;
                g_ptr_array_add(u->slots, link_info_ref(l));
                if (!is_dispatcher)
                        log_info("The kernel cannot run the XDP dispatcher: program %" PRIu32 " runs alone on %s.", p->id,
                                 l->target.interface);
        }
out:
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
        return r;
}

static const char *const tc_action_names[] = { "ok", "reclassify", "shot", "pipe", "stolen", "queued", "repeat",
                                               "redirect", "trap" };

static uint32_t tc_chain_actions(char **proceed_on) {
        uint32_t bits = 0;

        for (char **a = proceed_on; a && *a; a++) {
                if (streq(*a, "unspec"))
                        bits |= TC_DISPATCHER_ACTION_BIT(-1);
                else if (streq(*a, "dispatcher_return"))
                        bits |= TC_DISPATCHER_ACTION_BIT(TC_DISPATCHER_RETVAL);
                for (unsigned i = 0; i < ELEMENTSOF(tc_action_names); i++)
                        if (streq(*a, tc_action_names[i]))
                                bits |= TC_DISPATCHER_ACTION_BIT((int) i);
        }
        return bits;
}

static bool same_tc_hook(const LinkInfo *a, const LinkInfo *b) {
        return a->target.kind == KIND_TC && b->target.kind == KIND_TC && a->netns_ino == b->netns_ino &&
               a->ifindex == b->ifindex && streq(a->target.direction, b->target.direction);
}

static int cmp_slot(gconstpointer x, gconstpointer y) {
        const LinkInfo *a = *(LinkInfo *const *) x, *b = *(LinkInfo *const *) y;
        return runs_before(a, b) ? -1 : runs_before(b, a) ? 1 : 0;
}

/* Makes the hook's dispatcher run bpfd's committed slots of it, in priority order, plus adding (whose
 * extension is adding_fd) and without skip_id. The caller is in the hook's namespace. */
static int tc_hook_update(Engine *e, const LinkInfo *hook, LinkInfo *adding, int adding_fd, uint32_t skip_id,
                          EngineError *error) {
        g_autoptr(GPtrArray) slots = g_ptr_array_new();
        _cleanup_free_ char *pin_dir = NULL;
        TcDispatcherSlot config[TC_DISPATCHER_MAX_SLOTS + 1];
        int fds[TC_DISPATCHER_MAX_SLOTS + 1];
        g_autoptr(GPtrArray) all = engine_all_links(e);
        size_t n = 0;
        int r = 0;

        for (guint k = 0; k < all->len; k++) {
                LinkInfo *l = g_ptr_array_index(all, k);
                if (same_tc_hook(l, hook) && l->id != skip_id && l != adding)
                        g_ptr_array_add(slots, l);
        }
        if (adding)
                g_ptr_array_add(slots, adding);
        if (slots->len > TC_DISPATCHER_MAX_SLOTS)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                         "The TC dispatcher of '%s' (%s) is full: it holds %d programs.",
                                         hook->target.interface, hook->target.direction, TC_DISPATCHER_MAX_SLOTS);
        g_ptr_array_sort(slots, cmp_slot);
        for (; n < slots->len; n++) {
                LinkInfo *l = g_ptr_array_index(slots, n);
                fds[n] = l == adding ? adding_fd : bpf_obj_get(l->pin_path);
                if (fds[n] < 0) {
                        r = engine_error_set_errnof(error, -errno, "Cannot open the extension of link %" PRIu32 ": %m", l->id);
                        goto out;
                }
                config[n] = (TcDispatcherSlot) { .ext_fd = fds[n], .chain_actions = tc_chain_actions(l->target.proceed_on),
                                                 .run_prio = (uint32_t) l->target.priority };
        }
        if (asprintf(&pin_dir, "%s/tc/%" PRIu64 "-%" PRIu32 "-%s", e->fs_dir, hook->netns_ino, hook->ifindex,
                     hook->target.direction) < 0) {
                r = -ENOMEM;
                goto out;
        }
        (void) mkdir_p_one(e->tc_dir, 0700);
        r = tc_dispatcher_update((int) hook->ifindex, streq(hook->target.direction, "egress"), config, n, pin_dir, NULL);
        if (r == -EBUSY)
                r = engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                      "'%s' has an \"ingress\" qdisc; bpfd's TC dispatcher needs clsact and never replaces "
                                      "someone else's qdisc.", hook->target.interface);
        else if (r < 0)
                r = engine_error_setf(error, BPFD_ERR_ATTACH_FAILED, "Cannot update the TC dispatcher of '%s' (%s): %s",
                                      hook->target.interface, hook->target.direction, strerror(-r));
out:
        for (size_t i = 0; i < n; i++)
                if (fds[i] != adding_fd)
                        close(fds[i]);
        return r;
}

static int attach_tc(Engine *e, Undo *u, ProgramInfo *p, const char *object_path, LinkInfo *l, EngineError *error) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ int *fds = NULL;
        _cleanup_free_ char *obj = NULL;
        _cleanup_close_ int ext_fd = -1;
        size_t size, n = 0;
        int r;

        r = read_kept_object(p, object_path, &obj, &size, error);
        if (r < 0)
                return r;
        r = map_reuse_lists(p, &names, &fds, &n);
        if (r < 0)
                return r;
        r = tc_component_load(obj, size, p->name, (const char *const *) names, fds, n, &ext_fd, &l->component_id);
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
        if (r == -EOPNOTSUPP)
                return engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED,
                                         "This kernel cannot run bpfd's TC dispatcher (it needs freplace); use tcx.");
        if (r < 0)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED, "Cannot load '%s' as a TC dispatcher extension: %s",
                                         p->name, strerror(-r));
        l->pin_path = path_join(e->fs_dir, "tcext_%" PRIu32, l->component_id);
        if (!l->pin_path)
                return -ENOMEM;
        r = pin_fd(u, ext_fd, strdup(l->pin_path));
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot pin the extension: %m");
        r = journal_write(e, u, l);
        if (r < 0)
                return r;
        r = tc_hook_update(e, l, l, ext_fd, 0, error);
        if (r < 0)
                return r;
        g_ptr_array_add(u->slots, link_info_ref(l));
        return 0;
}

static void tc_hook_of(const LinkInfo *l, struct bpf_tc_hook *hook) {
        *hook = (struct bpf_tc_hook) { .sz = sizeof *hook, .ifindex = (int) l->ifindex,
                                       .attach_point = streq(l->target.direction, "egress") ? BPF_TC_EGRESS : BPF_TC_INGRESS };
}

/* tcx without TCX: a direct-action cls_bpf filter whose tc priority encodes bpfd's priority, then attach
 * order (lower runs first, as in TCX); above the dispatcher's priority 50, below everything of 65100 up. */
static int attach_tc_filter(Engine *e, Undo *u, ProgramInfo *p, LinkInfo *l, EngineError *error) {
        struct bpf_tc_hook hook;
        int r;

        tc_hook_of(l, &hook);
        r = bpf_tc_hook_create(&hook);
        if (r < 0 && r != -EEXIST)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED, "Cannot add a clsact qdisc to '%s': %s",
                                         l->target.interface, strerror(-r));
        l->component_id = p->id;
        l->tc_priority = 100 + (uint32_t) (l->target.priority - 1) * 65 + (uint32_t) (l->seq % 65);
        r = journal_write(e, u, l);
        if (r < 0)
                return r;
        for (unsigned attempt = 0; attempt < 65; attempt++, l->tc_priority++) {
                LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = p->fd, .handle = BPFD_TC_FILTER_HANDLE,
                            .priority = l->tc_priority);
                r = bpf_tc_attach(&hook, &opts);
                if (r != -EEXIST)
                        break;
        }
        if (r < 0)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                         "The kernel refused the tc filter on '%s' (%s): %s", l->target.interface,
                                         l->target.direction, strerror(-r));
        g_ptr_array_add(u->slots, link_info_ref(l));
        return 0;
}

static void remove_tc_filter(const LinkInfo *l) {
        struct bpf_tc_hook hook;
        LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BPFD_TC_FILTER_HANDLE, .priority = l->tc_priority);

        tc_hook_of(l, &hook);
        (void) bpf_tc_detach(&hook, &opts);
}

static bool tc_filter_present(const LinkInfo *l) {
        struct bpf_tc_hook hook;
        LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BPFD_TC_FILTER_HANDLE, .priority = l->tc_priority);

        tc_hook_of(l, &hook);
        return bpf_tc_query(&hook, &opts) == 0 && opts.prog_id == l->component_id;
}

/* Network hooks: enter the target's namespace, find the interface, then attach there. */
static int attach_net(Engine *e, Undo *u, ProgramInfo *p, const char *object_path, LinkInfo *l,
                      const Caller *caller, int *ret_link_fd, EngineError *error) {
        _cleanup_(netns_leave) NetnsGuard guard = { .saved_fd = -1 };
        int r;

        r = netns_enter(l->target.netns, caller, &guard);
        if (r == -ENOENT)
                return engine_error_setf(error, BPFD_ERR_ATTACH_TARGET_NOT_FOUND, "There is no network namespace '%s'.",
                                         l->target.netns);
        if (r == -ENOTTY)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "'%s' is not a network namespace.",
                                         l->target.netns);
        if (r < 0)
                return engine_error_setf(error, bpfd_error_for_open_errno(r), "Cannot enter the network namespace '%s': %s",
                                         l->target.netns, strerror(-r));
        r = netns_current_inode(&l->netns_ino);
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot identify the network namespace: %m");
        l->ifindex = if_nametoindex(l->target.interface);
        if (l->ifindex == 0)
                return engine_error_setf(error, BPFD_ERR_ATTACH_TARGET_NOT_FOUND, "There is no network interface '%s'%s%s.",
                                         l->target.interface, l->target.netns ? " in " : "", strempty(l->target.netns));
        switch (l->target.kind) {
        case KIND_TCX:
                if (!e->tcx_native)
                        return attach_tc_filter(e, u, p, l, error);
                return attach_tcx_ordered(e, p, l, ret_link_fd, error);
        case KIND_XDP:
                return attach_xdp(e, u, p, object_path, l, error);
        case KIND_TC:
                return attach_tc(e, u, p, object_path, l, error);
        default:
                return engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED,
                                         "Attaching '%s' programs is not supported by this version of bpfd.",
                                         kind_to_string(l->target.kind));
        }
}

/* object_path: the ELF object kept for the program's load group, for dispatchers that load it again. */
static int make_link(Engine *e, Undo *u, ProgramInfo *p, const char *object_path, const AttachTarget *target,
                     const Caller *caller, LinkInfo **ret, EngineError *error) {
        _cleanup_(link_info_unrefp) LinkInfo *l = NULL;
        _cleanup_close_ int link_fd = -1;
        int r;

        l = calloc(1, sizeof(LinkInfo));
        if (!l)
                return -ENOMEM;
        l->n_ref = 1;
        l->program_id = p->id;
        l->owner_uid = caller->uid;
        l->attach_time_usec = now_usec(CLOCK_REALTIME);
        l->seq = ++e->link_seq;
        r = attach_target_copy(&l->target, target);
        if (r < 0)
                return r;
        free(l->target.program);
        l->target.program = NULL;
        r = attach_target_apply_defaults(&l->target);
        if (r < 0)
                return r;
        if (IN_SET2(l->target.kind, KIND_XDP, KIND_TC) || l->target.kind == KIND_TCX)
                r = attach_net(e, u, p, object_path, l, caller, &link_fd, error);
        else
                r = attach_program(p->fd, p->expected_attach_type, &l->target, caller, &link_fd, error);
        if (r < 0)
                return r;
        r = attach_target_settle(&l->target);
        if (r < 0)
                return r;
        l->attach_point = attach_target_describe(&l->target);
        if (l->component_id) {
                /* A dispatcher slot: the dispatcher's pins hold it; the id is bpfd's. */
                l->id = ++e->slot_id;
                if (!l->pin_path)
                        l->pin_path = strdup(""); /* XDP: libxdp's pins hold it */
                if (!l->attach_point || !l->pin_path)
                        return -ENOMEM;
                *ret = TAKE_PTR(l);
                return 0;
        }
        r = link_id_of_fd(link_fd, &l->id, NULL);
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot query the new link: %m");
        l->pin_path = path_join(e->fs_dir, "link_%" PRIu32, l->id);
        if (!l->attach_point || !l->pin_path)
                return -ENOMEM;
        r = pin_fd(u, link_fd, strdup(l->pin_path));
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot pin link %" PRIu32 ": %m", l->id);
        *ret = TAKE_PTR(l);
        return 0;
}

static void map_borrowers_add(Engine *e, uint32_t gid, int delta) {
        gpointer key = GUINT_TO_POINTER(gid);
        int n = GPOINTER_TO_INT(g_hash_table_lookup(e->map_borrowers, key)) + delta;

        if (n > 0)
                g_hash_table_replace(e->map_borrowers, key, GINT_TO_POINTER(n));
        else
                g_hash_table_remove(e->map_borrowers, key);
}

static void engine_index_group(Engine *e, Group *g) {
        g_hash_table_replace(e->groups, GUINT_TO_POINTER(g->id), g);
        for (guint i = 0; i < g->programs->len; i++) {
                uint32_t mg = ((ProgramInfo *) g_ptr_array_index(g->programs, i))->map_group;
                if (mg)
                        map_borrowers_add(e, mg, +1);
        }
        for (guint i = 0; i < g->programs->len; i++) {
                g_hash_table_replace(e->programs,
                                     GUINT_TO_POINTER(((ProgramInfo *) g_ptr_array_index(g->programs, i))->id), g);
                engine_changes_note_program(&e->changes, g_ptr_array_index(g->programs, i), true);
        }
        for (guint i = 0; i < g->links->len; i++) {
                g_hash_table_replace(e->links, GUINT_TO_POINTER(((LinkInfo *) g_ptr_array_index(g->links, i))->id),
                                     g);
                engine_changes_note_link(&e->changes, g_ptr_array_index(g->links, i), true);
        }
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

/* ---- attach, detach, unload ---- */

static ProgramInfo *group_find_program(Group *g, uint32_t id, guint *ret_index) {
        for (guint i = 0; i < g->programs->len; i++) {
                ProgramInfo *p = g_ptr_array_index(g->programs, i);
                if (p->id == id) {
                        if (ret_index)
                                *ret_index = i;
                        return p;
                }
        }
        return NULL;
}

int engine_attach(Engine *e, uint32_t program_id, const AttachTarget *target, const Caller *caller,
                  LinkInfo **ret, EngineError *error) {
        _cleanup_(undo_done) Undo undo = { .engine = e, .pins = g_ptr_array_new_with_free_func(free),
                                           .slots = g_ptr_array_new_with_free_func(link_info_destroy),
                                           .journals = g_ptr_array_new_with_free_func(free) };
        Group *g = g_hash_table_lookup(e->programs, GUINT_TO_POINTER(program_id));
        LinkInfo *l = NULL;
        ProgramInfo *p;
        int r;

        if (!g || !(p = group_find_program(g, program_id, NULL)))
                return engine_error_setf(error, BPFD_ERR_PROGRAM_NOT_FOUND, "No program %" PRIu32 " is loaded by bpfd.",
                                         program_id);
        if (IN_SET2(target->kind, KIND_FENTRY, KIND_FEXIT) && p->attach_function &&
            !streq(target->function, p->attach_function))
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "Program %" PRIu32 " was loaded to trace '%s'; it cannot trace '%s'.", p->id,
                                         p->attach_function, target->function);
        r = make_link(e, &undo, p, g->object_path, target, caller, &l, error);
        if (r < 0) {
                undo_run(&undo);
                return r;
        }
        g_ptr_array_add(g->links, l);
        r = group_save(e, g);
        if (r < 0) {
                g_ptr_array_remove(g->links, l); /* drops the last reference */
                undo_run(&undo);
                return engine_error_set_errnof(error, r, "Cannot write the state record: %m");
        }
        g_hash_table_replace(e->links, GUINT_TO_POINTER(l->id), g);
        engine_changes_note_link(&e->changes, l, true);
        undo_commit(&undo);
        log_info("Attached program %" PRIu32 " at %s (link %" PRIu32 ", uid %u).", program_id, l->attach_point, l->id,
                 (unsigned) caller->uid);
        *ret = link_info_ref(l);
        return 0;
}

static LinkInfo *group_steal_link(Group *g, uint32_t id) {
        for (guint i = 0; i < g->links->len; i++) {
                LinkInfo *l = g_ptr_array_index(g->links, i);
                if (l->id == id)
                        return g_ptr_array_steal_index(g->links, i);
        }
        return NULL;
}

/* Drops bpfd's pin of a link. The answer to the caller waits until the kernel has let go of the hook, so
 * that an attach right after finds the place free (a tracepoint takes 64 programs). */
static void unpin_link(const LinkInfo *l) {
        int r;

        if (unlink(l->pin_path) < 0) {
                log_warning("Cannot unpin %s: %m", l->pin_path);
                return;
        }
        if (l->target.kind == KIND_TRACEPOINT && l->target.tracepoint) {
                r = tracepoint_wait_released(l->target.tracepoint, l->program_id);
                if (r < 0)
                        log_warning_errno(r, "Program %" PRIu32 " may still be on tracepoint %s: %m", l->program_id,
                                          l->target.tracepoint);
        }
}

int engine_detach(Engine *e, uint32_t link_id, EngineError *error) {
        Group *g = g_hash_table_lookup(e->links, GUINT_TO_POINTER(link_id));
        _cleanup_(link_info_unrefp) LinkInfo *l = NULL;
        int r;

        if (!g || !(l = group_steal_link(g, link_id)))
                return engine_error_setf(error, BPFD_ERR_LINK_NOT_FOUND, "No link %" PRIu32 " is managed by bpfd.",
                                         link_id);
        r = group_save(e, g);
        if (r < 0) {
                g_ptr_array_add(g->links, TAKE_PTR(l));
                return engine_error_set_errnof(error, r, "Cannot write the state record: %m");
        }
        g_hash_table_remove(e->links, GUINT_TO_POINTER(link_id));
        engine_changes_note_link(&e->changes, l, false);
        /* The record no longer names the link; dropping the pin (or the slot) detaches it. */
        if (l->component_id)
                remove_slot(e, l);
        else
                unpin_link(l);
        log_info("Detached link %" PRIu32 " (%s).", link_id, l->attach_point);
        return 0;
}

/* Whether any loaded program keeps its maps in load group gid's directory (its own group, or a borrower:
 * counted, so an unload does not walk every program). */
static bool map_dir_in_use(Engine *e, uint32_t gid) {
        return g_hash_table_contains(e->groups, GUINT_TO_POINTER(gid)) ||
               g_hash_table_contains(e->map_borrowers, GUINT_TO_POINTER(gid));
}

/* Shared maps stay pinned while any program that uses them is loaded, whichever unloads first. */
static void release_map_dir(Engine *e, uint32_t gid) {
        _cleanup_free_ char *dir = NULL;

        if (map_dir_in_use(e, gid) || !(dir = path_join(e->maps_dir, "%" PRIu32, gid)))
                return;
        (void) rm_rf_children(dir);
        (void) rmdir(dir);
}

int engine_unload(Engine *e, uint32_t program_id, uint32_t **ret_link_ids, size_t *ret_n, EngineError *error) {
        Group *g = g_hash_table_lookup(e->programs, GUINT_TO_POINTER(program_id));
        _cleanup_(program_info_unrefp) ProgramInfo *p = NULL;
        g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(link_info_destroy);
        _cleanup_free_ uint32_t *ids = NULL;
        guint index;
        int r;

        if (!g || !group_find_program(g, program_id, &index))
                return engine_error_setf(error, BPFD_ERR_PROGRAM_NOT_FOUND, "No program %" PRIu32 " is loaded by bpfd.",
                                         program_id);
        ids = calloc(g->links->len + 1, sizeof(uint32_t));
        if (!ids)
                return -ENOMEM;
        p = g_ptr_array_steal_index(g->programs, index);
        for (guint i = g->links->len; i > 0; i--) {
                LinkInfo *l = g_ptr_array_index(g->links, i - 1);
                if (l->program_id == program_id)
                        g_ptr_array_add(gone, g_ptr_array_steal_index(g->links, i - 1));
        }
        r = g->programs->len > 0 ? group_save(e, g) : group_remove_record(e, g->id);
        if (r < 0) {
                g_ptr_array_add(g->programs, TAKE_PTR(p));
                for (guint i = 0; i < gone->len; i++)
                        g_ptr_array_add(g->links, link_info_ref(g_ptr_array_index(gone, i)));
                return engine_error_set_errnof(error, r, "Cannot write the state record: %m");
        }
        /* Committed: now release the kernel objects. */
        for (guint i = 0; i < gone->len; i++) {
                LinkInfo *l = g_ptr_array_index(gone, i);
                ids[i] = l->id;
                g_hash_table_remove(e->links, GUINT_TO_POINTER(l->id));
                engine_changes_note_link(&e->changes, l, false);
                if (l->component_id)
                        remove_slot(e, l);
                else
                        unpin_link(l);
        }
        if (unlink(p->pin_path) < 0)
                log_warning("Cannot unpin %s: %m", p->pin_path);
        g_hash_table_remove(e->programs, GUINT_TO_POINTER(program_id));
        engine_changes_note_program(&e->changes, p, false);
        if (g->programs->len == 0) {
                uint32_t gid = g->id;
                if (g->object_path)
                        (void) unlink(g->object_path);
                g_hash_table_remove(e->groups, GUINT_TO_POINTER(gid));
                release_map_dir(e, gid);
        }
        /* A program that shared another group's maps may have been their last user. */
        if (p->map_group) {
                map_borrowers_add(e, p->map_group, -1);
                release_map_dir(e, p->map_group);
        }
        log_info("Unloaded program %" PRIu32 " (%s) and %u link(s).", program_id, p->name, gone->len);
        *ret_n = gone->len;
        *ret_link_ids = TAKE_PTR(ids);
        return 0;
}

/* ---- recovery after a restart ---- */

static int strv_from_keyfile(GKeyFile *kf, const char *sec, const char *key, char ***ret) {
        gchar **l = g_key_file_get_string_list(kf, sec, key, NULL, NULL);
        *ret = strv_copy(l ?: (gchar *[]) { NULL });
        g_strfreev(l);
        return *ret ? 0 : -ENOMEM;
}

static ProgramInfo *recover_program(Engine *e, GKeyFile *kf, const char *sec, uint32_t id, Group *g) {
        _cleanup_(program_info_unrefp) ProgramInfo *p = calloc(1, sizeof(ProgramInfo));
        _cleanup_strv_free_ char **names = NULL, **pins = NULL, **globals = NULL;
        g_autofree gint *ids = NULL;
        g_autofree gchar *kind = NULL, *tag = NULL;
        gsize n_ids = 0;
        struct bpf_prog_info info = {};
        uint32_t len = sizeof info;

        if (!p)
                return NULL;
        p->n_ref = 1;
        p->fd = -1;
        p->pin_path = path_join(e->fs_dir, "prog_%" PRIu32, id);
        if (!p->pin_path)
                return NULL;
        p->fd = bpf_obj_get(p->pin_path);
        if (p->fd < 0) {
                /* No pin at all is what a reboot leaves (bpffs is empty again): counted, said once. */
                if (errno == ENOENT) {
                        log_debug("Program %" PRIu32 " of the state is gone (%s: %m), forgetting it.", id, p->pin_path);
                        e->forgotten_programs++;
                } else
                        log_warning("Program %" PRIu32 " of the state is gone (%s: %m), forgetting it.", id, p->pin_path);
                return NULL;
        }
        if (bpf_obj_get_info_by_fd(p->fd, &info, &len) < 0 || info.id != id) {
                log_warning("The pin %s holds another program than %" PRIu32 ", forgetting it.", p->pin_path, id);
                (void) unlink(p->pin_path);
                return NULL;
        }
        p->id = id;
        p->load_group = g->id;
        p->owner_uid = g->owner_uid;
        p->source = strdup(g->source);
        p->name = g_key_file_get_string(kf, sec, "Name", NULL);
        kind = g_key_file_get_string(kf, sec, "Kind", NULL);
        p->kind = kind ? kind_from_string(kind) : KIND_INVALID;
        p->kernel_type = g_key_file_get_string(kf, sec, "KernelType", NULL);
        p->section = g_key_file_get_string(kf, sec, "Section", NULL);
        p->tag = g_key_file_get_string(kf, sec, "Tag", NULL);
        p->load_time_usec = g_key_file_get_uint64(kf, sec, "LoadTime", NULL);
        p->expected_attach_type = g_key_file_get_integer(kf, sec, "ExpectedAttachType", NULL);
        p->attach_function = g_key_file_get_string(kf, sec, "AttachFunction", NULL);
        p->map_group = (uint32_t) g_key_file_get_uint64(kf, sec, "MapGroup", NULL);
        p->image_reference = g_key_file_get_string(kf, sec, "Image", NULL) ?: strdup("");
        p->image_digest = g_key_file_get_string(kf, sec, "ImageDigest", NULL) ?: strdup("");
        if (!p->name || p->kind < 0 || !p->kernel_type || !p->section || !p->tag || !p->source)
                return NULL;
        ids = g_key_file_get_integer_list(kf, sec, "MapIds", &n_ids, NULL);
        if (strv_from_keyfile(kf, sec, "MapNames", &names) < 0 || strv_from_keyfile(kf, sec, "MapPins", &pins) < 0 ||
            strv_from_keyfile(kf, sec, "Metadata", &p->metadata) < 0 ||
            strv_from_keyfile(kf, sec, "GlobalData", &globals) < 0)
                return NULL;
        if (strv_length(names) != n_ids || strv_length(pins) != n_ids)
                return NULL;
        p->maps = calloc(n_ids + 1, sizeof(MapInfo));
        p->globals = calloc(strv_length(globals) / 2 + 1, sizeof(GlobalData));
        if (!p->maps || !p->globals)
                return NULL;
        for (gsize i = 0; i < n_ids; i++, p->n_maps++)
                p->maps[i] = (MapInfo) { .id = (uint32_t) ids[i], .name = strdup(names[i]), .pin_path = strdup(pins[i]) };
        for (size_t i = 0; globals[i] && globals[i + 1]; i += 2, p->n_globals++) {
                p->globals[p->n_globals].name = strdup(globals[i]);
                if (hex_decode(globals[i + 1], &p->globals[p->n_globals].data, &p->globals[p->n_globals].size) < 0)
                        return NULL;
        }
        return TAKE_PTR(p);
}

/* Looks into the chain of the slot's interface, in its namespace; fn gets the chain. */
static bool slot_in_chain(const LinkInfo *l) {
        _cleanup_free_ XdpChainEntry *entries = NULL;
        NetnsGuard guard;
        uint64_t ino = 0;
        size_t n = 0;
        bool found = false;

        if (netns_enter(l->target.netns, &daemon_caller, &guard) < 0)
                return false;
        if (netns_current_inode(&ino) >= 0 && ino == l->netns_ino &&
            xdp_chain_list((int) l->ifindex, &entries, &n, NULL, NULL, NULL) >= 0)
                for (size_t i = 0; i < n; i++)
                        found = found || entries[i].prog_id == l->component_id;
        netns_leave(&guard);
        return found;
}

/* A journal names a slot that was being added when bpfd stopped. If no record took it over, it is taken
 * out of its chain again: found by its run priority, which is unique. */
static void recover_journal(Engine *e, const char *path) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree gchar *kind = NULL;
        _cleanup_free_ XdpChainEntry *entries = NULL;
        g_autofree gchar *netns = NULL;
        uint64_t ino, want_ino;
        unsigned run_prio;
        uint32_t ifindex, alone = 0;
        NetnsGuard guard;
        g_autoptr(GPtrArray) all = engine_all_links(e);
        size_t n = 0;

        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
                goto done;
        netns = g_key_file_get_string(kf, "Slot", "Netns", NULL);
        want_ino = g_key_file_get_uint64(kf, "Slot", "NetnsInode", NULL);
        ifindex = (uint32_t) g_key_file_get_uint64(kf, "Slot", "Ifindex", NULL);
        run_prio = (unsigned) g_key_file_get_uint64(kf, "Slot", "RunPrio", NULL);
        kind = g_key_file_get_string(kf, "Slot", "Kind", NULL);
        if (kind && streq(kind, "tcx")) {
                /* A filter added but never committed goes again. */
                g_autofree gchar *direction = g_key_file_get_string(kf, "Slot", "Direction", NULL);
                LinkInfo slot = { .netns_ino = want_ino, .ifindex = ifindex,
                                  .tc_priority = (uint32_t) g_key_file_get_uint64(kf, "Slot", "TcPriority", NULL),
                                  .target = { .kind = KIND_TCX, .netns = netns, .direction = direction } };
                bool committed = false;

                for (guint k = 0; k < all->len; k++) {
                        LinkInfo *l = g_ptr_array_index(all, k);
                        committed = committed || (l->tc_priority == slot.tc_priority && l->ifindex == ifindex &&
                                                  l->netns_ino == want_ino && streq_ptr(l->target.direction, direction));
                }
                if (!committed && direction && slot.tc_priority && netns_enter(netns, &daemon_caller, &guard) >= 0) {
                        if (netns_current_inode(&ino) >= 0 && ino == want_ino)
                                remove_tc_filter(&slot);
                        netns_leave(&guard);
                }
                goto done;
        }
        if (kind && streq(kind, "tc")) {
                /* Whatever was half done there, the hook gets exactly the committed slots. */
                g_autofree gchar *direction = g_key_file_get_string(kf, "Slot", "Direction", NULL);
                LinkInfo hook = { .netns_ino = want_ino, .ifindex = ifindex,
                                  .target = { .kind = KIND_TC, .netns = netns, .direction = direction,
                                              .interface = (char *) "(recovered)" } };
                _cleanup_(engine_error_done) EngineError error = ENGINE_ERROR_NULL;

                if (direction && netns_enter(netns, &daemon_caller, &guard) >= 0) {
                        if (netns_current_inode(&ino) >= 0 && ino == want_ino &&
                            tc_hook_update(e, &hook, NULL, -1, 0, &error) < 0)
                                log_warning("Cannot restore the TC dispatcher of ifindex %" PRIu32 ": %s", ifindex,
                                            error.message);
                        netns_leave(&guard);
                }
                goto done;
        }
        for (guint k = 0; k < all->len; k++) {
                LinkInfo *l = g_ptr_array_index(all, k);
                if (l->component_id && l->ifindex == ifindex && l->netns_ino == want_ino && xdp_run_prio(l) == run_prio)
                        goto done; /* committed after all */
        }
        alone = (uint32_t) g_key_file_get_uint64(kf, "Slot", "Program", NULL);
        if (netns_enter(netns, &daemon_caller, &guard) < 0)
                goto done;
        if (netns_current_inode(&ino) >= 0 && ino == want_ino &&
            xdp_chain_list((int) ifindex, &entries, &n, NULL, NULL, NULL) >= 0)
                for (size_t i = 0; i < n; i++)
                        /* A slot of the dispatcher by its priority; a program attached alone by its id. */
                        if ((run_prio && entries[i].run_prio == run_prio) || (alone && entries[i].prog_id == alone)) {
                                log_info("Taking the uncommitted program %" PRIu32 " out of the XDP chain of ifindex %" PRIu32 ".",
                                         entries[i].prog_id, ifindex);
                                (void) xdp_chain_remove((int) ifindex, entries[i].prog_id);
                        }
        netns_leave(&guard);
done:
        (void) unlink(path);
}

static LinkInfo *recover_link(Engine *e, GKeyFile *kf, const char *sec, uint32_t id, Group *g) {
        _cleanup_(link_info_unrefp) LinkInfo *l = calloc(1, sizeof(LinkInfo));
        _cleanup_close_ int fd = -1;
        uint32_t kid, kprog;

        if (!l)
                return NULL;
        l->n_ref = 1;
        l->id = id;
        l->program_id = (uint32_t) g_key_file_get_uint64(kf, sec, "Program", NULL);
        l->owner_uid = (uid_t) g_key_file_get_uint64(kf, sec, "Owner", NULL);
        l->attach_time_usec = g_key_file_get_uint64(kf, sec, "AttachTime", NULL);
        l->attach_point = g_key_file_get_string(kf, sec, "AttachPoint", NULL);
        l->seq = g_key_file_get_uint64(kf, sec, "Seq", NULL);
        l->netns_ino = g_key_file_get_uint64(kf, sec, "NetnsInode", NULL);
        l->ifindex = (uint32_t) g_key_file_get_uint64(kf, sec, "Ifindex", NULL);
        if (l->seq > e->link_seq)
                e->link_seq = l->seq;
        l->component_id = (uint32_t) g_key_file_get_uint64(kf, sec, "ComponentId", NULL);
        if (l->component_id) {
                if (!l->attach_point || attach_target_load(&l->target, kf, sec) < 0 ||
                    !group_find_program(g, l->program_id, NULL))
                        return NULL;
                if (id > e->slot_id)
                        e->slot_id = id;
                if (l->target.kind == KIND_TCX) {
                        NetnsGuard guard;
                        bool present = false;

                        l->tc_priority = (uint32_t) g_key_file_get_uint64(kf, sec, "TcPriority", NULL);
                        if (!(l->pin_path = strdup("")))
                                return NULL;
                        if (netns_enter(l->target.netns, &daemon_caller, &guard) >= 0) {
                                present = tc_filter_present(l);
                                netns_leave(&guard);
                        }
                        if (!present) {
                                log_warning("The tc filter of link %" PRIu32 " is gone, forgetting it.", id);
                                return NULL;
                        }
                        return TAKE_PTR(l);
                }
                if (l->target.kind == KIND_TC) {
                        struct bpf_prog_info info = {};
                        uint32_t len = sizeof info;
                        _cleanup_close_ int ext = -1;

                        /* The extension's pin keeps it; the dispatcher's own pins keep the chain. */
                        l->pin_path = path_join(e->fs_dir, "tcext_%" PRIu32, l->component_id);
                        ext = l->pin_path ? bpf_obj_get(l->pin_path) : -1;
                        if (ext < 0 || bpf_obj_get_info_by_fd(ext, &info, &len) < 0 || info.id != l->component_id) {
                                log_warning("The extension of link %" PRIu32 " is gone, forgetting it.", id);
                                return NULL;
                        }
                        return TAKE_PTR(l);
                }
                if (!(l->pin_path = strdup("")))
                        return NULL;
                if (!slot_in_chain(l)) {
                        log_warning("Link %" PRIu32 " is no longer in the XDP chain of %s, forgetting it.", id,
                                    l->target.interface);
                        return NULL;
                }
                return TAKE_PTR(l);
        }
        l->pin_path = path_join(e->fs_dir, "link_%" PRIu32, id);
        if (!l->attach_point || !l->pin_path || attach_target_load(&l->target, kf, sec) < 0)
                return NULL;
        if (!group_find_program(g, l->program_id, NULL))
                return NULL;
        fd = bpf_obj_get(l->pin_path);
        if (fd < 0) {
                log_warning("Link %" PRIu32 " of the state is gone (%s: %m), forgetting it.", id, l->pin_path);
                return NULL;
        }
        if (link_id_of_fd(fd, &kid, &kprog) < 0 || kid != id || kprog != l->program_id) {
                log_warning("The pin %s holds another link than %" PRIu32 ", forgetting it.", l->pin_path, id);
                (void) unlink(l->pin_path);
                return NULL;
        }
        return TAKE_PTR(l);
}

static int recover_group(Engine *e, const char *path) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_auto(GStrv) sections = NULL;
        g_autofree gchar *source = NULL;
        Group *g;
        bool changed = false;

        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL)) {
                log_warning("Cannot parse state record %s, removing it.", path);
                (void) unlink(path);
                return 0;
        }
        source = g_key_file_get_string(kf, "Group", "Source", NULL);
        g = group_new((uint32_t) g_key_file_get_uint64(kf, "Group", "Id", NULL),
                      (uid_t) g_key_file_get_uint64(kf, "Group", "Owner", NULL), source);
        if (!g)
                return -ENOMEM;
        g->object_path = g_key_file_get_string(kf, "Group", "Object", NULL);
        sections = g_key_file_get_groups(kf, NULL);
        for (int pass = 0; pass < 2; pass++)
                for (gchar **s = sections; *s; s++) {
                        unsigned id;
                        if (pass == 0 && sscanf(*s, "Program %u", &id) == 1) {
                                ProgramInfo *p = recover_program(e, kf, *s, id, g);
                                if (p)
                                        g_ptr_array_add(g->programs, p);
                                else
                                        changed = true;
                        } else if (pass == 1 && sscanf(*s, "Link %u", &id) == 1) {
                                LinkInfo *l = recover_link(e, kf, *s, id, g);
                                if (l)
                                        g_ptr_array_add(g->links, l);
                                else
                                        changed = true;
                        }
                }
        if (g->programs->len == 0) {
                log_info("Nothing of load group %" PRIu32 " survived, removing its record.", g->id);
                (void) unlink(path);
                group_free(g);
                return 0;
        }
        if (changed)
                (void) group_save(e, g);
        engine_index_group(e, g);
        return 0;
}

static bool tc_extension_in_use(Engine *e, uint32_t component_id) {
        g_autoptr(GPtrArray) all = engine_all_links(e);

        for (guint k = 0; k < all->len; k++) {
                LinkInfo *l = g_ptr_array_index(all, k);
                if (l->target.kind == KIND_TC && l->component_id == component_id)
                        return true;
        }
        return false;
}

/* Pins no record names are leftovers of an operation that was interrupted before its commit. */
static void sweep_orphans(Engine *e) {
        DIR *d = opendir(e->fs_dir);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                unsigned id;
                bool keep = true;

                if (sscanf(de->d_name, "prog_%u", &id) == 1)
                        keep = g_hash_table_contains(e->programs, GUINT_TO_POINTER(id));
                else if (sscanf(de->d_name, "link_%u", &id) == 1)
                        keep = g_hash_table_contains(e->links, GUINT_TO_POINTER(id));
                else if (sscanf(de->d_name, "tcext_%u", &id) == 1)
                        keep = tc_extension_in_use(e, id);
                if (!keep) {
                        log_info("Removing orphaned pin %s/%s.", e->fs_dir, de->d_name);
                        (void) unlinkat(dirfd(d), de->d_name, 0);
                }
        }
        closedir(d);
        d = opendir(e->objects_dir);
        while (d && (de = readdir(d))) {
                unsigned id;
                if (sscanf(de->d_name, "group-%u.o", &id) == 1 && !g_hash_table_contains(e->groups, GUINT_TO_POINTER(id))) {
                        log_info("Removing the orphaned object %s/%s.", e->objects_dir, de->d_name);
                        (void) unlinkat(dirfd(d), de->d_name, 0);
                }
        }
        if (d)
                closedir(d);
        d = opendir(e->maps_dir);
        if (!d)
                return;
        while ((de = readdir(d))) {
                unsigned id;
                if (sscanf(de->d_name, "%u", &id) == 1 && !map_dir_in_use(e, id)) {
                        _cleanup_free_ char *dir = path_join(e->maps_dir, "%s", de->d_name);
                        log_info("Removing orphaned map pins %s.", strempty(dir));
                        if (dir) {
                                (void) rm_rf_children(dir);
                                (void) rmdir(dir);
                        }
                }
        }
        closedir(d);
}

int engine_recover(Engine *e) {
        DIR *d;
        struct dirent *de;
        int r = 0;

        r = mkdir_p_one(e->state_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Cannot create %s: %m", e->state_dir);
        (void) mkdir_p_one(e->maps_dir, 0755);
        d = opendir(e->state_dir);
        if (!d)
                return log_error_errno(-errno, "Cannot open %s: %m", e->state_dir);
        while ((de = readdir(d))) {
                _cleanup_free_ char *p = path_join(e->state_dir, "%s", de->d_name);
                size_t n = strlen(de->d_name);

                if (!p)
                        continue;
                if (n > 4 && streq(de->d_name + n - 4, ".tmp")) {
                        (void) unlink(p); /* an interrupted write; the record it replaced is still there */
                        continue;
                }
                if (strncmp(de->d_name, "group-", 6) == 0 && n > 5 && streq(de->d_name + n - 5, ".conf")) {
                        r = recover_group(e, p);
                        if (r < 0)
                                break;
                }
        }
        closedir(d);
        d = opendir(e->state_dir);
        while (d && (de = readdir(d))) {
                size_t n = strlen(de->d_name);
                if (n > 8 && streq(de->d_name + n - 8, ".journal")) {
                        _cleanup_free_ char *p = path_join(e->state_dir, "%s", de->d_name);
                        if (p)
                                recover_journal(e, p);
                }
        }
        if (d)
                closedir(d);
        sweep_orphans(e);
        log_info("Recovered %u program(s) and %u link(s) from %s.", g_hash_table_size(e->programs),
                 g_hash_table_size(e->links), e->state_dir);
        if (e->forgotten_programs > 0)
                log_info("Forgot %u program(s) of the state that are no longer in the kernel (as after a reboot), "
                         "with their links.", e->forgotten_programs);
        return r;
}

int engine_snapshot(Engine *e, ProgramInfo ***ret_programs, size_t *ret_n_programs, LinkInfo ***ret_links,
                    size_t *ret_n_links) {
        GHashTableIter it;
        gpointer v;
        size_t np = 0, nl = 0;
        ProgramInfo **ps = calloc(g_hash_table_size(e->programs) + 1, sizeof(ProgramInfo *));
        LinkInfo **ls = calloc(g_hash_table_size(e->links) + 1, sizeof(LinkInfo *));

        if (!ps || !ls) {
                free(ps);
                free(ls);
                return -ENOMEM;
        }
        g_hash_table_iter_init(&it, e->groups);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                Group *g = v;
                for (guint i = 0; i < g->programs->len; i++)
                        ps[np++] = program_info_ref(g_ptr_array_index(g->programs, i));
                for (guint i = 0; i < g->links->len; i++)
                        ls[nl++] = link_info_ref(g_ptr_array_index(g->links, i));
        }
        *ret_programs = ps;
        *ret_n_programs = np;
        *ret_links = ls;
        *ret_n_links = nl;
        return 0;
}

/* ---- programs in the kernel, managed or not ---- */

int engine_kernel_program(Engine *e, uint32_t id, KernelProgram *ret, EngineError *error) {
        _cleanup_close_ int fd = bpf_prog_get_fd_by_id(id);
        int r;

        if (fd < 0)
                return engine_error_setf(error, BPFD_ERR_PROGRAM_NOT_FOUND, "There is no program %" PRIu32 ".", id);
        r = kernel_program_from_fd(fd, ret);
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot query program %" PRIu32 ": %m", id);
        return 0;
}

int engine_kernel_programs(Engine *e, KernelProgram **ret, size_t *ret_n, EngineError *error) {
        KernelProgram *list = NULL;
        size_t n = 0;
        uint32_t id = 0;

        while (bpf_prog_get_next_id(id, &id) == 0) {
                _cleanup_close_ int fd = bpf_prog_get_fd_by_id(id);
                KernelProgram *l;

                if (fd < 0)
                        continue; /* gone meanwhile */
                l = reallocarray(list, n + 1, sizeof(KernelProgram));
                if (!l) {
                        kernel_programs_free(list, n);
                        return -ENOMEM;
                }
                list = l;
                if (kernel_program_from_fd(fd, &list[n]) == 0)
                        n++;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

/* ---- network interfaces and the chains on their hooks ---- */

static LinkInfo *engine_find_link(Engine *e, uint32_t id) {
        Group *g = g_hash_table_lookup(e->links, GUINT_TO_POINTER(id));
        for (guint k = 0; g && k < g->links->len; k++)
                if (((LinkInfo *) g_ptr_array_index(g->links, k))->id == id)
                        return g_ptr_array_index(g->links, k);
        return NULL;
}

static void chain_entry_fill(Engine *e, ChainEntry *c, uint32_t prog_id, uint32_t link_id) {
        Group *g = g_hash_table_lookup(e->programs, GUINT_TO_POINTER(prog_id));
        ProgramInfo *p = g ? group_find_program(g, prog_id, NULL) : NULL;
        LinkInfo *l = link_id ? engine_find_link(e, link_id) : NULL;

        *c = (ChainEntry) { .prog_id = prog_id, .link_id = link_id };
        if (p && l) {
                c->managed = true;
                c->priority = l->target.priority;
                snprintf(c->name, sizeof c->name, "%s", p->name);
        } else {
                _cleanup_close_ int fd = bpf_prog_get_fd_by_id(prog_id);
                struct bpf_prog_info info = {};
                uint32_t len = sizeof info;
                if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
                        snprintf(c->name, sizeof c->name, "%s", info.name);
        }
}

static LinkInfo *engine_find_slot(Engine *e, uint64_t netns_ino, uint32_t ifindex, uint32_t component_id);

/* What runs on a TC hook, in order: TCX links first (the kernel runs them before classic filters), then the
 * filters by priority, bpfd's dispatcher shown as the slots it runs. */
static int scan_tc(Engine *e, uint64_t netns_ino, uint32_t ifindex, const NetdevState *dev, bool egress, Chain *ret) {
        _cleanup_(tcx_chain_done) TcxChain chain = {};
        _cleanup_free_ TcHookProgram *filters = NULL;
        size_t n_filters = 0;

        *ret = (Chain) {};
        if (!e->supported[KIND_TCX] || tcx_query(ifindex, egress, &chain) < 0)
                chain.n = 0;
        if ((dev ? tc_dispatcher_list_on((int) ifindex, egress, dev->qdisc, &filters, &n_filters)
                 : tc_dispatcher_list((int) ifindex, egress, &filters, &n_filters)) < 0)
                n_filters = 0;
        ret->entries = calloc(chain.n + n_filters + 1, sizeof(ChainEntry));
        if (!ret->entries)
                return -ENOMEM;
        for (size_t i = 0; i < chain.n; i++)
                chain_entry_fill(e, &ret->entries[ret->n++], chain.prog_ids[i], chain.link_ids[i]);
        for (size_t i = 0; i < n_filters; i++) {
                LinkInfo *l;
                if (filters[i].is_dispatcher || filters[i].prog_id == 0)
                        continue;
                /* a slot of bpfd's dispatcher, or one of bpfd's own tcx filters */
                l = engine_find_slot(e, netns_ino, ifindex, filters[i].prog_id);
                chain_entry_fill(e, &ret->entries[ret->n++], l ? l->program_id : filters[i].prog_id, l ? l->id : 0);
        }
        return 0;
}

static LinkInfo *engine_find_slot(Engine *e, uint64_t netns_ino, uint32_t ifindex, uint32_t component_id) {
        g_autoptr(GPtrArray) all = NULL;

        if (e->scan_slots) {
                LinkInfo *l = g_hash_table_lookup(e->scan_slots, GUINT_TO_POINTER(component_id));
                return l && l->ifindex == ifindex && l->netns_ino == netns_ino ? l : NULL;
        }
        all = engine_all_links(e);
        for (guint k = 0; k < all->len; k++) {
                LinkInfo *l = g_ptr_array_index(all, k);
                if (l->component_id == component_id && l->ifindex == ifindex && l->netns_ino == netns_ino)
                        return l;
        }
        return NULL;
}

/* A scan looks slots up by the extension program's id, which is unique in the kernel: one pass over the
 * links per scan instead of one per program on a hook. */
static void scan_slots_begin(Engine *e) {
        g_autoptr(GPtrArray) all = engine_all_links(e);

        e->scan_slots = g_hash_table_new(NULL, NULL);
        for (guint k = 0; k < all->len; k++) {
                LinkInfo *l = g_ptr_array_index(all, k);
                if (l->component_id)
                        g_hash_table_replace(e->scan_slots, GUINT_TO_POINTER(l->component_id), l);
        }
}

static void scan_slots_end(Engine *e) {
        if (e->scan_slots)
                g_hash_table_unref(e->scan_slots);
        e->scan_slots = NULL;
}

static int scan_xdp(Engine *e, uint64_t netns_ino, uint32_t ifindex, const NetdevState *dev, Chain *ret, char **ret_mode) {
        _cleanup_free_ XdpChainEntry *entries = NULL;
        enum xdp_attach_mode mode = XDP_MODE_UNSPEC;
        size_t n = 0;

        *ret = (Chain) {};
        /* Where the link dump says nothing is attached, libxdp's query (another dump) is not needed. */
        if ((dev && !dev->xdp) || xdp_chain_list((int) ifindex, &entries, &n, &mode, NULL, NULL) < 0)
                n = 0;
        ret->entries = calloc(n + 1, sizeof(ChainEntry));
        if (!ret->entries)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                /* A slot of ours shows the program bpfd loaded and the slot's link, not the extension. */
                LinkInfo *l = engine_find_slot(e, netns_ino, ifindex, entries[i].prog_id);
                chain_entry_fill(e, &ret->entries[ret->n++], l ? l->program_id : entries[i].prog_id, l ? l->id : 0);
        }
        *ret_mode = strdup(n == 0 ? "" : mode == XDP_MODE_SKB ? "skb" : mode == XDP_MODE_HW ? "hw" : "native");
        return *ret_mode ? 0 : -ENOMEM;
}

static InterfaceInfo *scan_interface(Engine *e, const char *name, uint32_t ifindex, const char *netns,
                                     uint64_t netns_ino, bool own, const NetdevState *dev) {
        InterfaceInfo *i = calloc(1, sizeof(InterfaceInfo));

        if (!i)
                return NULL;
        i->n_ref = 1;
        i->name = strdup(name);
        i->ifindex = ifindex;
        i->netns = strdup(own ? "" : strempty(netns));
        i->netns_ino = netns_ino;
        if (own)
                i->object_name = strdup(name);
        else if (asprintf(&i->object_name, "%s@netns%" PRIu64, name, netns_ino) < 0)
                i->object_name = NULL;
        if (!i->name || !i->netns || !i->object_name || scan_xdp(e, netns_ino, ifindex, dev, &i->xdp, &i->xdp_mode) < 0 ||
            scan_tc(e, netns_ino, ifindex, dev, false, &i->ingress) < 0 ||
            scan_tc(e, netns_ino, ifindex, dev, true, &i->egress) < 0)
                return interface_info_unref(i);
        return i;
}

static void rm_dir(const char *path) {
        (void) rm_rf_children(path);
        (void) rmdir(path);
}

/* Dispatcher pins keep programs alive after their interface went: remove those of a vanished hook. libxdp
 * names its directories by ifindex and dispatcher id only, so the right one is the one that pins this
 * link's component. */
static void clean_vanished_hook(Engine *e, const LinkInfo *l) {
        _cleanup_free_ char *xdp_dir = path_join(e->fs_dir, "xdp"), *prefix = NULL;
        DIR *d;
        struct dirent *de;

        if (l->target.kind == KIND_TC) {
                _cleanup_free_ char *dir = NULL;
                if (asprintf(&dir, "%s/%" PRIu64 "-%" PRIu32 "-%s", e->tc_dir, l->netns_ino, l->ifindex,
                             l->target.direction) >= 0)
                        rm_dir(dir);
                return;
        }
        if (l->target.kind != KIND_XDP || !xdp_dir || asprintf(&prefix, "dispatch-%" PRIu32 "-", l->ifindex) < 0)
                return;
        d = opendir(xdp_dir);
        while (d && (de = readdir(d))) {
                _cleanup_free_ char *dir = NULL;
                bool ours = false;

                if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 || !(dir = path_join(xdp_dir, "%s", de->d_name)))
                        continue;
                for (unsigned slot = 0; slot < XDP_CHAIN_MAX && !ours; slot++) {
                        _cleanup_free_ char *pin = path_join(dir, "prog%u-prog", slot);
                        _cleanup_close_ int fd = pin ? bpf_obj_get(pin) : -1;
                        struct bpf_prog_info info = {};
                        uint32_t len = sizeof info;
                        ours = fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.id == l->component_id;
                }
                if (ours) {
                        log_info("Removing the dispatcher pins %s of a vanished interface.", dir);
                        rm_dir(dir);
                }
        }
        if (d)
                closedir(d);
}

/* The kernel dropped these links' attachments with their interface (or namespace): drop the links too. */
static void drop_links(Engine *e, GArray *ids) {
        for (guint j = 0; j < ids->len; j++) {
                _cleanup_(engine_error_done) EngineError error = ENGINE_ERROR_NULL;
                _cleanup_(link_info_unrefp) LinkInfo *l = link_info_ref(engine_find_link(e, g_array_index(ids, uint32_t, j)));

                log_info("The interface of link %" PRIu32 " is gone; dropping the link.", g_array_index(ids, uint32_t, j));
                (void) engine_detach(e, g_array_index(ids, uint32_t, j), &error);
                if (l)
                        clean_vanished_hook(e, l);
        }
}

int engine_scan_interfaces(Engine *e, InterfaceInfo ***ret, size_t *ret_n, uint32_t **ret_gone, size_t *ret_n_gone) {
        g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(interface_info_destroy);
        g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(uint32_t));
        g_autoptr(GHashTable) other_ifaces = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GPtrArray) all = engine_all_links(e);
        NetdevDump dump = {};
        uint64_t own_ino = 0;
        int r;

        (void) netns_current_inode(&own_ino);
        scan_slots_begin(e);
        /* Two dumps for the whole namespace, then per interface only what is attached there. */
        r = netdev_dump(&dump);
        if (r < 0)
                log_warning_errno(r, "Cannot list the network interfaces: %m");
        for (size_t k = 0; k < dump.n; k++) {
                InterfaceInfo *i = scan_interface(e, dump.devs[k].name, dump.devs[k].ifindex, NULL, own_ino, true,
                                                  &dump.devs[k]);
                if (i)
                        g_ptr_array_add(found, i);
        }

        /* Links on network hooks: those of other namespaces show their interfaces too; links whose interface
         * (or namespace) is gone are dropped, as the kernel dropped the attachment. */
        for (guint k = 0; k < all->len; k++) {
                LinkInfo *l = g_ptr_array_index(all, k);
                char name[IF_NAMESIZE];
                bool exists = false;

                if (!l->ifindex)
                        continue;
                if (l->netns_ino == own_ino)
                        exists = r < 0 ? if_indextoname(l->ifindex, name) != NULL : netdev_dump_find(&dump, l->ifindex) != NULL;
                else {
                        g_autofree gchar *key = g_strdup_printf("%" PRIu64 ":%" PRIu32, l->netns_ino, l->ifindex);
                        NetnsGuard guard;
                        uint64_t ino = 0;

                        if (netns_enter(l->target.netns, &daemon_caller, &guard) >= 0 && netns_current_inode(&ino) >= 0 &&
                            ino == l->netns_ino && if_indextoname(l->ifindex, name)) {
                                exists = true;
                                if (!g_hash_table_contains(other_ifaces, key)) {
                                        InterfaceInfo *i = scan_interface(e, name, l->ifindex, l->target.netns,
                                                                          l->netns_ino, false, NULL);
                                        if (i)
                                                g_ptr_array_add(found, i);
                                        g_hash_table_add(other_ifaces, g_steal_pointer(&key));
                                }
                        }
                        netns_leave(&guard);
                }
                if (!exists)
                        g_array_append_val(gone, l->id);
        }
        scan_slots_end(e);
        netdev_dump_done(&dump);
        drop_links(e, gone);
        *ret_n = found->len;
        *ret = (InterfaceInfo **) g_ptr_array_free(g_steal_pointer(&found), FALSE);
        *ret_n_gone = gone->len;
        *ret_gone = (uint32_t *) g_array_free(g_steal_pointer(&gone), FALSE);
        return 0;
}

/* Links on an interface of namespace netns_ino. */
static void links_on(GPtrArray *all, uint64_t netns_ino, uint32_t ifindex, GArray *ids) {
        for (guint k = 0; k < all->len; k++) {
                LinkInfo *l = g_ptr_array_index(all, k);
                if (l->ifindex == ifindex && l->netns_ino == netns_ino)
                        g_array_append_val(ids, l->id);
        }
}

int engine_scan_interfaces_of(Engine *e, const InterfaceKey *keys, size_t n_keys, InterfaceInfo ***ret, size_t *ret_n,
                              InterfaceKey **ret_vanished, size_t *ret_n_vanished, uint32_t **ret_gone, size_t *ret_n_gone) {
        g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(interface_info_destroy);
        g_autoptr(GArray) vanished = g_array_new(FALSE, FALSE, sizeof(InterfaceKey));
        g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(uint32_t));
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GPtrArray) all = engine_all_links(e);
        NetdevDump dump = {};
        bool have_dump = false;
        uint64_t own_ino = 0;

        (void) netns_current_inode(&own_ino);
        for (size_t k = 0; k < n_keys && !have_dump; k++)
                if (keys[k].netns_ino == own_ino)
                        have_dump = netdev_dump(&dump) >= 0; /* one dump for the whole burst */
        scan_slots_begin(e);
        for (size_t k = 0; k < n_keys; k++) {
                const InterfaceKey *key = &keys[k];
                g_autofree gchar *id = g_strdup_printf("%" PRIu64 ":%" PRIu32, key->netns_ino, key->ifindex);
                InterfaceInfo *i = NULL;
                char name[IF_NAMESIZE];

                if (!g_hash_table_add(seen, g_steal_pointer(&id)))
                        continue;
                if (key->netns_ino == own_ino) {
                        const NetdevState *dev = have_dump ? netdev_dump_find(&dump, key->ifindex) : NULL;
                        if (dev)
                                i = scan_interface(e, dev->name, key->ifindex, NULL, own_ino, true, dev);
                        else if (!have_dump && if_indextoname(key->ifindex, name))
                                i = scan_interface(e, name, key->ifindex, NULL, own_ino, true, NULL);
                        else
                                links_on(all, key->netns_ino, key->ifindex, gone);
                } else {
                        /* Another namespace: shown while bpfd has links there. */
                        LinkInfo *l = NULL;
                        for (guint j = 0; j < all->len && !l; j++) {
                                LinkInfo *c = g_ptr_array_index(all, j);
                                if (c->ifindex == key->ifindex && c->netns_ino == key->netns_ino)
                                        l = c;
                        }
                        if (l) {
                                NetnsGuard guard;
                                uint64_t ino = 0;

                                if (netns_enter(l->target.netns, &daemon_caller, &guard) >= 0 &&
                                    netns_current_inode(&ino) >= 0 && ino == l->netns_ino &&
                                    if_indextoname(l->ifindex, name))
                                        i = scan_interface(e, name, l->ifindex, l->target.netns, l->netns_ino, false, NULL);
                                else
                                        links_on(all, key->netns_ino, key->ifindex, gone);
                                netns_leave(&guard);
                        }
                }
                if (i)
                        g_ptr_array_add(found, i);
                else
                        g_array_append_val(vanished, *key);
        }
        scan_slots_end(e);
        netdev_dump_done(&dump);
        drop_links(e, gone);
        *ret_n = found->len;
        *ret = (InterfaceInfo **) g_ptr_array_free(g_steal_pointer(&found), FALSE);
        *ret_n_vanished = vanished->len;
        *ret_vanished = (InterfaceKey *) g_array_free(g_steal_pointer(&vanished), FALSE);
        *ret_n_gone = gone->len;
        *ret_gone = (uint32_t *) g_array_free(g_steal_pointer(&gone), FALSE);
        return 0;
}

/* ---- map access for callers without BPF rights ---- */

static bool map_type_per_cpu(uint32_t type) {
        return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
               type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

void map_access_done(MapAccess *a) {
        free(a->map);
        free(a->key);
        free(a->value);
        free(a->btf);
        free(a->type);
        free(a->pin_path);
        if (a->entries)
                g_ptr_array_unref(a->entries);
        if (a->ringbuf_fd > 0)
                close(a->ringbuf_fd);
        *a = (MapAccess) {};
}

/* Opens the pinned map of a managed program by name and learns its shape. */
static int map_open(Engine *e, uint32_t program_id, const char *name, int *ret_fd, struct bpf_map_info *info,
                    size_t *ret_value_len, MapAccess *a, EngineError *error) {
        Group *g = g_hash_table_lookup(e->programs, GUINT_TO_POINTER(program_id));
        ProgramInfo *p = g ? group_find_program(g, program_id, NULL) : NULL;
        uint32_t len = sizeof *info;
        const MapInfo *m = NULL;
        int fd;

        if (!p)
                return engine_error_setf(error, BPFD_ERR_PROGRAM_NOT_FOUND, "No program %" PRIu32 " is loaded by bpfd.",
                                         program_id);
        for (size_t i = 0; i < p->n_maps && !m; i++)
                if (streq(p->maps[i].name, name))
                        m = &p->maps[i];
        if (!m)
                return engine_error_setf(error, BPFD_ERR_MAP_NOT_FOUND, "Program %" PRIu32 " has no map '%s'.", program_id,
                                         name);
        fd = bpf_obj_get(m->pin_path);
        if (fd < 0)
                return engine_error_set_errnof(error, -errno, "Cannot open the map pin %s: %m", m->pin_path);
        memset(info, 0, sizeof *info);
        if (bpf_obj_get_info_by_fd(fd, info, &len) < 0) {
                int r = -errno;
                close(fd);
                return engine_error_set_errnof(error, r, "Cannot query map '%s': %m", name);
        }
        a->per_cpu = map_type_per_cpu(info->type);
        a->possible_cpus = a->per_cpu ? (uint32_t) libbpf_num_possible_cpus() : 1;
        *ret_value_len = a->per_cpu ? ((size_t) (info->value_size + 7) / 8 * 8) * a->possible_cpus : info->value_size;
        free(a->pin_path);
        a->pin_path = strdup(m->pin_path);
        *ret_fd = fd;
        return 0;
}

static int map_info(Engine *e, uint32_t program_id, MapAccess *a, int fd, const struct bpf_map_info *info,
                    EngineError *error) {
        a->map_id = info->id;
        a->map_type = info->type;
        a->key_size = info->key_size;
        a->value_size = info->value_size;
        a->max_entries = info->max_entries;
        a->map_flags = info->map_flags;
        a->btf_key_type_id = info->btf_key_type_id;
        a->btf_value_type_id = info->btf_value_type_id;
        a->type = strdup(libbpf_bpf_map_type_str(info->type) ?: "unknown");
        if (!a->type)
                return -ENOMEM;
        if (info->btf_id) {
                struct btf *btf = btf__load_from_kernel_by_id(info->btf_id);
                if (btf) {
                        uint32_t size;
                        const void *raw = btf__raw_data(btf, &size);
                        a->btf = malloc(size ?: 1);
                        if (a->btf && raw) {
                                memcpy(a->btf, raw, size);
                                a->btf_size = size;
                        }
                        btf__free(btf);
                }
        }
        return 0;
}

/* BPF_MAP_LOOKUP_BATCH: thousands of entries per system call, where the map type has it. -EOPNOTSUPP
 * (or -EINVAL) tells the caller to walk the map instead. */
static int map_dump_batch(MapAccess *a, int fd, const struct bpf_map_info *info, size_t value_len, EngineError *error) {
        const uint32_t chunk = 4096;
        _cleanup_free_ uint8_t *keys = malloc((size_t) chunk * info->key_size), *values = malloc((size_t) chunk * value_len);
        _cleanup_free_ uint8_t *in = malloc(info->key_size + 8), *out = malloc(info->key_size + 8);
        bool first = true;
        size_t total = 0;

        if (!keys || !values || !in || !out)
                return -ENOMEM;
        for (;;) {
                uint32_t count = chunk;
                int r = bpf_map_lookup_batch(fd, first ? NULL : in, out, keys, values, &count, NULL);
                bool done = r == -ENOENT;

                if (r < 0 && !done)
                        return first ? r : engine_error_set_errnof(error, r, "Cannot read map '%s': %m", a->map);
                for (uint32_t i = 0; i < count; i++) {
                        total += info->key_size + value_len;
                        if (total > 64U * 1024U * 1024U)
                                return engine_error_setf(error, BPFD_ERR_FAILED, "The map is too large to dump over the bus.");
                        g_ptr_array_add(a->entries, g_bytes_new(keys + (size_t) i * info->key_size, info->key_size));
                        g_ptr_array_add(a->entries, g_bytes_new(values + (size_t) i * value_len, value_len));
                }
                if (done)
                        return 0;
                memcpy(in, out, info->key_size);
                first = false;
        }
}

static int map_dump(MapAccess *a, int fd, const struct bpf_map_info *info, size_t value_len, EngineError *error) {
        _cleanup_free_ uint8_t *key = malloc(info->key_size + 1), *next = malloc(info->key_size + 1),
                               *value = malloc(value_len + 1);
        size_t total = 0;
        bool first = true;
        int r;

        if (!key || !next || !value)
                return -ENOMEM;
        a->entries = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
        r = map_dump_batch(a, fd, info, value_len, error);
        if (r >= 0 || engine_error_is_set(error))
                return r;
        g_ptr_array_set_size(a->entries, 0); /* no batches for this map type: walk it */
        for (;;) {
                r = bpf_map_get_next_key(fd, first ? NULL : key, next);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return engine_error_set_errnof(error, r, "Cannot walk the map: %m");
                first = false;
                memcpy(key, next, info->key_size);
                if (bpf_map_lookup_elem(fd, key, value) < 0)
                        continue; /* deleted meanwhile */
                total += info->key_size + value_len;
                /* a D-Bus message holds at most 128 MiB; stay well below */
                if (total > 64U * 1024U * 1024U)
                        return engine_error_setf(error, BPFD_ERR_FAILED, "The map is too large to dump over the bus.");
                g_ptr_array_add(a->entries, g_bytes_new(key, info->key_size));
                g_ptr_array_add(a->entries, g_bytes_new(value, value_len));
        }
}

int engine_map_access(Engine *e, uint32_t program_id, MapAccess *a, EngineError *error) {
        _cleanup_close_ int fd = -1;
        struct bpf_map_info info;
        size_t value_len = 0;
        int r;

        r = map_open(e, program_id, a->map, &fd, &info, &value_len, a, error);
        if (r < 0)
                return r;
        if (a->op == MAP_OP_RINGBUF) {
                if (info.type != BPF_MAP_TYPE_RINGBUF)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Map '%s' is not a ring buffer.", a->map);
                a->ringbuf_fd = TAKE_FD(fd);
                return 0;
        }
        if (a->op != MAP_OP_INFO && a->op != MAP_OP_DUMP && a->key_size_given != info.key_size)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "The keys of map '%s' are %" PRIu32 " bytes long, not %zu.", a->map,
                                         info.key_size, a->key_size_given);
        switch (a->op) {
        case MAP_OP_RINGBUF:
                return 0; /* handled above */
        case MAP_OP_INFO:
                return map_info(e, program_id, a, fd, &info, error);
        case MAP_OP_DUMP:
                return map_dump(a, fd, &info, value_len, error);
        case MAP_OP_LOOKUP:
                a->value = malloc(value_len + 1);
                if (!a->value)
                        return -ENOMEM;
                r = bpf_map_lookup_elem(fd, a->key, a->value);
                if (r == -ENOENT)
                        return engine_error_setf(error, BPFD_ERR_KEY_NOT_FOUND, "Map '%s' has no entry for that key.", a->map);
                if (r < 0)
                        return engine_error_set_errnof(error, r, "Cannot look up in map '%s': %m", a->map);
                a->value_len = value_len;
                return 0;
        case MAP_OP_UPDATE:
                if (a->value_len != value_len)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "The values of map '%s' are %zu bytes long%s, not %zu.", a->map, value_len,
                                                 a->per_cpu ? " (one 8-byte aligned value per possible CPU)" : "",
                                                 a->value_len);
                if (a->flags > BPF_EXIST)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Unknown update flags %" PRIu64 ".",
                                                 a->flags);
                r = bpf_map_update_elem(fd, a->key, a->value, a->flags);
                if (r == -ENOENT)
                        return engine_error_setf(error, BPFD_ERR_KEY_NOT_FOUND, "Map '%s' has no entry for that key.", a->map);
                if (r == -EEXIST)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Map '%s' has that key already.", a->map);
                if (r == -E2BIG)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Map '%s' is full, or the key is out of range.",
                                                 a->map);
                if (r == -EPERM)
                        return engine_error_setf(error, BPFD_ERR_PERMISSION_DENIED, "Map '%s' is read-only.", a->map);
                if (r < 0)
                        return engine_error_set_errnof(error, r, "Cannot update map '%s': %m", a->map);
                return 0;
        case MAP_OP_DELETE:
                r = bpf_map_delete_elem(fd, a->key);
                if (r == -ENOENT)
                        return engine_error_setf(error, BPFD_ERR_KEY_NOT_FOUND, "Map '%s' has no entry for that key.", a->map);
                if (r == -EINVAL && (info.type == BPF_MAP_TYPE_ARRAY || info.type == BPF_MAP_TYPE_PERCPU_ARRAY))
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "Entries of array map '%s' cannot be deleted; update them instead.", a->map);
                if (r < 0)
                        return engine_error_set_errnof(error, r, "Cannot delete from map '%s': %m", a->map);
                return 0;
        }
        return -EINVAL;
}

/* The cache listing and removal go through the helper too: the cache is its business. */
/* ---- lookups for layers above the engine (specs) ---- */

ProgramInfo *engine_program_ref(Engine *e, uint32_t id) {
        Group *g = g_hash_table_lookup(e->programs, GUINT_TO_POINTER(id));
        ProgramInfo *p = g ? group_find_program(g, id, NULL) : NULL;
        return p ? program_info_ref(p) : NULL;
}

bool engine_link_exists(Engine *e, uint32_t id) {
        return g_hash_table_contains(e->links, GUINT_TO_POINTER(id));
}
