/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.bpfd.Interface: one object per network interface with the programs on its hooks. What runs on a hook
 * is read by the worker (it needs privileges); after a change bpfd made on an interface, or an rtnetlink
 * event about one, that interface alone is read again, and the bus view follows with the matching signals.
 * Everything is read at startup and when the kernel says events were lost. */
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <inttypes.h>
#include <sys/socket.h>

#include "bus-spec.h"
#include "bus-util.h"
#include "log.h"
#include "manager.h"

#define INTERFACE_PATH_PREFIX "/org/bpfd/Manager/interface"

typedef struct ScanJob {
        Job job;
        Manager *m;
        bool full;              /* every interface; else only keys */
        InterfaceKey *keys;
        size_t n_keys;
        InterfaceInfo **found;
        size_t n_found;
        InterfaceKey *vanished;
        size_t n_vanished;
        uint32_t *gone_links;
        size_t n_gone;
} ScanJob;

static void scan_run(Job *j, Engine *e) {
        ScanJob *s = (ScanJob *) j;

        if (s->full)
                (void) engine_scan_interfaces(e, &s->found, &s->n_found, &s->gone_links, &s->n_gone);
        else
                (void) engine_scan_interfaces_of(e, s->keys, s->n_keys, &s->found, &s->n_found, &s->vanished,
                                                 &s->n_vanished, &s->gone_links, &s->n_gone);
}

static char *interface_object_path(const char *object_name) {
        char *p = NULL;
        return sd_bus_path_encode(INTERFACE_PATH_PREFIX, object_name, &p) < 0 ? NULL : p;
}

static void emit_interface_changed(Manager *m, const InterfaceInfo *i) {
        _cleanup_free_ char *path = interface_object_path(i->object_name);
        if (path)
                (void) sd_bus_emit_properties_changed(m->bus, path, "org.bpfd.Interface", "XdpMode", "XdpPrograms",
                                                      "TcIngress", "TcEgress", NULL);
}

static char *interface_key_string(uint64_t netns_ino, uint32_t ifindex) {
        return g_strdup_printf("%" PRIu64 ":%" PRIu32, netns_ino, ifindex);
}

static InterfaceInfo *interface_by_key(Manager *m, uint64_t netns_ino, uint32_t ifindex) {
        g_autofree gchar *k = interface_key_string(netns_ino, ifindex);
        return g_hash_table_lookup(m->interfaces_by_key, k);
}

void manager_view_put_interface(Manager *m, InterfaceInfo *i) {
        g_hash_table_replace(m->interfaces_by_key, interface_key_string(i->netns_ino, i->ifindex), i);
        g_hash_table_replace(m->interfaces, i->object_name, i);
}

/* Drops the object (with InterfacesRemoved) of this name. */
static void view_remove_interface(Manager *m, const char *object_name) {
        InterfaceInfo *i = g_hash_table_lookup(m->interfaces, object_name);
        _cleanup_free_ char *path = NULL;
        g_autofree gchar *k = NULL;

        if (!i)
                return;
        path = interface_object_path(i->object_name);
        if (path)
                (void) sd_bus_emit_object_removed(m->bus, path);
        k = interface_key_string(i->netns_ino, i->ifindex);
        if (g_hash_table_lookup(m->interfaces_by_key, k) == i)
                g_hash_table_remove(m->interfaces_by_key, k);
        g_hash_table_remove(m->interfaces, object_name); /* frees i */
}

/* One interface as the worker saw it now: a changed object signals its chains, a new one (or a renamed or
 * reused index) is added. */
static void view_update_interface(Manager *m, InterfaceInfo *now) {
        InterfaceInfo *before = interface_by_key(m, now->netns_ino, now->ifindex);
        InterfaceInfo *same_name = g_hash_table_lookup(m->interfaces, now->object_name);
        _cleanup_free_ char *path = NULL;

        if (before && before == same_name) {
                bool changed = !interface_info_chains_equal(before, now);
                manager_view_put_interface(m, now);
                if (changed)
                        emit_interface_changed(m, now);
                return;
        }
        if (before)
                view_remove_interface(m, before->object_name);
        if (same_name && same_name != before)
                view_remove_interface(m, same_name->object_name);
        manager_view_put_interface(m, now);
        path = interface_object_path(now->object_name);
        if (path)
                (void) sd_bus_emit_object_added(m->bus, path);
}

static void scan_submit(Manager *m);

static void scan_done(Job *j) {
        ScanJob *s = (ScanJob *) j;
        Manager *m = s->m;

        for (size_t i = 0; i < s->n_gone; i++)
                manager_view_remove_link(m, s->gone_links[i], true);
        if (s->n_gone > 0)
                manager_emit_counts_changed(m);

        for (size_t i = 0; i < s->n_found; i++)
                view_update_interface(m, s->found[i]);
        if (s->full) {
                g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
                g_autoptr(GPtrArray) vanished = g_ptr_array_new_with_free_func(free);
                GHashTableIter it;
                gpointer k;

                for (size_t i = 0; i < s->n_found; i++)
                        g_hash_table_add(seen, s->found[i]->object_name);
                g_hash_table_iter_init(&it, m->interfaces);
                while (g_hash_table_iter_next(&it, &k, NULL))
                        if (!g_hash_table_contains(seen, k))
                                g_ptr_array_add(vanished, strdup(k));
                for (guint i = 0; i < vanished->len; i++)
                        view_remove_interface(m, g_ptr_array_index(vanished, i));
        }
        for (size_t i = 0; i < s->n_vanished; i++) {
                InterfaceInfo *before = interface_by_key(m, s->vanished[i].netns_ino, s->vanished[i].ifindex);
                if (before)
                        view_remove_interface(m, before->object_name);
        }

        free(s->keys);
        free(s->found);
        free(s->vanished);
        free(s->gone_links);
        free(s);
        m->scan_in_flight = false;
        manager_specs_interfaces_changed(m); /* specs waiting for an interface that came */
        scan_submit(m);
}

/* One scan at a time; what is asked for meanwhile is gathered into the next one (a burst of changes and
 * events costs one scan, with one pair of netlink dumps). */
static void scan_submit(Manager *m) {
        ScanJob *s;

        if (m->scan_in_flight || (!m->scan_full && m->scan_keys->len == 0))
                return;
        s = calloc(1, sizeof(ScanJob));
        if (!s)
                return;
        *s = (ScanJob) { .job = { .run = scan_run, .done = scan_done }, .m = m, .full = m->scan_full };
        if (!s->full) {
                s->n_keys = m->scan_keys->len;
                s->keys = (InterfaceKey *) g_array_free(m->scan_keys, FALSE);
                m->scan_keys = g_array_new(FALSE, FALSE, sizeof(InterfaceKey));
        } else
                g_array_set_size(m->scan_keys, 0);
        m->scan_full = false;
        m->scan_in_flight = true;
        worker_submit(m->worker, &s->job);
}

void manager_scan_interfaces(Manager *m) {
        m->scan_full = true;
        scan_submit(m);
}

void manager_scan_interface(Manager *m, uint64_t netns_ino, uint32_t ifindex) {
        InterfaceKey k = { .netns_ino = netns_ino, .ifindex = ifindex };

        if (!ifindex)
                return;
        for (guint i = 0; i < m->scan_keys->len; i++)
                if (g_array_index(m->scan_keys, InterfaceKey, i).ifindex == ifindex &&
                    g_array_index(m->scan_keys, InterfaceKey, i).netns_ino == netns_ino)
                        return scan_submit(m);
        g_array_append_val(m->scan_keys, k);
        scan_submit(m);
}

/* ---- rtnetlink: interfaces coming, going and changing in bpfd's namespace ---- */

static int on_netlink(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        char buf[8192];
        ssize_t n;

        /* Only the interfaces the events name are looked at again. */
        while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n))
                        if ((h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK) &&
                            h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg)))
                                manager_scan_interface(m, m->netns_ino,
                                                       (uint32_t) ((struct ifinfomsg *) NLMSG_DATA(h))->ifi_index);
        if (n < 0 && errno == ENOBUFS)
                manager_scan_interfaces(m); /* lost some: look at everything */
        return 0;
}

int manager_watch_interfaces(Manager *m) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
        int fd, r;

        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        if (fd < 0)
                return -errno;
        /* Room for a burst (hundreds of pods' veths at once) before the kernel drops events and a full scan is
         * needed; capped by net.core.rmem_max. */
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int) { 1024 * 1024 }, sizeof(int));
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        r = sd_event_add_io(m->event, &m->netlink_source, fd, EPOLLIN, on_netlink, m);
        if (r < 0) {
                close(fd);
                return r;
        }
        (void) sd_event_source_set_io_fd_own(m->netlink_source, true);
        return 0;
}

/* ---- the bus objects ---- */

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
        i = g_hash_table_lookup(m->interfaces, name);
        if (!i)
                return 0;
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

int manager_add_interface_objects(Manager *m) {
        int r = sd_bus_add_fallback_vtable(m->bus, NULL, INTERFACE_PATH_PREFIX, "org.bpfd.Interface", interface_vtable,
                                           interface_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, INTERFACE_PATH_PREFIX, interface_enumerate, m);
}

#define DICT(key, sig, ...)                                                                                       \
        do {                                                                                                    \
                r = bus_append_dict_entry(reply, key, sig, __VA_ARGS__);                                       \
                if (r < 0)                                                                                      \
                        return r;                                                                               \
        } while (0)

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

static int append_interface_dict(sd_bus_message *reply, const InterfaceInfo *i) {
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

int method_list_interfaces(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        static const BusOption no_options[] = { {} };
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        g_autoptr(GPtrArray) list = g_ptr_array_new();
        GHashTableIter it;
        gpointer v;
        int r;

        r = bus_read_options(msg, "filter", no_options, NULL, error);
        if (r < 0)
                return r;
        g_hash_table_iter_init(&it, m->interfaces);
        while (g_hash_table_iter_next(&it, NULL, &v))
                g_ptr_array_add(list, v);
        g_ptr_array_sort(list, cmp_interface);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (guint i = 0; r >= 0 && i < list->len; i++)
                r = append_interface_dict(reply, g_ptr_array_index(list, i));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}
