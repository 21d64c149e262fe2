/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.bpfd.Interface: one object per network interface with the programs on its hooks, and ListInterfaces.
 * The objects follow the bus view (view.h), which interface-watch.c keeps current. */
#include <assert.h>

#include "dict-macros.h"
#include "bus-paths.h"
#include "interface.h"
#include "interface-watch.h"
#include "view.h"

static int append_chain(sd_bus_message *reply, const Chain *c) {
        int r = sd_bus_message_open_container(reply, 'a', "(usbuuo)");

        for (size_t i = 0; r >= 0 && i < c->n; i++) {
                const ChainEntry *e = &c->entries[i];
                _cleanup_free_ char *path = e->managed ? link_object_path(e->link_id) : strdup("/");
                r = path ? sd_bus_message_append(reply, "(usbuuo)", e->prog_id, e->name, e->managed, e->priority,
                                                 e->link_id, path)
                         : -ENOMEM;
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int interface_get_chain(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        InterfaceInfo *i = userdata;
        return append_chain(reply, streq(property, "XdpPrograms") ? &i->xdp
                                   : streq(property, "TcIngress") ? &i->ingress
                                                                  : &i->egress);
}

static int interface_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                          sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *name = NULL;
        InterfaceInfo *i;

        if (sd_bus_path_decode(path, INTERFACE_PATH_PREFIX, &name) <= 0)
                return 0;
        i = view_interface(m, name);
        if (!i)
                return 0;
        assert(streq(i->object_name, name)); /* the view is keyed by object name */
        *found = i;
        return 1;
}

static int interface_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;
        GHashTableIter it;
        gpointer k;
        char **l = calloc(g_hash_table_size(m->interfaces) + 1, sizeof(char *));
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        g_hash_table_iter_init(&it, m->interfaces);
        while (g_hash_table_iter_next(&it, &k, NULL))
                if ((l[n] = interface_object_path(k)))
                        n++;
        *nodes = l;
        return 1;
}

const sd_bus_vtable interface_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(InterfaceInfo, name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Ifindex", "u", NULL, offsetof(InterfaceInfo, ifindex), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Netns", "s", NULL, offsetof(InterfaceInfo, netns), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("NetnsInode", "t", NULL, offsetof(InterfaceInfo, netns_ino), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("XdpMode", "s", NULL, offsetof(InterfaceInfo, xdp_mode), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("XdpPrograms", "a(usbuuo)", interface_get_chain, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("TcIngress", "a(usbuuo)", interface_get_chain, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("TcEgress", "a(usbuuo)", interface_get_chain, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END
};

int interface_objects_add(Manager *m) {
        int r = sd_bus_add_fallback_vtable(m->bus, NULL, INTERFACE_PATH_PREFIX, "org.bpfd.Interface", interface_vtable,
                                           interface_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, INTERFACE_PATH_PREFIX, interface_enumerate, m);
}

static int append_chain_entry(sd_bus_message *reply, const char *key, const Chain *c) {
        int r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append_basic(reply, 's', key);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "a(usbuuo)");
        if (r >= 0)
                r = append_chain(reply, c);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int append_interface_dict(sd_bus_message *reply, const void *value) {
        const InterfaceInfo *i = value;
        _cleanup_free_ char *path = interface_object_path(i->object_name);
        int r;

        if (!path)
                return -ENOMEM;
        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        DICT("name", "s", i->name);
        DICT("ifindex", "u", i->ifindex);
        DICT("netns", "s", i->netns);
        DICT("netns_inode", "t", i->netns_ino);
        DICT("xdp_mode", "s", i->xdp_mode);
        if ((r = append_chain_entry(reply, "xdp_programs", &i->xdp)) < 0 ||
            (r = append_chain_entry(reply, "tc_ingress", &i->ingress)) < 0 ||
            (r = append_chain_entry(reply, "tc_egress", &i->egress)) < 0)
                return r;
        DICT("object_path", "o", path);
        return sd_bus_message_close_container(reply);
}

static int cmp_interface(gconstpointer a, gconstpointer b) {
        const InterfaceInfo *x = *(InterfaceInfo *const *) a, *y = *(InterfaceInfo *const *) b;
        if (x->netns_ino != y->netns_ino)
                return x->netns_ino < y->netns_ino ? -1 : 1;
        return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

/* The interfaces in (namespace, index) order, from the view: no trip to the worker. */
int interfaces_reply(Manager *m, sd_bus_message *msg, sd_bus_error *error) {
        assert(m);
        return bus_reply_sorted_dicts(msg, m->interfaces, cmp_interface, append_interface_dict, error);
}

int method_list_interfaces(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return interfaces_list_when_read(userdata, msg, error);
}
