/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine: the Engine, its load groups and indexes, libbpf's messages. */
#include <assert.h>
#include <bpf/btf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "helper-reaper.h"
#include "engine-internal.h"
#include "log.h"
#include "tc-dispatcher.h"
#include "tcx.h"

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

void libbpf_log_begin(void) {
        if (libbpf_log)
                g_string_truncate(libbpf_log, 0);
        else
                libbpf_log = g_string_new(NULL);
}

/* The last line libbpf said, for one-line error messages. */
char *libbpf_log_last_line(void) {
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

char *libbpf_log_verifier(void) {
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
        if (r->inspect_pid > 0)
                helper_kill(r->inspect_pid); /* killed and reaped by the reaper thread, never waited for here */
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
        for (size_t i = 0; p && i < n; i++)
                free(p[i].map_ids);
        free(p);
}

void group_free(Group *g) {
        if (!g)
                return;
        free(g->source);
        free(g->object_path);
        g_ptr_array_unref(g->programs);
        g_ptr_array_unref(g->links);
        free(g);
}

Group *group_new(uint32_t id, uid_t owner, const char *source) {
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
char *path_join(const char *a, const char *fmt, ...) {
        _cleanup_free_ char *b = NULL;
        char *s = NULL;
        va_list ap;

        assert(a);
        assert(fmt);

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
int mkdir_p_one(const char *p, mode_t mode) {
        assert(p);

        if (mkdir(p, mode) < 0)
                return errno == EEXIST ? 0 : -errno;
        if (chmod(p, mode) < 0)
                return -errno;
        return 0;
}

int engine_new(const char *runtime_dir, Engine **ret) {
        Engine *e = calloc(1, sizeof(Engine));

        assert(runtime_dir);
        assert(ret);

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
        assert(e);

        return e->fs_dir;
}

EngineChanges *engine_take_changes(Engine *e) {
        return TAKE_PTR(e->changes);
}

void engine_probe(Engine *e, bool supported[_KIND_MAX]) {
        assert(e);
        assert(supported);

        kind_probe_kernel(e->supported);
        e->supported[KIND_TC] = e->supported[KIND_TC] && tc_dispatcher_supported();
        /* Without TCX the same chain is made of cls_bpf filters: a program returning TCX_NEXT (TC_ACT_UNSPEC)
         * lets the next filter run there too. */
        e->tcx_native = tcx_supported();
        e->supported[KIND_TCX] = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL) > 0;
        memcpy(supported, e->supported, sizeof e->supported);
}

/* Every link bpfd manages, each once (e->links maps each link to its group, so walk the groups). */
GPtrArray *engine_all_links(Engine *e) {
        GPtrArray *all = g_ptr_array_new();
        GHashTableIter it;
        gpointer v;

        assert(e);

        g_hash_table_iter_init(&it, e->groups);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                Group *g = v;
                for (guint k = 0; k < g->links->len; k++)
                        g_ptr_array_add(all, g_ptr_array_index(g->links, k));
        }
        return all;
}

/* Our own privileges, for namespaces the caller named when attaching. */
const Caller daemon_caller = { .pidfd = -1 }; /* root, in bpfd's own namespaces */

void map_borrowers_add(Engine *e, uint32_t gid, int delta) {
        gpointer key = GUINT_TO_POINTER(gid);
        int n = GPOINTER_TO_INT(g_hash_table_lookup(e->map_borrowers, key)) + delta;

        assert(e);
        assert(gid > 0);

        if (n > 0)
                g_hash_table_replace(e->map_borrowers, key, GINT_TO_POINTER(n));
        else
                g_hash_table_remove(e->map_borrowers, key);
}

void engine_index_group(Engine *e, Group *g) {
        assert(e);
        assert(g);
        assert(g->programs->len > 0);

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

ProgramInfo *group_find_program(Group *g, uint32_t id, guint *ret_index) {
        assert(g);

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

int engine_snapshot(Engine *e, ProgramInfo ***ret_programs, size_t *ret_n_programs, LinkInfo ***ret_links,
                    size_t *ret_n_links) {
        GHashTableIter it;
        gpointer v;
        size_t np = 0, nl = 0;
        ProgramInfo **ps = calloc(g_hash_table_size(e->programs) + 1, sizeof(ProgramInfo *));
        LinkInfo **ls = calloc(g_hash_table_size(e->links) + 1, sizeof(LinkInfo *));

        assert(e);
        assert(ret_programs);
        assert(ret_n_programs);
        assert(ret_links);
        assert(ret_n_links);

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

LinkInfo *engine_find_link(Engine *e, uint32_t id) {
        Group *g = g_hash_table_lookup(e->links, GUINT_TO_POINTER(id));
        assert(e);

        for (guint k = 0; g && k < g->links->len; k++)
                if (((LinkInfo *) g_ptr_array_index(g->links, k))->id == id)
                        return g_ptr_array_index(g->links, k);
        return NULL;
}

/* The cache listing and removal go through the helper too: the cache is its business. */

ProgramInfo *engine_program_ref(Engine *e, uint32_t id) {
        Group *g = g_hash_table_lookup(e->programs, GUINT_TO_POINTER(id));
        ProgramInfo *p = g ? group_find_program(g, id, NULL) : NULL;
        assert(e);

        return p ? program_info_ref(p) : NULL;
}

bool engine_link_exists(Engine *e, uint32_t id) {
        assert(e);

        return g_hash_table_contains(e->links, GUINT_TO_POINTER(id));
}
