/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <sys/stat.h>

#include "interface.h"
#include "table.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

/* The positions in a chain entry "(usbuuo)". */
enum {
        CHAIN_PROGRAM_ID,
        CHAIN_PROGRAM_NAME,
        CHAIN_MANAGED,
        CHAIN_PRIORITY,
        CHAIN_LINK_ID,
        CHAIN_LINK_PATH,
};

/* The inode of the network namespace at path, if path is one (a file of nsfs,
 * like /proc/self/ns/net); false otherwise. */
static bool netns_inode_of(const char *path, uint64_t *ret) {
        struct stat st, self;

        if (stat(path, &st) < 0 || stat("/proc/self/ns/net", &self) < 0 || st.st_dev != self.st_dev)
                return false;

        *ret = (uint64_t) st.st_ino;
        return true;
}

static bool interface_in_netns(const BusValue *interface, const char *netns, bool have_inode, uint64_t inode) {
        uint64_t i;

        if (streq_ptr(bus_value_dict_get_string(interface, "netns"), netns))
                return true;

        return have_inode && bus_value_dict_get_uint(interface, "netns_inode", &i) && i == inode;
}

int interface_find(const BusValue *interfaces, const char *name, const char *netns, const BusValue **ret) {
        const BusValue *found = NULL;
        bool have_inode = false, ambiguous = false;
        uint64_t inode = 0;

        if (netns)
                have_inode = netns_inode_of(netns, &inode);

        for (size_t i = 0; i < bus_value_count(interfaces); i++) {
                const BusValue *d = bus_value_item(interfaces, i);

                if (!streq_ptr(bus_value_dict_get_string(d, "name"), name))
                        continue;

                if (netns) {
                        if (!interface_in_netns(d, netns, have_inode, inode))
                                continue;
                        *ret = d;
                        return 0;
                }

                /* bpfd's own namespace wins; otherwise the name must be unique. */
                if (isempty(bus_value_dict_get_string(d, "netns"))) {
                        *ret = d;
                        return 0;
                }
                if (found)
                        ambiguous = true;
                found = d;
        }

        if (!found)
                return -ENOENT;
        if (ambiguous)
                return -ENOTUNIQ;

        *ret = found;
        return 0;
}

/* Cell helpers: each returns a malloc'ed string, or NULL on OOM. */

static char *cell_uint(const BusValue *v) {
        uint64_t u;
        char *s;

        if (!bus_value_get_uint(v, &u))
                return strdup("-");
        return asprintf(&s, "%" PRIu64, u) < 0 ? NULL : s;
}

static char *cell_string(const BusValue *v) {
        return strdup(strempty_dash(bus_value_get_string(v)));
}

static char *cell_count(const BusValue *dict, const char *key) {
        const BusValue *chain = bus_value_dict_get(dict, key);
        char *s;

        if (!bus_value_is_array(chain))
                return strdup("-");
        return asprintf(&s, "%zu", bus_value_count(chain)) < 0 ? NULL : s;
}

static char *cell_xdp(const BusValue *dict) {
        const char *mode = bus_value_dict_get_string(dict, "xdp_mode");
        const BusValue *chain = bus_value_dict_get(dict, "xdp_programs");
        char *s;

        if (!bus_value_is_array(chain))
                return strdup("-");
        if (isempty(mode))
                return asprintf(&s, "%zu", bus_value_count(chain)) < 0 ? NULL : s;
        return asprintf(&s, "%s %zu", mode, bus_value_count(chain)) < 0 ? NULL : s;
}

int print_interfaces_table(const BusValue *interfaces) {
        _cleanup_table_ Table *t = NULL;
        int r = 0;

        t = table_new("IFACE", "IFINDEX", "NETNS", "XDP", "INGRESS", "EGRESS", NULL);
        if (!t)
                return -ENOMEM;

        for (size_t i = 0; i < bus_value_count(interfaces); i++) {
                const BusValue *d = bus_value_item(interfaces, i);

                if ((r = table_add_cell_take(t, cell_string(bus_value_dict_get(d, "name")))) < 0 ||
                    (r = table_add_cell_take(t, cell_uint(bus_value_dict_get(d, "ifindex")))) < 0 ||
                    (r = table_add_cell_take(t, cell_string(bus_value_dict_get(d, "netns")))) < 0 ||
                    (r = table_add_cell_take(t, cell_xdp(d))) < 0 ||
                    (r = table_add_cell_take(t, cell_count(d, "tc_ingress"))) < 0 ||
                    (r = table_add_cell_take(t, cell_count(d, "tc_egress"))) < 0)
                        return r;
        }

        return table_print(t, stdout);
}

/* Priorities order bpfd's links only; programs bpfd did not attach have none. */
static char *cell_priority(const BusValue *entry) {
        bool managed;

        if (!bus_value_get_bool(bus_value_item(entry, CHAIN_MANAGED), &managed) || !managed)
                return strdup("-");
        return cell_uint(bus_value_item(entry, CHAIN_PRIORITY));
}

/* A program attached without a link (e.g. XDP by netlink) has link id 0. */
static char *cell_link(const BusValue *entry) {
        uint64_t id;

        if (!bus_value_get_uint(bus_value_item(entry, CHAIN_LINK_ID), &id) || id == 0)
                return strdup("-");
        return cell_uint(bus_value_item(entry, CHAIN_LINK_ID));
}

static char *cell_managed(const BusValue *entry) {
        bool managed;

        if (!bus_value_get_bool(bus_value_item(entry, CHAIN_MANAGED), &managed))
                return strdup("-");
        return strdup(yes_no(managed));
}

static int print_chain(FILE *f, const char *heading, const BusValue *chain) {
        _cleanup_table_ Table *t = NULL;
        int r = 0;

        if (bus_value_count(chain) == 0 || !bus_value_is_array(chain)) {
                fprintf(f, "%s: (none)\n", heading);
                return 0;
        }

        t = table_new("POS", "PROGRAM", "NAME", "MANAGED", "PRIORITY", "LINK", NULL);
        if (!t)
                return -ENOMEM;

        for (size_t i = 0; i < bus_value_count(chain); i++) {
                const BusValue *e = bus_value_item(chain, i);
                char *pos;

                if (asprintf(&pos, "%zu", i) < 0)
                        pos = NULL;
                if ((r = table_add_cell_take(t, pos)) < 0 ||
                    (r = table_add_cell_take(t, cell_uint(bus_value_item(e, CHAIN_PROGRAM_ID)))) < 0 ||
                    (r = table_add_cell_take(t, cell_string(bus_value_item(e, CHAIN_PROGRAM_NAME)))) < 0 ||
                    (r = table_add_cell_take(t, cell_managed(e))) < 0 ||
                    (r = table_add_cell_take(t, cell_priority(e))) < 0 ||
                    (r = table_add_cell_take(t, cell_link(e))) < 0)
                        return r;
        }

        fprintf(f, "%s:\n", heading);
        return table_print_indented(t, f, 2);
}

int print_interface_chains(FILE *f, const BusValue *interface) {
        _cleanup_free_ char *xdp_heading = NULL;
        const char *name, *netns, *mode;
        uint64_t ifindex;
        int r;

        if (!bus_value_is_dict(interface))
                return -EINVAL;

        name = bus_value_dict_get_string(interface, "name");
        netns = bus_value_dict_get_string(interface, "netns");
        mode = bus_value_dict_get_string(interface, "xdp_mode");

        fprintf(f, "Interface %s (", strempty_dash(name));
        if (bus_value_dict_get_uint(interface, "ifindex", &ifindex))
                fprintf(f, "ifindex %" PRIu64, ifindex);
        else
                fputs("ifindex -", f);
        if (!isempty(netns))
                fprintf(f, ", netns %s", netns);
        fputs(")\n", f);

        if (isempty(mode))
                xdp_heading = strdup("XDP");
        else if (asprintf(&xdp_heading, "XDP (%s)", mode) < 0)
                xdp_heading = NULL;
        if (!xdp_heading)
                return -ENOMEM;

        r = print_chain(f, xdp_heading, bus_value_dict_get(interface, "xdp_programs"));
        if (r < 0)
                return r;
        r = print_chain(f, "TC ingress", bus_value_dict_get(interface, "tc_ingress"));
        if (r < 0)
                return r;
        return print_chain(f, "TC egress", bus_value_dict_get(interface, "tc_egress"));
}
