/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bpfd's state as Prometheus metrics: read from org.bpfd over the bus, as any unprivileged client can, one
 * scrape at a time. */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "metrics.h"

#define BUS_NAME "org.bpfd"
#define MANAGER_PATH "/org/bpfd/Manager"
#define MANAGER_IFACE "org.bpfd.Manager"

typedef struct Program {
        uint32_t id;
        char *name, *kind;
        bool has_owner, managed;
        uint32_t owner_uid;
        uint64_t run_count, run_time_ns;
} Program;

typedef struct Chain {
        char *interface, *netns, *hook;
        uint32_t length;
} Chain;

static void free_msg(sd_bus_message **m) {
        sd_bus_message_unref(*m);
}
#define _cleanup_msg_ __attribute__((cleanup(free_msg)))

/* Label values escape backslash, double quote and newline. */
static void put_label(FILE *out, const char *key, const char *value, bool first) {
        fprintf(out, "%s%s=\"", first ? "" : ",", key);
        for (const char *c = value ? value : ""; *c; c++)
                if (*c == '\\' || *c == '"')
                        fprintf(out, "\\%c", *c);
                else if (*c == '\n')
                        fputs("\\n", out);
                else
                        fputc(*c, out);
        fputc('"', out);
}

static void put_header(FILE *out, const char *name, const char *type, const char *help) {
        fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* ---- reading dictionaries ---- */

/* Reads one a{sv} into a Program, skipping keys it does not need; also collects map ids. */
static int read_program(sd_bus_message *m, Program *p, GHashTable *maps) {
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *s;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (strcmp(key, "id") == 0)
                        r = sd_bus_message_read(m, "v", "u", &p->id);
                else if (strcmp(key, "name") == 0 || strcmp(key, "kind") == 0) {
                        r = sd_bus_message_read(m, "v", "s", &s);
                        if (r >= 0) {
                                char **dst = key[0] == 'n' ? &p->name : &p->kind;
                                free(*dst);
                                *dst = strdup(s);
                        }
                } else if (strcmp(key, "owner_uid") == 0) {
                        r = sd_bus_message_read(m, "v", "u", &p->owner_uid);
                        p->has_owner = r >= 0;
                } else if (strcmp(key, "managed") == 0) {
                        int b = 0;
                        r = sd_bus_message_read(m, "v", "b", &b);
                        p->managed = b;
                } else if (strcmp(key, "run_count") == 0)
                        r = sd_bus_message_read(m, "v", "t", &p->run_count);
                else if (strcmp(key, "run_time_ns") == 0)
                        r = sd_bus_message_read(m, "v", "t", &p->run_time_ns);
                else if (strcmp(key, "map_ids") == 0) {
                        const uint32_t *ids;
                        size_t size;
                        r = sd_bus_message_enter_container(m, 'v', "au");
                        if (r >= 0)
                                r = sd_bus_message_read_array(m, 'u', (const void **) &ids, &size);
                        for (size_t i = 0; r >= 0 && i < size / sizeof(uint32_t); i++)
                                g_hash_table_add(maps, GUINT_TO_POINTER(ids[i]));
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        return r < 0 ? r : sd_bus_message_exit_container(m);
}

static void program_free(gpointer data) {
        Program *p = data;
        free(p->name);
        free(p->kind);
        free(p);
}

static int list_programs(sd_bus *bus, GPtrArray *programs, GHashTable *maps) {
        _cleanup_msg_ sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "ListPrograms", &e, &reply, "a{sv}", 1,
                               "all", "b", 1);
        sd_bus_error_free(&e);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "a{sv}");
        while (r >= 0 && sd_bus_message_at_end(reply, false) == 0) {
                Program *p = calloc(1, sizeof(Program));
                if (!p)
                        return -ENOMEM;
                g_ptr_array_add(programs, p);
                r = read_program(reply, p, maps);
        }
        return r;
}

static const char *const hooks[][2] = {
        { "xdp_programs", "xdp" },
        { "tc_ingress", "tc_ingress" },
        { "tc_egress", "tc_egress" },
};

static int read_interface(sd_bus_message *m, GPtrArray *chains) {
        char *name = NULL, *netns = NULL;
        uint32_t lengths[3] = {};
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");

        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *s;
                size_t h;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        break;
                for (h = 0; h < 3 && strcmp(key, hooks[h][0]) != 0; h++)
                        ;
                if (h < 3) {
                        r = sd_bus_message_enter_container(m, 'v', "a(usbuuo)");
                        if (r >= 0)
                                r = sd_bus_message_enter_container(m, 'a', "(usbuuo)");
                        while (r >= 0 && (r = sd_bus_message_skip(m, "(usbuuo)")) > 0)
                                lengths[h]++;
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else if (strcmp(key, "name") == 0 || strcmp(key, "netns") == 0) {
                        r = sd_bus_message_read(m, "v", "s", &s);
                        if (r >= 0) {
                                char **dst = key[0] == 'n' && key[1] == 'a' ? &name : &netns;
                                free(*dst);
                                *dst = strdup(s);
                        }
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        for (size_t h = 0; r >= 0 && h < 3; h++) {
                Chain *c = calloc(1, sizeof(Chain));
                if (!c) {
                        r = -ENOMEM;
                        break;
                }
                *c = (Chain) { .interface = strdup(name ? name : ""), .netns = strdup(netns ? netns : ""),
                               .hook = (char *) hooks[h][1], .length = lengths[h] };
                g_ptr_array_add(chains, c);
        }
        free(name);
        free(netns);
        return r;
}

static void chain_free(gpointer data) {
        Chain *c = data;
        free(c->interface);
        free(c->netns);
        free(c);
}

static int list_interfaces(sd_bus *bus, GPtrArray *chains) {
        _cleanup_msg_ sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "ListInterfaces", &e, &reply, "a{sv}", 0);
        sd_bus_error_free(&e);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "a{sv}");
        while (r >= 0 && sd_bus_message_at_end(reply, false) == 0)
                r = read_interface(reply, chains);
        return r;
}

/* ---- writing ---- */

static void write_programs(FILE *out, GPtrArray *programs) {
        static const struct {
                const char *name, *help;
                bool seconds;
        } kinds[] = {
                { "bpfd_program_run_count_total",
                  "Runs of the program counted by the kernel while its run statistics are on.", false },
                { "bpfd_program_run_time_seconds_total",
                  "Time the program ran, counted by the kernel while its run statistics are on.", true },
        };

        for (size_t k = 0; k < 2; k++) {
                put_header(out, kinds[k].name, "counter", kinds[k].help);
                for (guint i = 0; i < programs->len; i++) {
                        const Program *p = g_ptr_array_index(programs, i);
                        char id[16], owner[32] = "";
                        struct passwd *pw;

                        snprintf(id, sizeof id, "%" PRIu32, p->id);
                        if (p->has_owner) {
                                pw = getpwuid(p->owner_uid);
                                snprintf(owner, sizeof owner, "%s", pw ? pw->pw_name : "");
                                if (!pw)
                                        snprintf(owner, sizeof owner, "%" PRIu32, p->owner_uid);
                        }
                        fputs(kinds[k].name, out);
                        fputc('{', out);
                        put_label(out, "id", id, true);
                        put_label(out, "name", p->name, false);
                        put_label(out, "kind", p->kind, false);
                        put_label(out, "owner", owner, false);
                        put_label(out, "managed", p->managed ? "true" : "false", false);
                        if (kinds[k].seconds)
                                fprintf(out, "} %" PRIu64 ".%09" PRIu64 "\n", (uint64_t) (p->run_time_ns / 1000000000ULL),
                                        (uint64_t) (p->run_time_ns % 1000000000ULL));
                        else
                                fprintf(out, "} %" PRIu64 "\n", p->run_count);
                }
        }
}

static void write_chains(FILE *out, GPtrArray *chains) {
        put_header(out, "bpfd_interface_chain_length", "gauge",
                   "Programs on a hook of a network interface (bpfd's and others'), in the order they run.");
        for (guint i = 0; i < chains->len; i++) {
                const Chain *c = g_ptr_array_index(chains, i);
                fputs("bpfd_interface_chain_length{", out);
                put_label(out, "interface", c->interface, true);
                put_label(out, "netns", c->netns, false);
                put_label(out, "hook", c->hook, false);
                fprintf(out, "} %" PRIu32 "\n", c->length);
        }
}

static int write_requests(sd_bus *bus, FILE *out) {
        _cleanup_msg_ sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const uint64_t *bounds;
        size_t n_bounds, bsize;
        char *counts = NULL, *hist = NULL;
        size_t counts_size = 0, hist_size = 0;
        FILE *c, *h;
        int r;

        r = sd_bus_call_method(bus, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "GetRequestStatistics", &e, &reply, "");
        sd_bus_error_free(&e);
        if (r < 0)
                return r;
        /* The bounds come after the rows: read them first from a second pass. */
        r = sd_bus_message_skip(reply, "a(ssttat)");
        if (r >= 0)
                r = sd_bus_message_read_array(reply, 't', (const void **) &bounds, &bsize);
        if (r < 0)
                return r;
        n_bounds = bsize / sizeof(uint64_t);
        r = sd_bus_message_rewind(reply, true);
        if (r < 0)
                return r;

        c = open_memstream(&counts, &counts_size);
        h = open_memstream(&hist, &hist_size);
        if (!c || !h) {
                if (c)
                        fclose(c);
                free(counts);
                return -ENOMEM;
        }
        r = sd_bus_message_enter_container(reply, 'a', "(ssttat)");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "ssttat")) > 0) {
                const char *method, *result;
                uint64_t count, total_usec, cumulative = 0;
                const uint64_t *buckets;
                size_t size;

                r = sd_bus_message_read(reply, "sstt", &method, &result, &count, &total_usec);
                if (r >= 0)
                        r = sd_bus_message_read_array(reply, 't', (const void **) &buckets, &size);
                if (r < 0)
                        break;
                fputs("bpfd_requests_total{", c);
                put_label(c, "method", method, true);
                put_label(c, "result", result, false);
                fprintf(c, "} %" PRIu64 "\n", count);
                for (size_t b = 0; b <= n_bounds && b < size / sizeof(uint64_t); b++) {
                        char le[32];
                        cumulative += buckets[b];
                        if (b < n_bounds) {
                                /* Seconds, without trailing zeros: 0.0005, 0.001, 2.5, 10 */
                                size_t n = (size_t) snprintf(le, sizeof le, "%" PRIu64 ".%06" PRIu64,
                                                             bounds[b] / 1000000, bounds[b] % 1000000);
                                while (n > 0 && le[n - 1] == '0')
                                        le[--n] = 0;
                                if (n > 0 && le[n - 1] == '.')
                                        le[--n] = 0;
                        } else
                                snprintf(le, sizeof le, "+Inf");
                        fputs("bpfd_request_duration_seconds_bucket{", h);
                        put_label(h, "method", method, true);
                        put_label(h, "result", result, false);
                        put_label(h, "le", le, false);
                        fprintf(h, "} %" PRIu64 "\n", cumulative);
                }
                fputs("bpfd_request_duration_seconds_sum{", h);
                put_label(h, "method", method, true);
                put_label(h, "result", result, false);
                fprintf(h, "} %" PRIu64 ".%06" PRIu64 "\n", total_usec / 1000000, total_usec % 1000000);
                fputs("bpfd_request_duration_seconds_count{", h);
                put_label(h, "method", method, true);
                put_label(h, "result", result, false);
                fprintf(h, "} %" PRIu64 "\n", count);
                r = sd_bus_message_exit_container(reply);
        }
        fclose(c);
        fclose(h);
        if (r >= 0) {
                put_header(out, "bpfd_requests_total", "counter",
                           "Calls of bpfd's bus methods since bpfd started, by method and result (ok or the error name).");
                fputs(counts, out);
                put_header(out, "bpfd_request_duration_seconds", "histogram",
                           "Time from a call's arrival at bpfd to its reply (including polkit and the kernel).");
                fputs(hist, out);
        }
        free(counts);
        free(hist);
        return r;
}

static int get_manager_property(sd_bus *bus, const char *name, char type, void *ret) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_get_property_trivial(bus, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, name, &e, type, ret);
        sd_bus_error_free(&e);
        return r;
}

int metrics_write(sd_bus *bus, FILE *out) {
        g_autoptr(GPtrArray) programs = g_ptr_array_new_with_free_func(program_free);
        g_autoptr(GPtrArray) chains = g_ptr_array_new_with_free_func(chain_free);
        g_autoptr(GHashTable) maps = g_hash_table_new(NULL, NULL);
        unsigned managed = 0;
        uint32_t links = 0;
        int stats = 0, r;

        r = bus ? list_programs(bus, programs, maps) : -ENOTCONN;
        if (r >= 0)
                r = list_interfaces(bus, chains);
        if (r >= 0)
                r = get_manager_property(bus, "LinkCount", 'u', &links);
        if (r >= 0)
                r = get_manager_property(bus, "StatsEnabled", 'b', &stats);

        put_header(out, "bpfd_up", "gauge", "Whether bpfd answered over the bus (1) or not (0).");
        fprintf(out, "bpfd_up %d\n", r >= 0);
        if (r < 0)
                return ferror(out) ? -EIO : 0;

        put_header(out, "bpfd_stats_enabled", "gauge", "Whether the kernel's BPF run statistics are on.");
        fprintf(out, "bpfd_stats_enabled %d\n", !!stats);
        for (guint i = 0; i < programs->len; i++)
                managed += ((Program *) g_ptr_array_index(programs, i))->managed;
        put_header(out, "bpfd_programs", "gauge",
                   "BPF programs loaded on the machine, by whether bpfd manages them.");
        fprintf(out, "bpfd_programs{managed=\"true\"} %u\nbpfd_programs{managed=\"false\"} %u\n", managed,
                programs->len - managed);
        put_header(out, "bpfd_links", "gauge", "Attachments made by bpfd.");
        fprintf(out, "bpfd_links %" PRIu32 "\n", links);
        put_header(out, "bpfd_maps", "gauge", "BPF maps used by the programs of the machine.");
        fprintf(out, "bpfd_maps %u\n", g_hash_table_size(maps));
        write_programs(out, programs);
        write_chains(out, chains);
        (void) write_requests(bus, out);
        return ferror(out) ? -EIO : 0;
}
