/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>

#include "bus-paths.h"
#include "log.h"
#include "view.h"
#include "engine-interfaces.h"

/* ---- the signals that only say "this changed": sent together in the loop's next turn ---- */

static int on_deferred(sd_event_source *s, void *userdata) {
        Manager *m = userdata;
        GHashTableIter it;
        gpointer k;

        if (m->counts_dirty)
                (void) sd_bus_emit_properties_changed(m->bus, MANAGER_PATH, "org.bpfd.Manager", "ProgramCount",
                                                      "LinkCount", NULL);
        m->counts_dirty = false;
        g_hash_table_iter_init(&it, m->links_dirty);
        while (g_hash_table_iter_next(&it, &k, NULL)) {
                _cleanup_free_ char *path = program_object_path(GPOINTER_TO_UINT(k));
                /* A program that went meanwhile said so with InterfacesRemoved. */
                if (path && g_hash_table_contains(m->programs, k))
                        (void) sd_bus_emit_properties_changed(m->bus, path, "org.bpfd.Program", "Links",
                                                              "AttachPoints", NULL);
        }
        g_hash_table_remove_all(m->links_dirty);
        return 0;
}

static void deferred_arm(Manager *m) {
        if (!m->deferred_source) {
                if (sd_event_add_defer(m->event, &m->deferred_source, on_deferred, m) < 0)
                        return;
                /* The bus's own priority: after what is already pending (the replies), never starved by a
                 * busy bus. */
                (void) sd_event_source_set_priority(m->deferred_source, SD_EVENT_PRIORITY_NORMAL);
        }
        (void) sd_event_source_set_enabled(m->deferred_source, SD_EVENT_ONESHOT);
}

static void counts_changed(Manager *m) {
        if (!m->view_announcing)
                return;
        m->counts_dirty = true;
        deferred_arm(m);
}

static void program_links_changed(Manager *m, uint32_t program_id) {
        if (!m->view_announcing)
                return;
        g_hash_table_add(m->links_dirty, GUINT_TO_POINTER(program_id));
        deferred_arm(m);
}

static void object_added(Manager *m, char *path) {
        _cleanup_free_ char *p = path;

        if (p && m->view_announcing)
                (void) sd_bus_emit_object_added(m->bus, p);
}

/* InterfacesRemoved is built from the object as it still is: call before it goes. */
static void object_removed(Manager *m, char *path) {
        _cleanup_free_ char *p = path;

        if (p && m->view_announcing)
                (void) sd_bus_emit_object_removed(m->bus, p);
}

/* ---- programs and links, from the engine's changes ---- */

static void put_program(Manager *m, ProgramInfo *p) {
        ProgramInfo *old = g_hash_table_lookup(m->programs, GUINT_TO_POINTER(p->id));

        if (old)
                view_index_remove_program(&m->index, old);
        g_hash_table_replace(m->programs, GUINT_TO_POINTER(p->id), program_info_ref(p));
        view_index_add_program(&m->index, p);
        if (!old)
                object_added(m, program_object_path(p->id));
}

static void remove_program(Manager *m, uint32_t id) {
        ProgramInfo *p = g_hash_table_lookup(m->programs, GUINT_TO_POINTER(id));

        if (!p)
                return;
        /* The engine removes a program's links before the program. */
        assert(!view_index_links_of(&m->index, id));
        object_removed(m, program_object_path(id));
        view_index_remove_program(&m->index, p);
        g_hash_table_remove(m->programs, GUINT_TO_POINTER(id));
}

static void put_link(Manager *m, LinkInfo *l, GHashTable *born) {
        LinkInfo *old = g_hash_table_lookup(m->links, GUINT_TO_POINTER(l->id));

        /* A link belongs to a program the engine has noted before it. */
        assert(g_hash_table_contains(m->programs, GUINT_TO_POINTER(l->program_id)));
        if (old)
                view_index_remove_link(&m->index, old);
        g_hash_table_replace(m->links, GUINT_TO_POINTER(l->id), link_info_ref(l));
        view_index_add_link(&m->index, l);
        if (!old)
                object_added(m, link_object_path(l->id));
        /* A program that came with the link says so with InterfacesAdded, Links and all. */
        if (!g_hash_table_contains(born, GUINT_TO_POINTER(l->program_id)))
                program_links_changed(m, l->program_id);
}

static void remove_link(Manager *m, uint32_t id) {
        LinkInfo *l = g_hash_table_lookup(m->links, GUINT_TO_POINTER(id));
        uint32_t program_id;

        if (!l)
                return;
        program_id = l->program_id;
        object_removed(m, link_object_path(id));
        view_index_remove_link(&m->index, l);
        g_hash_table_remove(m->links, GUINT_TO_POINTER(id));
        /* Not signalled if the program goes too (on_deferred() looks). */
        program_links_changed(m, program_id);
}

void view_apply_changes(EngineChanges *changes, void *userdata) {
        g_autoptr(GHashTable) born = g_hash_table_new(NULL, NULL);
        Manager *m = userdata;

        assert(m);
        if (!changes)
                return;
        for (guint i = 0; i < changes->len; i++) {
                const EngineChange *c = &g_array_index(changes, EngineChange, i);
                switch (c->type) {
                case ENGINE_PROGRAM_ADDED:
                        assert(c->program && c->program->id == c->id);
                        put_program(m, c->program);
                        g_hash_table_add(born, GUINT_TO_POINTER(c->id));
                        break;
                case ENGINE_PROGRAM_REMOVED:
                        remove_program(m, c->id);
                        break;
                case ENGINE_LINK_ADDED:
                        assert(c->link && c->link->id == c->id);
                        put_link(m, c->link, born);
                        break;
                case ENGINE_LINK_REMOVED:
                        remove_link(m, c->id);
                        break;
                }
        }
        if (changes->len > 0)
                counts_changed(m);
        engine_changes_free(changes);
}

void view_start_announcing(Manager *m) {
        m->view_announcing = true;
}

ProgramInfo *view_program(Manager *m, uint32_t id) {
        return g_hash_table_lookup(m->programs, GUINT_TO_POINTER(id));
}

LinkInfo *view_link(Manager *m, uint32_t id) {
        return g_hash_table_lookup(m->links, GUINT_TO_POINTER(id));
}

GPtrArray *view_links_of(Manager *m, uint32_t program_id) {
        return view_index_links_of(&m->index, program_id);
}

GArray *view_map_users(Manager *m, uint32_t map_group) {
        return view_index_map_users(&m->index, map_group);
}

/* ---- interfaces, from the worker's scans ---- */

static char *interface_key_string(uint64_t netns_ino, uint32_t ifindex) {
        return g_strdup_printf("%" PRIu64 ":%" PRIu32, netns_ino, ifindex);
}

static InterfaceInfo *interface_by_key(Manager *m, uint64_t netns_ino, uint32_t ifindex) {
        g_autofree gchar *k = interface_key_string(netns_ino, ifindex);
        return g_hash_table_lookup(m->interfaces_by_key, k);
}

InterfaceInfo *view_interface(Manager *m, const char *object_name) {
        return g_hash_table_lookup(m->interfaces, object_name);
}

static void put_interface(Manager *m, InterfaceInfo *i) {
        g_hash_table_replace(m->interfaces_by_key, interface_key_string(i->netns_ino, i->ifindex), i);
        g_hash_table_replace(m->interfaces, i->object_name, i);
}

/* Drops the object (with InterfacesRemoved) of this name. */
static void remove_interface(Manager *m, const char *object_name) {
        InterfaceInfo *i = g_hash_table_lookup(m->interfaces, object_name);
        g_autofree gchar *k = NULL;

        if (!i)
                return;
        object_removed(m, interface_object_path(i->object_name));
        k = interface_key_string(i->netns_ino, i->ifindex);
        if (g_hash_table_lookup(m->interfaces_by_key, k) == i)
                g_hash_table_remove(m->interfaces_by_key, k);
        g_hash_table_remove(m->interfaces, object_name); /* frees i */
}

/* One interface as the worker saw it now: a changed object signals its chains, a new one (or a renamed or
 * reused index) is added. */
static void update_interface(Manager *m, InterfaceInfo *now) {
        InterfaceInfo *before = interface_by_key(m, now->netns_ino, now->ifindex);
        InterfaceInfo *same_name = g_hash_table_lookup(m->interfaces, now->object_name);

        if (before && before == same_name) {
                bool changed = !interface_info_chains_equal(before, now);
                put_interface(m, now);
                if (changed && m->view_announcing) {
                        _cleanup_free_ char *path = interface_object_path(now->object_name);
                        if (path)
                                (void) sd_bus_emit_properties_changed(m->bus, path, "org.bpfd.Interface", "XdpMode",
                                                                      "XdpPrograms", "TcIngress", "TcEgress", NULL);
                }
                return;
        }
        if (before)
                remove_interface(m, before->object_name);
        if (same_name && same_name != before)
                remove_interface(m, same_name->object_name);
        put_interface(m, now);
        object_added(m, interface_object_path(now->object_name));
}

void view_apply_interfaces(Manager *m, InterfaceInfo **found, size_t n_found, bool full, const InterfaceKey *vanished,
                           size_t n_vanished) {
        assert(m);
        assert(found || n_found == 0);
        assert(vanished || n_vanished == 0);

        for (size_t i = 0; i < n_found; i++)
                update_interface(m, found[i]);
        if (full) {
                g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
                g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(free);
                GHashTableIter it;
                gpointer k;

                for (size_t i = 0; i < n_found; i++)
                        g_hash_table_add(seen, found[i]->object_name);
                g_hash_table_iter_init(&it, m->interfaces);
                while (g_hash_table_iter_next(&it, &k, NULL))
                        if (!g_hash_table_contains(seen, k))
                                g_ptr_array_add(gone, strdup(k));
                for (guint i = 0; i < gone->len; i++)
                        remove_interface(m, g_ptr_array_index(gone, i));
        }
        for (size_t i = 0; i < n_vanished; i++) {
                InterfaceInfo *before = interface_by_key(m, vanished[i].netns_ino, vanished[i].ifindex);
                if (before)
                        remove_interface(m, before->object_name);
        }
}

/* ---- set-up ---- */

void view_init(Manager *m) {
        m->programs = g_hash_table_new_full(NULL, NULL, NULL, program_info_destroy);
        m->links = g_hash_table_new_full(NULL, NULL, NULL, link_info_destroy);
        view_index_init(&m->index);
        m->links_dirty = g_hash_table_new(NULL, NULL);
        m->interfaces = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, interface_info_destroy);
        m->interfaces_by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

void view_done(Manager *m) {
        m->deferred_source = sd_event_source_disable_unref(m->deferred_source);
        /* Links hold no references of the index; drop the index first, then what it pointed to. */
        view_index_done(&m->index);
        if (m->links)
                g_hash_table_unref(m->links);
        if (m->programs)
                g_hash_table_unref(m->programs);
        if (m->links_dirty)
                g_hash_table_unref(m->links_dirty);
        if (m->interfaces_by_key)
                g_hash_table_unref(m->interfaces_by_key);
        if (m->interfaces)
                g_hash_table_unref(m->interfaces);
        m->programs = m->links = m->links_dirty = m->interfaces_by_key = m->interfaces = NULL;
}
