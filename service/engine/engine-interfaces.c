/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine: network interfaces and the chains on their hooks. */
#include <assert.h>
#include <bpf/bpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>

#include "engine-internal.h"
#include "log.h"
#include "netdev-dump.h"
#include "netns.h"
#include "tc-dispatcher.h"
#include "tcx.h"
#include "xdp-chain.h"
#include "engine-interfaces.h"
#include "engine-lifecycle.h"

static void chain_entry_fill(Engine *e, ChainEntry *c, uint32_t prog_id, uint32_t link_id) {
        Group *g = g_hash_table_lookup(e->programs, GUINT_TO_POINTER(prog_id));
        ProgramInfo *p = g ? group_find_program(g, prog_id, NULL) : NULL;
        LinkInfo *l = link_id ? engine_find_link(e, link_id) : NULL;

        assert(e);
        assert(c);

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

/* What runs on a TC hook, in order: TCX links first (the kernel runs them before classic filters), then the
 * filters by priority, bpfd's dispatcher shown as the slots it runs. */
static int scan_tc(Engine *e, uint64_t netns_ino, uint32_t ifindex, const NetdevState *dev, bool egress, Chain *ret) {
        _cleanup_(tcx_chain_done) TcxChain chain = {};
        _cleanup_free_ TcHookProgram *filters = NULL;
        size_t n_filters = 0;

        assert(e);
        assert(ret);

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

        assert(e);
        assert(ret);
        assert(ret_mode);

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

        assert(e);
        assert(name);

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

        assert(e);
        assert(l);

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
        assert(e);
        assert(ids);

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

        assert(e);
        assert(ret);
        assert(ret_n);
        assert(ret_gone);
        assert(ret_n_gone);

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

        assert(e);
        assert(keys || n_keys == 0);
        assert(ret);
        assert(ret_n);
        assert(ret_vanished);
        assert(ret_n_vanished);
        assert(ret_gone);
        assert(ret_n_gone);

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
