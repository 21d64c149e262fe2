/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-netchain: what bpfd's multi-program network hooks cost per packet, and
 * how long attaching the Nth program of a chain takes.
 *
 *   bench-netchain --xdp-object XDP_OBJ --tc-object TC_OBJ --netns PATH
 *                  [--iface NAME] [--repeat N] [--runs N] [--rounds N]
 *                  [--chains 1,5,10] [--no-tc]
 *
 * Needs a running bpfd (org.bpfd on the system bus), root and a kernel that runs
 * dispatchers (freplace). IFACE (default veth0) lives in the network namespace
 * PATH (e.g. /proc/PID/ns/net). For XDP and for bpfd's TC dispatcher it loads
 * ten copies of one trivial counting program through bpfd (xdp_count_a of
 * XDP_OBJ, tcx_count_a of TC_OBJ) and attaches them one after another at
 * priorities 1..10, timing every Attach call. At the chain lengths of --chains
 * it runs BPF_PROG_TEST_RUN (N repeats) on the dispatcher bpfd attached and
 * compares with the same test run of the same program loaded alone by libbpf.
 * Prints "name: value" lines (medians of --runs test runs, of --rounds attach
 * rounds); nothing is asserted about time. All it loads, it unloads.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

#define MAX_CHAIN 10
#define TC_DISPATCHER_HANDLE 0xbfd0U
#define TC_DISPATCHER_PRIORITY 50U

static const char *arg_xdp_object;
static const char *arg_tc_object;
static const char *arg_netns;
static const char *arg_iface = "veth0";
static unsigned arg_repeat = 100000;
static unsigned arg_runs = 5;
static unsigned arg_rounds = 3;
static bool arg_tc = true;
static bool chain_at[MAX_CHAIN + 1];

static sd_bus *bus;
static uint32_t loaded[2 * MAX_CHAIN]; /* ids loaded through bpfd and not unloaded yet */
static size_t n_loaded;
static int self_netns_fd = -1, target_netns_fd = -1;

/* A minimal Ethernet/IPv4/UDP frame of 64 bytes. */
static const unsigned char packet[64] = {
        0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00,            /* eth, IPv4 */
        0x45, 0, 0, 50, 0, 0, 0x40, 0, 64, 17, 0, 0, 192, 0, 2, 2, 192, 0, 2, 1, /* IPv4, UDP */
        0x30, 0x39, 0x30, 0x39, 0, 30, 0, 0,                                    /* UDP 12345 -> 12345 */
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void cleanup(void) {
        while (bus && n_loaded > 0) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                uint32_t id = loaded[--n_loaded];
                if (sd_bus_call_method(bus, "org.bpfd", "/org/bpfd/Manager", "org.bpfd.Manager", "Unload", &e, NULL,
                                       "u", id) < 0)
                        fprintf(stderr, "bench-netchain: cannot unload program %" PRIu32 ": %s\n", id, e.message);
                sd_bus_error_free(&e);
        }
}

static void die(const char *fmt, ...) {
        va_list ap;
        fputs("bench-netchain: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        /* back to our own namespace, if we were elsewhere; the bus socket does not care */
        if (self_netns_fd >= 0)
                (void) setns(self_netns_fd, CLONE_NEWNET);
        cleanup();
        exit(1);
}

static void on_signal(int sig) {
        (void) sig;
        die("interrupted");
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap) {
        return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* ---- BPF_PROG_TEST_RUN ---- */

/* Median ns per packet of --runs test runs of --repeat packets each. */
static double test_run_ns(int prog_fd, const char *what) {
        double v[arg_runs];

        for (unsigned i = 0; i < arg_runs; i++) {
                LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet),
                            .repeat = arg_repeat);
                if (bpf_prog_test_run_opts(prog_fd, &opts) < 0)
                        die("BPF_PROG_TEST_RUN of %s failed: %m", what);
                v[i] = opts.duration; /* the kernel's average per repeat, in ns */
        }
        return median(v, arg_runs);
}

/* The value at key 0 of the program's "counter" map: how often it ran. */
static uint64_t prog_counter(uint32_t prog_id) {
        struct bpf_prog_info info = {};
        uint32_t map_ids[8], len = sizeof(info);
        uint64_t value = 0;
        int fd = bpf_prog_get_fd_by_id(prog_id);

        if (fd < 0)
                die("cannot open program %" PRIu32 ": %m", prog_id);
        info.nr_map_ids = 8;
        info.map_ids = (uintptr_t) map_ids;
        if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
                die("cannot get the info of program %" PRIu32 ": %m", prog_id);
        close(fd);
        for (uint32_t i = 0; i < info.nr_map_ids && i < 8; i++) {
                struct bpf_map_info minfo = {};
                uint32_t mlen = sizeof(minfo), key = 0;
                int mfd = bpf_map_get_fd_by_id(map_ids[i]);
                if (mfd < 0)
                        continue;
                if (bpf_obj_get_info_by_fd(mfd, &minfo, &mlen) == 0 && strcmp(minfo.name, "counter") == 0)
                        (void) bpf_map_lookup_elem(mfd, &key, &value);
                close(mfd);
        }
        return value;
}

/* One program of OBJECT loaded alone by libbpf; returns its fd (the object stays open). */
static int load_single(const char *object, const char *prog_name, struct bpf_object **ret_obj) {
        struct bpf_object *obj = bpf_object__open_file(object, NULL);
        struct bpf_program *p, *want = NULL;

        if (!obj)
                die("cannot open %s: %m", object);
        bpf_object__for_each_program(p, obj) {
                bool me = strcmp(bpf_program__name(p), prog_name) == 0;
                bpf_program__set_autoload(p, me);
                if (me)
                        want = p;
        }
        if (!want)
                die("no program %s in %s", prog_name, object);
        if (bpf_object__load(obj) < 0)
                die("cannot load %s of %s: %m", prog_name, object);
        *ret_obj = obj;
        return bpf_program__fd(want);
}

/* ---- bpfd over the bus ---- */

static uint32_t bus_load(const char *object, const char *prog_name) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        uint32_t id;
        int r;

        r = bench_load_from_fd(bus, object, prog_name, NULL, &id, &e);
        if (r < 0)
                die("LoadFromFd(%s) of %s failed: %s", prog_name, object, e.message ?: strerror(-r));
        loaded[n_loaded++] = id;
        return id;
}

static void bus_unload_all(void) {
        while (n_loaded > 0) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                uint32_t id = loaded[n_loaded - 1];
                int r = sd_bus_call_method(bus, "org.bpfd", "/org/bpfd/Manager", "org.bpfd.Manager", "Unload", &e,
                                           NULL, "u", id);
                if (r < 0)
                        die("Unload(%" PRIu32 ") failed: %s", id, e.message ?: strerror(-r));
                n_loaded--;
        }
}

/* Attach through the bus; returns the link id, and the call's wall time in *ret_ms. */
static uint32_t bus_attach(uint32_t prog_id, bool tc, int priority, double *ret_ms) {
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *path;
        double t0;
        uint32_t link;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.bpfd", "/org/bpfd/Manager", "org.bpfd.Manager", "Attach");
        if (r >= 0)
                r = sd_bus_message_append(m, "u", prog_id);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}", "kind", "s", tc ? "tc" : "xdp", "interface", "s",
                                          arg_iface, "netns", "s", arg_netns, "priority", "i", priority);
        if (r >= 0 && tc)
                r = sd_bus_message_append(m, "{sv}{sv}", "direction", "s", "ingress", "proceed_on", "as", 4, "unspec",
                                          "ok", "pipe", "dispatcher_return");
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                die("cannot build the Attach call: %s", strerror(-r));
        t0 = now_ms();
        r = sd_bus_call(bus, m, 0, &e, &reply);
        *ret_ms = now_ms() - t0;
        if (r < 0)
                die("Attach(%" PRIu32 ", %s priority %d) failed: %s", prog_id, tc ? "tc" : "xdp", priority,
                    e.message ?: strerror(-r));
        if (sd_bus_message_read(reply, "o", &path) <= 0)
                die("Attach returned no link");
        link = id_of_path(path);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        return link;
}

static void bus_detach(uint32_t link) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(bus, "org.bpfd", "/org/bpfd/Manager", "org.bpfd.Manager", "Detach", &e, NULL, "u",
                                   link);
        if (r < 0)
                die("Detach(%" PRIu32 ") failed: %s", link, e.message ?: strerror(-r));
}

/* ---- the dispatchers, asked in the interface's namespace ---- */

static uint32_t dispatcher_id(bool tc) {
        uint32_t id = 0;
        int ifindex, r;

        if (setns(target_netns_fd, CLONE_NEWNET) < 0)
                die("cannot enter %s: %m", arg_netns);
        ifindex = (int) if_nametoindex(arg_iface);
        if (ifindex <= 0)
                die("no interface %s in %s", arg_iface, arg_netns);
        if (tc) {
                LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
                LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_DISPATCHER_HANDLE, .priority = TC_DISPATCHER_PRIORITY);
                r = bpf_tc_query(&hook, &opts);
                if (r < 0)
                        die("no tc filter handle 0x%x priority %u on %s: %s", TC_DISPATCHER_HANDLE,
                            TC_DISPATCHER_PRIORITY, arg_iface, strerror(-r));
                id = opts.prog_id;
        } else {
                LIBBPF_OPTS(bpf_xdp_query_opts, opts);
                r = bpf_xdp_query(ifindex, 0, &opts);
                if (r < 0)
                        die("bpf_xdp_query(%s) failed: %s", arg_iface, strerror(-r));
                id = opts.prog_id ?: opts.drv_prog_id ?: opts.skb_prog_id;
        }
        if (setns(self_netns_fd, CLONE_NEWNET) < 0)
                die("cannot return to our network namespace: %m");
        if (!id)
                die("no %s program on %s", tc ? "tc" : "XDP", arg_iface);
        return id;
}

/* ---- one hook: XDP or bpfd's TC dispatcher ---- */

static void bench_hook(bool tc) {
        const char *kind = tc ? "tc" : "xdp";
        const char *object = tc ? arg_tc_object : arg_xdp_object;
        const char *prog_name = tc ? "tcx_count_a" : "xdp_count_a";
        double attach_ms[MAX_CHAIN][arg_rounds], single_ns;
        uint32_t ids[MAX_CHAIN], links[MAX_CHAIN];
        struct bpf_object *obj;
        char name[64];
        int fd;

        /* the baseline: the same program alone, loaded by libbpf right here */
        fd = load_single(object, prog_name, &obj);
        single_ns = test_run_ns(fd, prog_name);
        bpf_object__close(obj);
        snprintf(name, sizeof(name), "%s_single_ns", kind);
        figure(name, "%.1f", single_ns);

        for (int i = 0; i < MAX_CHAIN; i++)
                ids[i] = bus_load(object, prog_name);

        for (unsigned round = 0; round < arg_rounds; round++) {
                for (int n = 1; n <= MAX_CHAIN; n++) {
                        links[n - 1] = bus_attach(ids[n - 1], tc, n, &attach_ms[n - 1][round]);
                        if (round != 0 || !chain_at[n])
                                continue;

                        uint32_t disp = dispatcher_id(tc);
                        uint64_t before[MAX_CHAIN];
                        int dfd = bpf_prog_get_fd_by_id(disp);
                        double ns;

                        if (dfd < 0)
                                die("cannot open the %s dispatcher (program %" PRIu32 "): %m", kind, disp);
                        for (int i = 0; i < n; i++)
                                before[i] = prog_counter(ids[i]);
                        ns = test_run_ns(dfd, "the dispatcher");
                        close(dfd);
                        /* every program of the chain must have seen every test packet */
                        for (int i = 0; i < n; i++) {
                                uint64_t seen = prog_counter(ids[i]) - before[i];
                                if (seen < (uint64_t) arg_repeat * arg_runs)
                                        fprintf(stderr,
                                                "bench-netchain: warning: %s chain of %d: program %d of the chain "
                                                "ran %" PRIu64 " times, not %" PRIu64 "\n",
                                                kind, n, i + 1, seen, (uint64_t) arg_repeat * arg_runs);
                        }
                        snprintf(name, sizeof(name), "%s_chain_%d_ns", kind, n);
                        figure(name, "%.1f", ns);
                        snprintf(name, sizeof(name), "%s_chain_%d_vs_single_ratio", kind, n);
                        figure(name, "%.2f", single_ns > 0 ? ns / single_ns : 0);
                }
                /* take the chain apart from the end: the next round attaches to a bare interface again */
                for (int n = MAX_CHAIN; n >= 1; n--)
                        bus_detach(links[n - 1]);
        }
        for (int n = 1; n <= MAX_CHAIN; n++) {
                snprintf(name, sizeof(name), "%s_attach_nth_ms_%d", kind, n);
                figure(name, "%.1f", median(attach_ms[n - 1], arg_rounds));
        }
        bus_unload_all();
}

static unsigned parse_unsigned(const char *s, const char *what) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (!*s || *end || v == 0 || v > 100000000)
                die("bad %s: %s", what, s);
        return (unsigned) v;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "xdp-object", required_argument, NULL, 'x' },
                { "tc-object", required_argument, NULL, 't' },
                { "netns", required_argument, NULL, 'n' },
                { "iface", required_argument, NULL, 'i' },
                { "repeat", required_argument, NULL, 'r' },
                { "runs", required_argument, NULL, 'R' },
                { "rounds", required_argument, NULL, 'o' },
                { "chains", required_argument, NULL, 'c' },
                { "no-tc", no_argument, NULL, 'T' },
                {}
        };
        const char *chains = "1,5,10";
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'x': arg_xdp_object = optarg; break;
                case 't': arg_tc_object = optarg; break;
                case 'n': arg_netns = optarg; break;
                case 'i': arg_iface = optarg; break;
                case 'r': arg_repeat = parse_unsigned(optarg, "--repeat"); break;
                case 'R': arg_runs = parse_unsigned(optarg, "--runs"); break;
                case 'o': arg_rounds = parse_unsigned(optarg, "--rounds"); break;
                case 'c': chains = optarg; break;
                case 'T': arg_tc = false; break;
                default: return 2;
                }
        if (!arg_xdp_object || (arg_tc && !arg_tc_object) || !arg_netns || optind != argc) {
                fprintf(stderr, "usage: %s --xdp-object OBJ --tc-object OBJ --netns PATH [--iface NAME] "
                                "[--repeat N] [--runs N] [--rounds N] [--chains 1,5,10] [--no-tc]\n", argv[0]);
                return 2;
        }
        for (const char *s = chains; *s;) {
                char *end;
                unsigned long n = strtoul(s, &end, 10);
                if (end == s || n < 1 || n > MAX_CHAIN || (*end && *end != ','))
                        die("bad --chains: %s", chains);
                chain_at[n] = true;
                s = *end ? end + 1 : end;
        }

        libbpf_set_print(libbpf_quiet);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);

        self_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self_netns_fd < 0)
                die("cannot open /proc/self/ns/net: %m");
        target_netns_fd = open(arg_netns, O_RDONLY | O_CLOEXEC);
        if (target_netns_fd < 0)
                die("cannot open %s: %m", arg_netns);

        r = sd_bus_open_system(&bus);
        if (r < 0)
                die("cannot connect to the system bus: %s", strerror(-r));

        bench_hook(false);
        if (arg_tc)
                bench_hook(true);

        cleanup();
        sd_bus_flush_close_unref(bus);
        return 0;
}
