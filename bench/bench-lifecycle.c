/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-lifecycle: what the bus and the daemon cost over plain libbpf.
 *
 *   bench-lifecycle --object OBJ --bpfctl BPFCTL --loader ONESHOT_LOADER
 *                   [--pin-dir DIR] [--iterations N] [--list-programs N]
 *
 * Needs a running bpfd (org.bpfd on the system bus) and root. Every figure is
 * the median of N runs, printed as "name: value"; nothing is asserted. All it
 * loads, it unloads (also when it fails half-way).
 *
 * The floor of a bus load is libbpf's own work plus one round trip through the
 * bus daemon (bus_ping_ms, org.freedesktop.DBus.Peer.Ping to bpfd):
 * bus_vs_libbpf_plus_ping_ratio. The programs of the list figures (1, 100,
 * up to --list-programs, default 1000) are attached to syscall tracepoints, as
 * programs on a node are; list_1000_vs_100_ratio says whether ListPrograms
 * grows linearly, managed_objects_1000_ms is GetManagedObjects with them.
 * rss_after_unload_kib is read 1.5 s after the last Unload (bpfd trims its
 * heap once idle).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

extern char **environ;

#define PROG_NAME "count_getpid"
#define TP_CATEGORY "syscalls"
#define TP_NAME "sys_enter_getpid"

static const char *arg_object;
static const char *arg_bpfctl;
static const char *arg_loader;
static const char *arg_pin_dir = "/sys/fs/bpf/bpfd-bench";
static unsigned arg_iterations = 30;
static unsigned arg_list_max = 1000;

static sd_bus *bus;
static uint32_t *loaded; /* ids of programs loaded through bpfd and not unloaded yet */
static size_t n_loaded, alloc_loaded;

/* ---- small helpers ---- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void track(uint32_t id) {
        if (n_loaded == alloc_loaded) {
                alloc_loaded = alloc_loaded ? alloc_loaded * 2 : 64;
                loaded = realloc(loaded, alloc_loaded * sizeof(uint32_t));
                if (!loaded)
                        die("out of memory");
        }
        loaded[n_loaded++] = id;
}

static void untrack(uint32_t id) {
        for (size_t i = 0; i < n_loaded; i++)
                if (loaded[i] == id) {
                        loaded[i] = loaded[--n_loaded];
                        return;
                }
}

static int bus_unload(uint32_t id, sd_bus_error *error) {
        return sd_bus_call_method(bus, "org.bpfd", "/org/bpfd/Manager", "org.bpfd.Manager", "Unload", error, NULL,
                                  "u", id);
}

static void cleanup(void) {
        char path[4096];

        while (bus && n_loaded > 0) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                uint32_t id = loaded[n_loaded - 1];
                if (bus_unload(id, &e) < 0)
                        fprintf(stderr, "bench-lifecycle: cannot unload program %" PRIu32 ": %s\n", id, e.message);
                sd_bus_error_free(&e);
                n_loaded--;
        }
        snprintf(path, sizeof path, "%s/link", arg_pin_dir);
        (void) unlink(path);
        snprintf(path, sizeof path, "%s/prog", arg_pin_dir);
        (void) unlink(path);
        (void) rmdir(arg_pin_dir);
}

static void die(const char *fmt, ...) {
        va_list ap;
        fputs("bench-lifecycle: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        cleanup();
        exit(1);
}

static char *read_file(const char *path, size_t *ret_size) {
        FILE *f = fopen(path, "re");
        char *data;
        long n;

        if (!f)
                die("cannot open %s: %m", path);
        if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0)
                die("cannot size %s: %m", path);
        data = malloc(n > 0 ? n : 1);
        if (!data || fread(data, 1, n, f) != (size_t) n)
                die("cannot read %s", path);
        fclose(f);
        *ret_size = n;
        return data;
}

/* ---- raw libbpf, in this process ---- */

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap) {
        return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* Loads and attaches arg_iterations copies back to back, then detaches and unloads them: a load never meets
 * the kernel still tearing down the one before (libbpf's close waits for that, bpfd's Unload does not). */
static void bench_libbpf(double *ret_load_attach, double *ret_unload) {
        const unsigned n = arg_iterations; /* a local: the arrays and loops agree on it */
        size_t size;
        char *data = read_file(arg_object, &size);
        double la[n], un[n];
        struct bpf_object *objs[n];
        struct bpf_link *links[n];

        for (unsigned i = 0; i < n; i++) {
                struct bpf_object *obj;
                struct bpf_program *prog, *p;
                struct bpf_link *link;
                double t0, t1;
                int r;

                t0 = now_ms();
                obj = bpf_object__open_mem(data, size, NULL);
                if (!obj)
                        die("libbpf: cannot open the object: %m");
                prog = bpf_object__find_program_by_name(obj, PROG_NAME);
                if (!prog)
                        die("libbpf: no program " PROG_NAME);
                bpf_object__for_each_program(p, obj)
                        bpf_program__set_autoload(p, p == prog);
                r = bpf_object__load(obj);
                if (r < 0)
                        die("libbpf: load failed: %s", strerror(-r));
                link = bpf_program__attach_tracepoint(prog, TP_CATEGORY, TP_NAME);
                if (!link)
                        die("libbpf: attach failed: %m");
                t1 = now_ms();
                la[i] = t1 - t0;
                objs[i] = obj;
                links[i] = link;
        }
        for (unsigned i = 0; i < n; i++) {
                double t1 = now_ms();
                bpf_link__destroy(links[i]);
                bpf_object__close(objs[i]);
                /* The program's last reference went with close(): the kernel has detached it already. */
                un[i] = now_ms() - t1;
        }
        free(data);
        *ret_load_attach = median(la, n);
        *ret_unload = median(un, n);
}

/* ---- through the bus ---- */

/* LoadFromFd of PROG_NAME, attached to tracepoint tp (CATEGORY/NAME) unless NULL. */
static int bus_load_try(const char *tp, uint32_t *ret_id, sd_bus_error *e) {
        int r = bench_load_from_fd(bus, arg_object, PROG_NAME, tp, ret_id, e);

        if (r == -EBADMSG)
                die("LoadFromFd returned no program");
        if (r < 0 && !sd_bus_error_is_set(e))
                die("cannot load %s: %s", arg_object, strerror(-r));
        if (r >= 0)
                track(*ret_id);
        return r;
}

static void bus_load(bool attach, uint32_t *ret_id) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = bus_load_try(attach ? TP_CATEGORY "/" TP_NAME : NULL, ret_id, &e);
        if (r < 0)
                die("LoadFromFd failed: %s", e.message ?: strerror(-r));
}

/* The programs of the list figures are attached, as on a node, spread over tracepoints (the kernel takes
 * at most 64 programs on one; other users of the machine may hold some): each goes to the first one of the
 * list, from the last that took one, with room. */
static void bus_load_attached_somewhere(uint32_t *ret_id) {
        static const char *const tps[] = {
                "getppid", "getuid", "geteuid", "getgid", "getegid", "gettid", "getpgid", "getsid", "getpgrp",
                "getresuid", "getresgid", "getgroups", "getpriority", "getrlimit", "getrusage", "getcwd", "getitimer",
                "getcpu", "sysinfo", "times", "newuname", "umask", "sched_yield", "sched_getparam",
                "sched_getscheduler", "sched_getaffinity", "capget", "sync", "getrandom", "pause", "alarm",
                "personality",
        };
        static size_t next = 0;

        for (size_t k = 0; k < sizeof tps / sizeof tps[0]; k++) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                char tp[64];
                int r;

                snprintf(tp, sizeof tp, "syscalls/sys_enter_%s", tps[(next + k) % (sizeof tps / sizeof tps[0])]);
                r = bus_load_try(tp, ret_id, &e);
                sd_bus_error_free(&e);
                if (r >= 0) {
                        next = (next + k) % (sizeof tps / sizeof tps[0]);
                        return;
                }
        }
        die("no tracepoint of the list takes another program");
}

static void unload_checked(uint32_t id) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = bus_unload(id, &e);
        if (r < 0)
                die("Unload(%" PRIu32 ") failed: %s", id, e.message ?: strerror(-r));
        untrack(id);
}

/* Waits until program ID has left the kernel, which also means its links are gone (they hold it). */
static void wait_prog_gone(uint32_t id) {
        for (unsigned i = 0; i < 100000; i++) {
                int fd = bpf_prog_get_fd_by_id(id);
                if (fd < 0)
                        return;
                close(fd);
                usleep(100);
        }
        die("program %" PRIu32 " did not leave the kernel", id);
}

/* Back to back, as bench_libbpf(): the loads first, then the unloads. */
static void bench_bus_loads(double *ret_load_attach) {
        const unsigned n = arg_iterations; /* a local: the arrays and loops agree on it */
        double la[n];
        uint32_t ids[n];

        for (unsigned i = 0; i < n; i++) {
                double t0 = now_ms();
                bus_load(true, &ids[i]);
                la[i] = now_ms() - t0;
        }
        for (unsigned i = 0; i < n; i++)
                unload_checked(ids[i]);
        for (unsigned i = 0; i < n; i++)
                wait_prog_gone(ids[i]);
        *ret_load_attach = median(la, n);
}

/* Load, Unload, wait until the kernel freed it: each load right after the kernel's teardown of the last. */
static void bench_bus(double *ret_load_attach, double *ret_unload, double *ret_unload_gone) {
        double la[arg_iterations], un[arg_iterations], gone[arg_iterations];

        for (unsigned i = 0; i < arg_iterations; i++) {
                uint32_t id;
                double t0, t1, t2;

                t0 = now_ms();
                bus_load(true, &id);
                t1 = now_ms();
                unload_checked(id);
                t2 = now_ms();
                wait_prog_gone(id);
                la[i] = t1 - t0;
                un[i] = t2 - t1;
                gone[i] = now_ms() - t1;
        }
        *ret_load_attach = median(la, arg_iterations);
        *ret_unload = median(un, arg_iterations);
        *ret_unload_gone = median(gone, arg_iterations);
}

/* ---- processes ---- */

/* Runs ARGV, returns the wall time from spawn to exit; its standard output in OUT. */
static double run_process(char *const argv[], char *out, size_t out_size) {
        posix_spawn_file_actions_t fa;
        int pipefd[2], status;
        size_t len = 0;
        double t0, t1;
        ssize_t n;
        pid_t pid;
        int r;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                die("pipe: %m");
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
        t0 = now_ms();
        r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        if (r != 0)
                die("cannot run %s: %s", argv[0], strerror(r));
        close(pipefd[1]);
        while ((n = read(pipefd[0], out + len, out_size - 1 - len)) > 0)
                len += n;
        out[len] = 0;
        if (waitpid(pid, &status, 0) < 0)
                die("waitpid: %m");
        t1 = now_ms();
        close(pipefd[0]);
        posix_spawn_file_actions_destroy(&fa);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                die("%s failed (status %d); it printed: %s", argv[0], status, out);
        return t1 - t0;
}

static void bench_processes(double *ret_bpfctl, double *ret_loader) {
        double bc[arg_iterations], ld[arg_iterations];
        char out[4096], path[4096];

        if (mkdir(arg_pin_dir, 0700) < 0 && errno != EEXIST)
                die("cannot create %s: %m", arg_pin_dir);
        for (unsigned i = 0; i < arg_iterations; i++) {
                char *bpfctl_argv[] = { (char *) arg_bpfctl, "--no-ask-password", "load", (char *) arg_object, "-p",
                                        PROG_NAME, "tracepoint", "--tracepoint", TP_CATEGORY "/" TP_NAME, NULL };
                char *loader_argv[] = { (char *) arg_loader, (char *) arg_object, PROG_NAME,
                                        TP_CATEGORY "/" TP_NAME, (char *) arg_pin_dir, NULL };
                const char *s;
                uint32_t id;

                bc[i] = run_process(bpfctl_argv, out, sizeof out);
                s = strstr(out, "Loaded program ");
                if (!s || sscanf(s, "Loaded program %" SCNu32, &id) != 1)
                        die("cannot find the program id in bpfctl's output: %s", out);
                track(id);
                unload_checked(id);

                ld[i] = run_process(loader_argv, out, sizeof out);
                snprintf(path, sizeof path, "%s/link", arg_pin_dir);
                if (unlink(path) < 0)
                        die("cannot unpin %s: %m", path);
                snprintf(path, sizeof path, "%s/prog", arg_pin_dir);
                if (unlink(path) < 0)
                        die("cannot unpin %s: %m", path);
        }
        (void) rmdir(arg_pin_dir);
        *ret_bpfctl = median(bc, arg_iterations);
        *ret_loader = median(ld, arg_iterations);
}

/* ---- list latency and memory ---- */

static double bench_list(void) {
        double t[arg_iterations];

        for (unsigned i = 0; i < arg_iterations; i++) {
                sd_bus_message *reply = NULL;
                sd_bus_error e = SD_BUS_ERROR_NULL;
                double t0 = now_ms();
                int r = sd_bus_call_method(bus, "org.bpfd", "/org/bpfd/Manager", "org.bpfd.Manager", "ListPrograms",
                                           &e, &reply, "a{sv}", 0);
                t[i] = now_ms() - t0;
                if (r < 0)
                        die("ListPrograms failed: %s", e.message ?: strerror(-r));
                sd_bus_message_unref(reply);
        }
        return median(t, arg_iterations);
}

/* One bus round trip to bpfd and back through the same bus daemon: org.freedesktop.DBus.Peer.Ping, which
 * sd-bus answers in bpfd's event loop. */
static double bench_ping(void) {
        double t[arg_iterations];

        for (unsigned i = 0; i < arg_iterations; i++) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                double t0 = now_ms();
                int r = sd_bus_call_method(bus, "org.bpfd", "/org/bpfd/Manager", "org.freedesktop.DBus.Peer", "Ping",
                                           &e, NULL, NULL);
                t[i] = now_ms() - t0;
                if (r < 0)
                        die("Ping failed: %s", e.message ?: strerror(-r));
        }
        return median(t, arg_iterations);
}

static double bench_managed_objects(void) {
        double t[arg_iterations];

        for (unsigned i = 0; i < arg_iterations; i++) {
                sd_bus_message *reply = NULL;
                sd_bus_error e = SD_BUS_ERROR_NULL;
                double t0 = now_ms();
                int r = sd_bus_call_method(bus, "org.bpfd", "/org/bpfd/Manager", "org.freedesktop.DBus.ObjectManager",
                                           "GetManagedObjects", &e, &reply, NULL);
                t[i] = now_ms() - t0;
                if (r < 0)
                        die("GetManagedObjects failed: %s", e.message ?: strerror(-r));
                sd_bus_message_unref(reply);
        }
        return median(t, arg_iterations);
}

/* A line of bpfd's /proc/PID/status, in KiB ("VmRSS", "RssAnon", "RssFile"). */
static unsigned long daemon_status_kib(const char *field) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        char path[64], line[256];
        unsigned long kib = 0;
        uint32_t pid;
        FILE *f;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "GetConnectionUnixProcessID", &e, &reply, "s", "org.bpfd");
        if (r < 0 || sd_bus_message_read(reply, "u", &pid) < 0)
                die("cannot find bpfd's pid: %s", e.message ?: strerror(-r));
        sd_bus_message_unref(reply);
        snprintf(path, sizeof path, "/proc/%" PRIu32 "/status", pid);
        f = fopen(path, "re");
        if (!f)
                die("cannot open %s: %m", path);
        while (fgets(line, sizeof line, f))
                if (strncmp(line, field, strlen(field)) == 0 && line[strlen(field)] == ':' &&
                    sscanf(line + strlen(field) + 1, "%lu kB", &kib) == 1)
                        break;
        fclose(f);
        return kib;
}

static unsigned long daemon_rss_kib(void) {
        return daemon_status_kib("VmRSS");
}

static void on_signal(int sig) {
        /* Interrupted: unload what is loaded (not async-signal-safe, but the process ends anyway). */
        signal(sig, SIG_DFL);
        cleanup();
        raise(sig);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "object", required_argument, NULL, 'o' },
                { "bpfctl", required_argument, NULL, 'b' },
                { "loader", required_argument, NULL, 'l' },
                { "pin-dir", required_argument, NULL, 'd' },
                { "iterations", required_argument, NULL, 'n' },
                { "list-programs", required_argument, NULL, 'L' },
                {}
        };
        double libbpf_la, libbpf_un, bus_la, bus_la_after, bus_un, bus_gone, bpfctl_p, loader_p, ping, list_t[3] = {};
        const unsigned list_points[] = { 1, 100, 1000 };
        unsigned long idle_rss, idle_anon, rss_max = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'o': arg_object = optarg; break;
                case 'b': arg_bpfctl = optarg; break;
                case 'l': arg_loader = optarg; break;
                case 'd': arg_pin_dir = optarg; break;
                case 'n': arg_iterations = strtoul(optarg, NULL, 10); break;
                case 'L': arg_list_max = strtoul(optarg, NULL, 10); break;
                default: return 2;
                }
        if (!arg_object || !arg_bpfctl || !arg_loader || arg_iterations == 0) {
                fprintf(stderr, "usage: bench-lifecycle --object OBJ --bpfctl BPFCTL --loader LOADER "
                                "[--pin-dir DIR] [--iterations N] [--list-programs N]\n");
                return 2;
        }
        libbpf_set_print(libbpf_quiet);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);

        r = sd_bus_open_system(&bus);
        if (r < 0)
                die("cannot connect to the system bus: %s", strerror(-r));

        idle_rss = daemon_rss_kib();
        idle_anon = daemon_status_kib("RssAnon");
        printf("iterations: %u\n", arg_iterations);

        bench_libbpf(&libbpf_la, &libbpf_un);
        figure("libbpf_load_attach_ms", "%.3f", libbpf_la);
        figure("libbpf_detach_unload_ms", "%.3f", libbpf_un);

        bench_bus_loads(&bus_la);
        bench_bus(&bus_la_after, &bus_un, &bus_gone);
        figure("bus_load_attach_ms", "%.3f", bus_la);
        figure("bus_load_attach_after_unload_ms", "%.3f", bus_la_after);
        /* Unload replies once the pins are gone; the kernel then detaches and frees asynchronously. */
        figure("bus_unload_ms", "%.3f", bus_un);
        figure("bus_unload_until_gone_ms", "%.3f", bus_gone);
        figure("bus_vs_libbpf_load_attach_ratio", "%.3f", bus_la / libbpf_la);
        /* The floor of a bus load: libbpf's own work plus one round trip through the bus daemon. */
        ping = bench_ping();
        figure("bus_ping_ms", "%.3f", ping);
        figure("bus_load_attach_beyond_floor_ms", "%.3f", bus_la - libbpf_la - ping);
        figure("bus_vs_libbpf_plus_ping_ratio", "%.3f", bus_la / (libbpf_la + ping));
        figure("bus_vs_libbpf_unload_ratio", "%.4f", bus_un / libbpf_un);
        figure("bus_vs_libbpf_unload_until_gone_ratio", "%.3f", bus_gone / libbpf_un);

        bench_processes(&bpfctl_p, &loader_p);
        figure("bpfctl_load_attach_process_ms", "%.3f", bpfctl_p);
        figure("loader_process_ms", "%.3f", loader_p);
        figure("bpfctl_vs_loader_process_ratio", "%.3f", bpfctl_p / loader_p);

        for (size_t k = 0; k < sizeof list_points / sizeof list_points[0]; k++) {
                unsigned want = list_points[k] < arg_list_max ? list_points[k] : arg_list_max;
                char name[64];
                double t0 = now_ms(), t;

                while (n_loaded < want) {
                        uint32_t id;
                        bus_load_attached_somewhere(&id);
                }
                if (k == 2)
                        figure("load_1000_total_s", "%.2f", (now_ms() - t0) / 1e3);
                t = bench_list();
                list_t[k] = t;
                snprintf(name, sizeof name, "list_%u_ms", list_points[k]);
                figure(name, "%.3f", t);
                if (k == 2) {
                        figure("managed_objects_1000_ms", "%.3f", bench_managed_objects());
                        rss_max = daemon_rss_kib();
                }
        }
        figure("list_1000_vs_100_ratio", "%.3f", list_t[2] / list_t[1]);
        figure("idle_rss_kib", "%.0f", (double) idle_rss);
        figure("rss_1000_programs_kib", "%.0f", (double) rss_max);

        cleanup();
        /* bpfd gives memory back once it has been idle half a second. */
        usleep(1500 * 1000);
        figure("rss_after_unload_kib", "%.0f", (double) daemon_rss_kib());
        /* The heap alone: library pages that the loads touched count in RSS but are shared and not bpfd's. */
        figure("idle_rss_anon_kib", "%.0f", (double) idle_anon);
        figure("rss_anon_after_unload_kib", "%.0f", (double) daemon_status_kib("RssAnon"));
        sd_bus_flush_close_unref(bus);
        return 0;
}
