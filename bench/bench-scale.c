/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-scale: does an operation that touches no network interface cost the
 * same on a node with hundreds of interfaces as on one with a single one?
 *
 *   bench-scale --object OBJ [--interfaces N] [--iterations N]
 *
 * Needs a running bpfd and root, in a network namespace of its own (bench/run
 * runs inside tests/env/with-env): it adds N/2 veth pairs there (N
 * interfaces, default 300) and removes them again. Figures, medians of
 * --iterations rounds (default 30), each round one Unload of a tracepoint
 * program with a link followed by a LoadFromFd with a tracepoint attach, so a
 * scan that an Unload leaves on the worker is paid by the next load:
 *   unload_load_1_interfaces_ms       with the interfaces of the namespace
 *                                     at start (lo)
 *   unload_load_301_interfaces_ms     with N more (the name says 301 for the
 *                                     default N)
 *   unload_301_vs_1_interfaces_ratio  the second over the first
 *   interfaces_settle_ms              from the last "ip link add" until bpfd
 *                                     shows every new interface
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "bench-util.h"

#define PROG_NAME "count_getpid"
#define TP "syscalls/sys_enter_getpid"

static const char *arg_object;
static unsigned arg_interfaces = 300;
static unsigned arg_iterations = 30;
static sd_bus *bus;
static uint32_t current; /* the program loaded now, 0 if none */
static unsigned pairs_added;

static void cleanup(void);

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
        va_list ap;
        fputs("bench-scale: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        cleanup();
        exit(1);
}

static uint32_t load_attached(void) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        uint32_t id;
        int r;

        r = bench_load_from_fd(bus, arg_object, PROG_NAME, TP, &id, &e);
        if (r < 0)
                die("LoadFromFd of %s failed: %s", arg_object, e.message ?: strerror(-r));
        return id;
}

static void unload(uint32_t id) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(bus, "org.bpfd", "/org/bpfd/Manager", "org.bpfd.Manager", "Unload", &e, NULL, "u",
                                   id);
        if (r < 0)
                die("Unload(%" PRIu32 ") failed: %s", id, e.message ?: strerror(-r));
}

static unsigned bpfd_interfaces(void) {
        sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        unsigned n = 0;
        int r;

        r = sd_bus_call_method(bus, "org.bpfd", "/org/bpfd/Manager", "org.bpfd.Manager", "ListInterfaces", &e, &reply,
                               "a{sv}", 0);
        if (r < 0)
                die("ListInterfaces failed: %s", e.message ?: strerror(-r));
        r = sd_bus_message_enter_container(reply, 'a', "a{sv}");
        while (r >= 0 && (r = sd_bus_message_skip(reply, "a{sv}")) > 0)
                n++;
        sd_bus_message_unref(reply);
        return n;
}

static void wait_interfaces(unsigned want) {
        for (unsigned i = 0; i < 6000; i++) {
                if (bpfd_interfaces() == want)
                        return;
                usleep(10000);
        }
        die("bpfd did not show %u interfaces in 60 s", want);
}

/* Feeds "ip -batch -" with the lines fmt makes for i in [0, n). */
static void ip_batch(const char *fmt, unsigned n) {
        FILE *p = popen("ip -batch -", "w");
        int status;

        if (!p)
                die("cannot run ip: %m");
        for (unsigned i = 0; i < n; i++) {
                fprintf(p, fmt, i, i);
                fputc('\n', p);
        }
        status = pclose(p);
        if (status != 0)
                die("ip -batch failed (status %d)", status);
}

static void cleanup(void) {
        if (bus && current) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                (void) sd_bus_call_method(bus, "org.bpfd", "/org/bpfd/Manager", "org.bpfd.Manager", "Unload", &e,
                                          NULL, "u", current);
                sd_bus_error_free(&e);
                current = 0;
        }
        if (pairs_added) {
                unsigned n = pairs_added;
                pairs_added = 0;
                ip_batch("link del bsc%u", n);
        }
}

/* One Unload of the program loaded before, then the next load: the median of the pair. */
static double unload_then_load(void) {
        double t[arg_iterations];

        if (!current)
                current = load_attached();
        for (unsigned i = 0; i < arg_iterations; i++) {
                double t0 = now_ms();
                unload(current);
                current = 0;
                current = load_attached();
                t[i] = now_ms() - t0;
        }
        return median(t, arg_iterations);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "object", required_argument, NULL, 'o' },
                { "interfaces", required_argument, NULL, 'i' },
                { "iterations", required_argument, NULL, 'n' },
                {}
        };
        unsigned base;
        double one, many, t0;
        char name[64];
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'o': arg_object = optarg; break;
                case 'i': arg_interfaces = strtoul(optarg, NULL, 10) / 2 * 2; break;
                case 'n': arg_iterations = strtoul(optarg, NULL, 10); break;
                default: return 2;
                }
        if (!arg_object || arg_iterations == 0 || arg_interfaces == 0) {
                fprintf(stderr, "usage: bench-scale --object OBJ [--interfaces N] [--iterations N]\n");
                return 2;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0)
                die("cannot connect to the system bus: %s", strerror(-r));

        base = bpfd_interfaces();
        one = unload_then_load();
        snprintf(name, sizeof name, "unload_load_%u_interfaces_ms", base);
        figure(name, "%.3f", one);

        ip_batch("link add bsc%u type veth peer name bsc%up", arg_interfaces / 2);
        pairs_added = arg_interfaces / 2;
        t0 = now_ms();
        wait_interfaces(base + arg_interfaces);
        figure("interfaces_settle_ms", "%.1f", now_ms() - t0);
        usleep(500 * 1000); /* the rest of the burst's events, if any */

        many = unload_then_load();
        snprintf(name, sizeof name, "unload_load_%u_interfaces_ms", base + arg_interfaces);
        figure(name, "%.3f", many);
        /* The name for the figure, whatever N and the namespace's own interfaces were. */
        figure("unload_301_vs_1_interfaces_ratio", "%.3f", many / one);

        cleanup();
        wait_interfaces(base);
        sd_bus_flush_close_unref(bus);
        return 0;
}
