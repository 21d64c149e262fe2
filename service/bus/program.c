/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <bpf/bpf.h>
#include <inttypes.h>
#include <stdio.h>

#include "bus-util.h"
#include "config.h"
#include "errors.h"
#include "log.h"
#include "manager.h"
#include "stats.h"

char *program_object_path(uint32_t id) {
        char *s = NULL;
        return asprintf(&s, PROGRAM_PATH_PREFIX "/%" PRIu32, id) < 0 ? NULL : s;
}

char *link_object_path(uint32_t id) {
        char *s = NULL;
        return asprintf(&s, LINK_PATH_PREFIX "/%" PRIu32, id) < 0 ? NULL : s;
}

static int id_from_path(const char *path, const char *prefix, uint32_t *ret) {
        size_t n = strlen(prefix);
        char *end;
        unsigned long v;

        if (strncmp(path, prefix, n) != 0 || path[n] != '/' || !path[n + 1])
                return 0;
        errno = 0;
        v = strtoul(path + n + 1, &end, 10);
        if (errno || *end || v == 0 || v > UINT32_MAX || path[n + 1] == '0')
                return 0;
        *ret = (uint32_t) v;
        return 1;
}

/* ---- the view and its signals ---- */

void manager_view_put_program(Manager *m, ProgramInfo *p) {
        ProgramInfo *old = g_hash_table_lookup(m->programs, GUINT_TO_POINTER(p->id));

        if (old)
                view_index_remove_program(&m->index, old);
        g_hash_table_replace(m->programs, GUINT_TO_POINTER(p->id), program_info_ref(p));
        view_index_add_program(&m->index, p);
}

void manager_view_put_link(Manager *m, LinkInfo *l) {
        LinkInfo *old = g_hash_table_lookup(m->links, GUINT_TO_POINTER(l->id));

        if (old)
                view_index_remove_link(&m->index, old);
        g_hash_table_replace(m->links, GUINT_TO_POINTER(l->id), link_info_ref(l));
        view_index_add_link(&m->index, l);
}

void manager_view_add_program(Manager *m, ProgramInfo *p) {
        _cleanup_free_ char *path = program_object_path(p->id);

        manager_view_put_program(m, p);
        if (path)
                (void) sd_bus_emit_object_added(m->bus, path);
}

void manager_view_add_link(Manager *m, LinkInfo *l, bool program_changed) {
        _cleanup_free_ char *path = link_object_path(l->id);

        manager_view_put_link(m, l);
        if (path)
                (void) sd_bus_emit_object_added(m->bus, path);
        if (program_changed)
                manager_emit_program_links_changed(m, l->program_id);
}

void manager_view_remove_link(Manager *m, uint32_t id, bool program_changed) {
        _cleanup_free_ char *path = link_object_path(id);
        LinkInfo *l = g_hash_table_lookup(m->links, GUINT_TO_POINTER(id));
        uint32_t program_id;

        if (!l)
                return;
        program_id = l->program_id;
        /* InterfacesRemoved is built from the object as it still is. */
        if (path)
                (void) sd_bus_emit_object_removed(m->bus, path);
        view_index_remove_link(&m->index, l);
        g_hash_table_remove(m->links, GUINT_TO_POINTER(id));
        if (program_changed)
                manager_emit_program_links_changed(m, program_id);
}

void manager_view_remove_program(Manager *m, uint32_t id) {
        _cleanup_free_ char *path = program_object_path(id);
        ProgramInfo *p = g_hash_table_lookup(m->programs, GUINT_TO_POINTER(id));

        if (!p)
                return;
        if (path)
                (void) sd_bus_emit_object_removed(m->bus, path);
        view_index_remove_program(&m->index, p);
        g_hash_table_remove(m->programs, GUINT_TO_POINTER(id));
}

/* ---- property appenders, shared by the getters and the dictionaries ---- */

/* The program's links in id order, from the index: what the program has, whatever else is loaded. */
static int append_links(sd_bus_message *reply, Manager *m, uint32_t program_id, bool as_paths) {
        GPtrArray *links = view_index_links_of(&m->index, program_id);
        int r;

        r = sd_bus_message_open_container(reply, 'a', as_paths ? "o" : "s");
        if (r < 0)
                return r;
        for (guint i = 0; links && i < links->len; i++) {
                LinkInfo *l = g_ptr_array_index(links, i);
                if (as_paths) {
                        _cleanup_free_ char *path = link_object_path(l->id);
                        r = path ? sd_bus_message_append_basic(reply, 'o', path) : -ENOMEM;
                } else
                        r = sd_bus_message_append_basic(reply, 's', l->attach_point);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int append_map_ids(sd_bus_message *reply, const ProgramInfo *p) {
        int r = sd_bus_message_open_container(reply, 'a', "u");
        for (size_t i = 0; r >= 0 && i < p->n_maps; i++)
                r = sd_bus_message_append_basic(reply, 'u', &p->maps[i].id);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int append_maps(sd_bus_message *reply, const ProgramInfo *p) {
        int r = sd_bus_message_open_container(reply, 'a', "(uss)");
        for (size_t i = 0; r >= 0 && i < p->n_maps; i++)
                r = sd_bus_message_append(reply, "(uss)", p->maps[i].id, p->maps[i].name, p->maps[i].pin_path);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int append_metadata(sd_bus_message *reply, const ProgramInfo *p) {
        int r = sd_bus_message_open_container(reply, 'a', "{ss}");
        for (char **i = p->metadata; r >= 0 && i && i[0] && i[1]; i += 2)
                r = sd_bus_message_append(reply, "{ss}", i[0], i[1]);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int append_globals(sd_bus_message *reply, const ProgramInfo *p) {
        int r = sd_bus_message_open_container(reply, 'a', "{say}");
        for (size_t i = 0; r >= 0 && i < p->n_globals; i++) {
                r = sd_bus_message_open_container(reply, 'e', "say");
                if (r >= 0)
                        r = sd_bus_message_append_basic(reply, 's', p->globals[i].name);
                if (r >= 0)
                        r = sd_bus_message_append_array(reply, 'y', p->globals[i].data, p->globals[i].size);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static void program_stats(const ProgramInfo *p, uint64_t *cnt, uint64_t *ns) {
        struct bpf_prog_info info = {};
        uint32_t len = sizeof info;

        *cnt = *ns = 0;
        /* Querying an fd we hold needs no capability (kernels >= 6.5 check unprivileged use at load only). */
        if (bpf_obj_get_info_by_fd(p->fd, &info, &len) == 0) {
                *cnt = info.run_cnt;
                *ns = info.run_time_ns;
        }
}

static uint32_t map_group_of(const ProgramInfo *p) {
        return program_map_group(p);
}

static int append_map_used_by(sd_bus_message *reply, Manager *m, const ProgramInfo *p) {
        GArray *ids = view_index_map_users(&m->index, map_group_of(p));

        return sd_bus_message_append_array(reply, 'u', ids ? ids->data : NULL, ids ? ids->len * sizeof(uint32_t) : 0);
}

/* ---- dictionaries ---- */

#define DICT(key, sig, ...)                                                                                       \
        do {                                                                                                    \
                r = bus_append_dict_entry(reply, key, sig, __VA_ARGS__);                                       \
                if (r < 0)                                                                                      \
                        return r;                                                                               \
        } while (0)

#define DICT_WITH(key, sig, appender)                                                                             \
        do {                                                                                                    \
                r = sd_bus_message_open_container(reply, 'e', "sv");                                           \
                if (r >= 0)                                                                                     \
                        r = sd_bus_message_append_basic(reply, 's', key);                                       \
                if (r >= 0)                                                                                     \
                        r = sd_bus_message_open_container(reply, 'v', sig);                                     \
                if (r >= 0)                                                                                     \
                        r = (appender);                                                                         \
                if (r >= 0)                                                                                     \
                        r = sd_bus_message_close_container(reply);                                              \
                if (r >= 0)                                                                                     \
                        r = sd_bus_message_close_container(reply);                                              \
                if (r < 0)                                                                                      \
                        return r;                                                                               \
        } while (0)

int append_program_dict(sd_bus_message *reply, Manager *m, const ProgramInfo *p) {
        _cleanup_free_ char *path = program_object_path(p->id);
        uint64_t cnt, ns;
        int r;

        if (!path)
                return -ENOMEM;
        program_stats(p, &cnt, &ns);
        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        DICT("id", "u", p->id);
        DICT("name", "s", p->name);
        DICT("kind", "s", kind_to_string(p->kind));
        DICT("kernel_type", "s", p->kernel_type);
        DICT("section", "s", p->section);
        DICT("tag", "s", p->tag);
        DICT("owner_uid", "u", (uint32_t) p->owner_uid);
        DICT("load_time", "t", p->load_time_usec);
        DICT("source", "s", p->source);
        DICT("load_group", "u", p->load_group);
        DICT("pin_path", "s", p->pin_path);
        DICT_WITH("links", "ao", append_links(reply, m, p->id, true));
        DICT_WITH("attach_points", "as", append_links(reply, m, p->id, false));
        DICT_WITH("map_ids", "au", append_map_ids(reply, p));
        DICT_WITH("maps", "a(uss)", append_maps(reply, p));
        DICT_WITH("metadata", "a{ss}", append_metadata(reply, p));
        DICT("image_reference", "s", strempty(p->image_reference));
        DICT("image_digest", "s", strempty(p->image_digest));
        DICT("map_group", "u", map_group_of(p));
        DICT_WITH("map_used_by", "au", append_map_used_by(reply, m, p));
        DICT_WITH("global_data", "a{say}", append_globals(reply, p));
        DICT("run_count", "t", cnt);
        DICT("run_time_ns", "t", ns);
        DICT("managed", "b", 1);
        DICT("object_path", "o", path);
        return sd_bus_message_close_container(reply);
}

int append_kernel_program_dict(sd_bus_message *reply, const KernelProgram *k) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        DICT("id", "u", k->id);
        DICT("name", "s", k->name);
        DICT("kind", "s", strempty(kind_to_string(k->kind)));
        DICT("kernel_type", "s", k->kernel_type);
        DICT("tag", "s", k->tag);
        DICT("load_time", "t", k->load_time_usec);
        DICT_WITH("map_ids", "au", sd_bus_message_append_array(reply, 'u', k->map_ids, k->n_map_ids * sizeof(uint32_t)));
        DICT("run_count", "t", k->run_count);
        DICT("run_time_ns", "t", k->run_time_ns);
        DICT("managed", "b", 0);
        return sd_bus_message_close_container(reply);
}

int append_component_program_dict(sd_bus_message *reply, const KernelProgram *k, const LinkInfo *l) {
        _cleanup_free_ char *prog = program_object_path(l->program_id), *link = link_object_path(l->id);
        int r;

        if (!prog || !link)
                return -ENOMEM;
        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        DICT("id", "u", k->id);
        DICT("name", "s", k->name);
        DICT("kind", "s", strempty(kind_to_string(k->kind)));
        DICT("kernel_type", "s", k->kernel_type);
        DICT("tag", "s", k->tag);
        DICT("load_time", "t", k->load_time_usec);
        DICT_WITH("map_ids", "au", sd_bus_message_append_array(reply, 'u', k->map_ids, k->n_map_ids * sizeof(uint32_t)));
        DICT("owner_uid", "u", (uint32_t) l->owner_uid);
        DICT("managed", "b", 1);
        DICT("component_of", "u", l->program_id);
        DICT("component_of_path", "o", prog);
        DICT("link", "o", link);
        return sd_bus_message_close_container(reply);
}

int append_link_dict(sd_bus_message *reply, const LinkInfo *l) {
        _cleanup_free_ char *path = link_object_path(l->id), *prog = program_object_path(l->program_id);
        int r;

        if (!path || !prog)
                return -ENOMEM;
        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        DICT("id", "u", l->id);
        DICT("program", "o", prog);
        DICT("program_id", "u", l->program_id);
        DICT("kind", "s", kind_to_string(l->target.kind));
        DICT("attach_point", "s", l->attach_point);
        DICT_WITH("target", "a{sv}", attach_target_append(reply, &l->target));
        DICT("owner_uid", "u", (uint32_t) l->owner_uid);
        DICT("attach_time", "t", l->attach_time_usec);
        DICT("pin_path", "s", l->pin_path);
        DICT("managed", "b", 1);
        DICT("object_path", "o", path);
        return sd_bus_message_close_container(reply);
}

/* ---- org.bpfd.Manager properties ---- */

int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", BPFD_VERSION);
}

int property_get_kinds(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        bool supported_only = streq(property, "SupportedKinds");
        int r = sd_bus_message_open_container(reply, 'a', "s");

        for (Kind k = 0; r >= 0 && k < _KIND_MAX; k++)
                if (!supported_only || m->supported[k])
                        r = sd_bus_message_append_basic(reply, 's', kind_to_string(k));
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

int property_get_bpffs(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", engine_bpffs_path(m->engine));
}

int property_get_stats_enabled(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "b", stats_kernel_enabled());
}

int property_get_count(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        GHashTable *t = streq(property, "ProgramCount") ? m->programs : m->links;
        return sd_bus_message_append(reply, "u", (uint32_t) g_hash_table_size(t));
}

/* ---- org.bpfd.Program ---- */

static int program_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                        sd_bus_error *error) {
        Manager *m = userdata;
        ProgramInfo *p;
        uint32_t id;

        if (!id_from_path(path, PROGRAM_PATH_PREFIX, &id))
                return 0;
        p = g_hash_table_lookup(m->programs, GUINT_TO_POINTER(id));
        if (!p)
                return 0;
        *found = p;
        return 1;
}

static int nodes_of(GHashTable *t, char *(*path_of)(uint32_t), char ***nodes) {
        GHashTableIter it;
        gpointer k;
        char **l = calloc(g_hash_table_size(t) + 1, sizeof(char *));
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        g_hash_table_iter_init(&it, t);
        while (g_hash_table_iter_next(&it, &k, NULL))
                if ((l[n] = path_of(GPOINTER_TO_UINT(k))))
                        n++;
        *nodes = l;
        return 1;
}

static int program_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        return nodes_of(((Manager *) userdata)->programs, program_object_path, nodes);
}

static int link_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        return nodes_of(((Manager *) userdata)->links, link_object_path, nodes);
}

#define PROGRAM_GETTER(fn, body)                                                                                  \
        static int fn(sd_bus *bus, const char *path, const char *interface, const char *property,             \
                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {                            \
                ProgramInfo *p = userdata;                                                                      \
                body                                                                                            \
        }

PROGRAM_GETTER(program_get_kind, return sd_bus_message_append(reply, "s", kind_to_string(p->kind));)
PROGRAM_GETTER(program_get_map_ids, return append_map_ids(reply, p);)
PROGRAM_GETTER(program_get_maps, return append_maps(reply, p);)
PROGRAM_GETTER(program_get_metadata, return append_metadata(reply, p);)
PROGRAM_GETTER(program_get_globals, return append_globals(reply, p);)
static int program_get_stats(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        uint64_t cnt, ns;
        program_stats(userdata, &cnt, &ns);
        return sd_bus_message_append(reply, "t", streq(property, "RunCount") ? cnt : ns);
}

/* Links and AttachPoints need the manager, which the fallback userdata is not; find it through the bus. */
static Manager *manager_of_bus(sd_bus *bus);

static int program_get_links(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        ProgramInfo *p = userdata;
        return append_links(reply, manager_of_bus(bus), p->id, streq(property, "Links"));
}

static int program_get_map_group(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "u", map_group_of(userdata));
}

static int program_get_map_used_by(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return append_map_used_by(reply, manager_of_bus(bus), userdata);
}

static int program_method_unload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ProgramInfo *p = userdata;
        return request_unload(manager_of_bus(sd_bus_message_get_bus(msg)), msg, p->id, error);
}

static int program_method_attach(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ProgramInfo *p = userdata;
        return request_attach(manager_of_bus(sd_bus_message_get_bus(msg)), msg, p->id, error);
}

#define MAP_METHOD(fn, op)                                                                                        \
        static int fn(sd_bus_message *msg, void *userdata, sd_bus_error *error) {                              \
                ProgramInfo *p = userdata;                                                                      \
                return request_map_access(manager_of_bus(sd_bus_message_get_bus(msg)), msg, p->id, (op), error); \
        }
MAP_METHOD(program_method_map_info, MAP_OP_INFO)
MAP_METHOD(program_method_map_lookup, MAP_OP_LOOKUP)
MAP_METHOD(program_method_map_dump, MAP_OP_DUMP)
MAP_METHOD(program_method_map_update, MAP_OP_UPDATE)
MAP_METHOD(program_method_map_delete, MAP_OP_DELETE)
MAP_METHOD(program_method_map_open_ring_buffer, MAP_OP_RINGBUF)

const sd_bus_vtable program_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Unload", "", "", program_method_unload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Attach", "a{sv}", SD_BUS_PARAM(target), "o", SD_BUS_PARAM(link),
                                 program_method_attach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MapInfo", SD_BUS_ARGS("s", map), SD_BUS_RESULT("a{sv}", info), program_method_map_info,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MapLookup", SD_BUS_ARGS("s", map, "ay", key), SD_BUS_RESULT("ay", value),
                                program_method_map_lookup, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MapDump", SD_BUS_ARGS("s", map), SD_BUS_RESULT("a(ayay)", entries),
                                program_method_map_dump, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MapUpdate", SD_BUS_ARGS("s", map, "ay", key, "ay", value, "t", flags), SD_BUS_NO_RESULT,
                                program_method_map_update, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MapDelete", SD_BUS_ARGS("s", map, "ay", key), SD_BUS_NO_RESULT,
                                program_method_map_delete, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MapOpenRingBuffer", SD_BUS_ARGS("s", map), SD_BUS_RESULT("h", ring_buffer),
                                program_method_map_open_ring_buffer, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("Id", "u", NULL, offsetof(ProgramInfo, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(ProgramInfo, name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Kind", "s", program_get_kind, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("KernelType", "s", NULL, offsetof(ProgramInfo, kernel_type), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Section", "s", NULL, offsetof(ProgramInfo, section), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Tag", "s", NULL, offsetof(ProgramInfo, tag), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("OwnerUid", "u", NULL, offsetof(ProgramInfo, owner_uid), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LoadTime", "t", NULL, offsetof(ProgramInfo, load_time_usec), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Source", "s", NULL, offsetof(ProgramInfo, source), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LoadGroup", "u", NULL, offsetof(ProgramInfo, load_group), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PinPath", "s", NULL, offsetof(ProgramInfo, pin_path), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Links", "ao", program_get_links, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("AttachPoints", "as", program_get_links, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("MapIds", "au", program_get_map_ids, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Maps", "a(uss)", program_get_maps, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Metadata", "a{ss}", program_get_metadata, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ImageReference", "s", NULL, offsetof(ProgramInfo, image_reference), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ImageDigest", "s", NULL, offsetof(ProgramInfo, image_digest), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MapGroup", "u", program_get_map_group, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MapUsedBy", "au", program_get_map_used_by, 0, 0),
        SD_BUS_PROPERTY("GlobalData", "a{say}", program_get_globals, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RunCount", "t", program_get_stats, 0, 0),
        SD_BUS_PROPERTY("RunTimeNs", "t", program_get_stats, 0, 0),
        SD_BUS_VTABLE_END
};

/* ---- org.bpfd.Link ---- */

static int link_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                     sd_bus_error *error) {
        Manager *m = userdata;
        LinkInfo *l;
        uint32_t id;

        if (!id_from_path(path, LINK_PATH_PREFIX, &id))
                return 0;
        l = g_hash_table_lookup(m->links, GUINT_TO_POINTER(id));
        if (!l)
                return 0;
        *found = l;
        return 1;
}

static int link_get_program(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        LinkInfo *l = userdata;
        _cleanup_free_ char *p = program_object_path(l->program_id);
        return p ? sd_bus_message_append(reply, "o", p) : -ENOMEM;
}

static int link_get_kind(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        LinkInfo *l = userdata;
        return sd_bus_message_append(reply, "s", kind_to_string(l->target.kind));
}

static int link_get_target(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        LinkInfo *l = userdata;
        return attach_target_append(reply, &l->target);
}

static int link_method_detach(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        LinkInfo *l = userdata;
        return request_detach(manager_of_bus(sd_bus_message_get_bus(msg)), msg, l->id, error);
}

const sd_bus_vtable link_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Detach", "", "", link_method_detach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("Id", "u", NULL, offsetof(LinkInfo, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Program", "o", link_get_program, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ProgramId", "u", NULL, offsetof(LinkInfo, program_id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Kind", "s", link_get_kind, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AttachPoint", "s", NULL, offsetof(LinkInfo, attach_point), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Target", "a{sv}", link_get_target, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("OwnerUid", "u", NULL, offsetof(LinkInfo, owner_uid), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AttachTime", "t", NULL, offsetof(LinkInfo, attach_time_usec), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PinPath", "s", NULL, offsetof(LinkInfo, pin_path), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END
};

/* ---- registration ---- */

static Manager *the_manager;

static Manager *manager_of_bus(sd_bus *bus) {
        return the_manager;
}

int manager_add_bus_objects(Manager *m) {
        int r;

        the_manager = m;
        r = sd_bus_add_object_vtable(m->bus, NULL, MANAGER_PATH, "org.bpfd.Manager",
                                     stats_wrap_vtable("org.bpfd.Manager", manager_vtable), m);
        if (r < 0)
                return log_error_errno(r, "Cannot register the manager object: %m");
        r = sd_bus_add_fallback_vtable(m->bus, NULL, PROGRAM_PATH_PREFIX, "org.bpfd.Program",
                                       stats_wrap_vtable("org.bpfd.Program", program_vtable),
                                       program_find, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register program objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, NULL, PROGRAM_PATH_PREFIX, program_enumerate, m);
        if (r < 0)
                return r;
        r = sd_bus_add_fallback_vtable(m->bus, NULL, LINK_PATH_PREFIX, "org.bpfd.Link",
                                       stats_wrap_vtable("org.bpfd.Link", link_vtable), link_find, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register link objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, NULL, LINK_PATH_PREFIX, link_enumerate, m);
        if (r < 0)
                return r;
        r = manager_add_interface_objects(m);
        if (r < 0)
                return log_error_errno(r, "Cannot register interface objects: %m");
        r = sd_bus_add_object_manager(m->bus, NULL, MANAGER_PATH);
        if (r < 0)
                return log_error_errno(r, "Cannot add the object manager: %m");
        r = manager_add_signature_filter(m);
        if (r < 0)
                return log_error_errno(r, "Cannot add the signature filter: %m");
        return 0;
}

/* sd-bus answers a call with the wrong argument types with org.freedesktop.DBus.Error.InvalidArgs before our
 * handlers run; we promise org.bpfd.Error.InvalidArgument for every bad input, so check signatures first. */
static const char *expected_signature(const char *interface, const char *member) {
        static const struct {
                const char *interface;
                const sd_bus_vtable *vtable;
        } tables[] = {
                { "org.bpfd.Manager", manager_vtable },
                { "org.bpfd.Program", program_vtable },
                { "org.bpfd.Link", link_vtable },
                { "org.bpfd.Interface", interface_vtable },
        };

        for (size_t i = 0; i < ELEMENTSOF(tables); i++) {
                if (!streq(tables[i].interface, interface))
                        continue;
                for (const sd_bus_vtable *v = tables[i].vtable; v->type != _SD_BUS_VTABLE_END; v++)
                        if (v->type == _SD_BUS_VTABLE_METHOD && streq(v->x.method.member, member))
                                return strempty(v->x.method.signature);
        }
        return NULL;
}

static int signature_filter(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        const char *interface = sd_bus_message_get_interface(msg), *member = sd_bus_message_get_member(msg);
        const char *expected, *got;
        uint8_t type = 0;

        (void) sd_bus_message_get_type(msg, &type);
        if (type != SD_BUS_MESSAGE_METHOD_CALL || !interface || !member ||
            strncmp(interface, "org.bpfd.", 9) != 0)
                return 0;
        expected = expected_signature(interface, member);
        got = sd_bus_message_get_signature(msg, true);
        if (!expected || streq(expected, strempty(got)))
                return 0;
        (void) sd_bus_reply_method_errorf(msg, BPFD_ERROR_INVALID_ARGUMENT,
                                          "%s.%s takes arguments of type '%s', not '%s'.", interface, member, expected,
                                          strempty(got));
        return 1;
}

int manager_add_signature_filter(Manager *m) {
        return sd_bus_add_filter(m->bus, NULL, signature_filter, m);
}
