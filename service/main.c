/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <bpf/libbpf.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <systemd/sd-daemon.h>

#include "bus-spec.h"
#include "caller.h"
#include "caps.h"
#include "image-puller.h"
#include "config.h"
#include "log.h"
#include "deferred.h"
#include "interface-watch.h"
#include "manager-object.h"
#include "credentials.h"
#include "shutdown.h"
#include "view.h"
#include "stats.h"
#include "netns.h"
#include "tc-dispatcher.h"
#include "xdp-chain.h"
#include "engine-interfaces.h"

static const char *arg_runtime_dir = "/run/bpfd";
static uint64_t arg_exit_idle_usec = 0;
static bool arg_debug = false;
static LogTarget arg_log_target = LOG_TARGET_AUTO;
static const char *arg_spec_dir = BPFD_DEFAULT_SPEC_DIR;
static const char *arg_image_cache = NULL, *arg_image_config = NULL, *arg_image_auth = NULL;
static uint64_t arg_image_cache_max = 0;
static const char *arg_image_user = NULL;

static void help(void) {
        printf("Usage: bpfd [OPTIONS]\n\n"
               "The BPF program manager: loads, attaches, lists and unloads BPF programs for the users of this\n"
               "machine over the D-Bus system bus (org.bpfd), with polkit deciding who may.\n\n"
               "Options:\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "     --runtime-dir=DIR      Where bpfd keeps its bpffs (DIR/fs) and state (DIR/state);\n"
               "                            default /run/bpfd. Both must vanish together at reboot.\n"
               "     --exit-idle-time=SECS  Exit after SECS without requests (for bus activation). Loaded\n"
               "                            programs stay: they are pinned and outlive the daemon.\n"
               "     --image-cache=DIR      Where pulled bytecode images are kept (default /var/cache/bpfd/images)\n"
               "     --image-config=FILE    Registries: insecure, signatures required, keys, CA\n"
               "                            (default /etc/bpfd/registries.conf)\n"
               "     --image-auth=FILE      Registry credentials, container auth format\n"
               "                            (default /etc/bpfd/auth.json)\n"
               "     --image-cache-max=BYTES  Bound of the image cache (default 1 GiB; least recently used go first)\n"
               "     --image-user=USER      The image puller's user, owner of the cache (default nobody)\n"
               "     --open-timeout=SECS    How long a file a caller names may take to open (default 10); only\n"
               "                            that caller's request waits for it\n"
               "     --log-target=TARGET    auto, stderr, syslog or journal (default auto: the journal when\n"
               "                            started by systemd, syslog when standard error is /dev/null,\n"
               "                            standard error otherwise)\n"
               "     --spec-dir=DIR         Apply the specs DIR/*.conf at start and on SIGHUP (default\n"
               "                            /etc/bpfd/programs.d; empty: none)\n"
               "     --debug                Log debug messages\n\n"
               "See bpfd(8).\n");
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_RUNTIME_DIR, ARG_EXIT_IDLE, ARG_DEBUG, ARG_IMAGE_CACHE, ARG_IMAGE_CONFIG,
               ARG_IMAGE_AUTH, ARG_LOG_TARGET, ARG_SPEC_DIR, ARG_IMAGE_CACHE_MAX, ARG_IMAGE_USER,
               ARG_OPEN_TIMEOUT };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "runtime-dir", required_argument, NULL, ARG_RUNTIME_DIR },
                { "exit-idle-time", required_argument, NULL, ARG_EXIT_IDLE },
                { "debug", no_argument, NULL, ARG_DEBUG },
                { "log-target", required_argument, NULL, ARG_LOG_TARGET },
                { "image-cache", required_argument, NULL, ARG_IMAGE_CACHE },
                { "image-config", required_argument, NULL, ARG_IMAGE_CONFIG },
                { "image-auth", required_argument, NULL, ARG_IMAGE_AUTH },
                { "spec-dir", required_argument, NULL, ARG_SPEC_DIR },
                { "image-cache-max", required_argument, NULL, ARG_IMAGE_CACHE_MAX },
                { "image-user", required_argument, NULL, ARG_IMAGE_USER },
                { "open-timeout", required_argument, NULL, ARG_OPEN_TIMEOUT },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("bpfd %s (libbpf %s)\n", BPFD_VERSION, libbpf_version_string());
                        return 0;
                case ARG_RUNTIME_DIR:
                        if (optarg[0] != '/') {
                                fprintf(stderr, "bpfd: --runtime-dir needs an absolute path.\n");
                                return -EINVAL;
                        }
                        arg_runtime_dir = optarg;
                        break;
                case ARG_OPEN_TIMEOUT: {
                        char *end;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (*end || *optarg == '-' || v == 0 || v > 86400) {
                                fprintf(stderr, "bpfd: --open-timeout needs a number of seconds from 1 to 86400.\n");
                                return -EINVAL;
                        }
                        open_as_caller_timeout_sec = (unsigned) v;
                        break;
                }
                case ARG_EXIT_IDLE: {
                        char *end;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (*end || v == 0) {
                                fprintf(stderr, "bpfd: --exit-idle-time needs a positive number of seconds.\n");
                                return -EINVAL;
                        }
                        arg_exit_idle_usec = (uint64_t) v * 1000000ULL;
                        break;
                }
                case ARG_DEBUG:
                        arg_debug = true;
                        break;
                case ARG_LOG_TARGET:
                        arg_log_target = log_target_from_string(optarg);
                        if (arg_log_target == _LOG_TARGET_INVALID) {
                                fprintf(stderr, "bpfd: --log-target is one of auto, stderr, syslog, journal.\n");
                                return -EINVAL;
                        }
                        break;
                case ARG_IMAGE_CACHE:
                        arg_image_cache = optarg;
                        break;
                case ARG_IMAGE_CONFIG:
                        arg_image_config = optarg;
                        break;
                case ARG_IMAGE_USER:
                        arg_image_user = optarg;
                        break;
                case ARG_IMAGE_CACHE_MAX: {
                        char *end = NULL;
                        errno = 0;
                        arg_image_cache_max = strtoull(optarg, &end, 10);
                        if (errno || !end || *end || *optarg == '-' || arg_image_cache_max == 0) {
                                log_error("--image-cache-max: '%s' is not a number of bytes", optarg);
                                return -EINVAL;
                        }
                        break;
                }
                case ARG_IMAGE_AUTH:
                        arg_image_auth = optarg;
                        break;
                case ARG_SPEC_DIR:
                        if (optarg[0] && optarg[0] != '/') {
                                fprintf(stderr, "bpfd: --spec-dir needs an absolute path (or nothing).\n");
                                return -EINVAL;
                        }
                        arg_spec_dir = optarg;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                fprintf(stderr, "bpfd: takes no arguments.\n");
                return -EINVAL;
        }
        return 1;
}

/* bpfd pins on a bpffs of its own, so its pins cannot collide with anyone else's, and a reboot (or a fresh
 * mount) empties pins and records alike. Under systemd, run-bpfd-fs.mount provides it in the host namespace. */
static int setup_runtime_dir(void) {
        _cleanup_free_ char *fs = NULL;
        struct statfs sfs;

        if (mkdir(arg_runtime_dir, 0755) < 0 && errno != EEXIST)
                return log_error_errno(-errno, "Cannot create %s: %m", arg_runtime_dir);
        if (asprintf(&fs, "%s/fs", arg_runtime_dir) < 0)
                return -ENOMEM;
        if (mkdir(fs, 0755) < 0 && errno != EEXIST)
                return log_error_errno(-errno, "Cannot create %s: %m", fs);
        if (statfs(fs, &sfs) < 0)
                return log_error_errno(-errno, "Cannot stat %s: %m", fs);
        if (sfs.f_type == BPF_FS_MAGIC)
                return 0;
        if (mount("bpffs", fs, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") < 0)
                return log_error_errno(-errno, "Cannot mount bpffs on %s: %m", fs);
        log_info("Mounted a bpffs for bpfd on %s.", fs);
        return 0;
}

static void raise_nofile(void) {
        struct rlimit rl;
        /* One descriptor per managed program is held open. */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
        rl = (struct rlimit) { RLIM_INFINITY, RLIM_INFINITY };
        (void) setrlimit(RLIMIT_MEMLOCK, &rl); /* only matters on kernels before 5.11 */
}

/* The startup job: probe the kernel and rebuild the view from pins and records, before the name is taken,
 * so no client ever sees a half-recovered daemon. */
typedef struct StartupJob {
        Job job;
        Manager *m;
        int r;
        EngineChanges *recovered; /* every program and link recovered, as changes of the engine's records */
        InterfaceInfo **interfaces;
        size_t n_interfaces;
} StartupJob;

static void startup_run(Job *j, Engine *e) {
        StartupJob *s = (StartupJob *) j;

        engine_probe(e, s->m->supported);
        s->r = engine_recover(e);
        if (s->r >= 0)
                manager_specs_recover(s->m, e); /* applies a crash interrupted: back or forward */
        if (s->r >= 0) {
                _cleanup_free_ uint32_t *gone = NULL;
                size_t n_gone = 0;
                /* Links on interfaces that vanished while bpfd was away go before the view is built. */
                s->r = engine_scan_interfaces(e, &s->interfaces, &s->n_interfaces, &gone, &n_gone);
        }
        /* Taken here rather than handed over after done: the view is built before the objects exist, with no
         * signals, like everything the view shows at start. */
        s->recovered = engine_take_changes(e);
}

static int on_name_acquired(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        Manager *m = userdata;

        if (e) {
                log_error("Cannot own the name org.bpfd: %s", e->message);
                return sd_event_exit(m->event, 1);
        }
        (void) sd_notify(false, "READY=1\nSTATUS=Serving org.bpfd.");
        log_info("bpfd %s ready on the system bus as org.bpfd.", BPFD_VERSION);
        return 0;
}

static void startup_done(Job *j) {
        StartupJob *s = (StartupJob *) j;
        Manager *m = s->m;
        int r = s->r;

        if (r >= 0) {
                view_apply_changes(TAKE_PTR(s->recovered), m);
                view_apply_interfaces(m, s->interfaces, s->n_interfaces, true, NULL, 0);
                r = manager_add_bus_objects(m);
                /* From here on every change of the view is announced. */
                view_start_announcing(m);
        }
        if (r >= 0)
                r = manager_specs_start(m);
        if (r >= 0) {
                if (manager_watch_interfaces(m) < 0)
                        log_warning("Cannot watch network interfaces; interface objects follow bpfd's own changes only.");
        }
        if (r >= 0)
                r = sd_bus_request_name_async(m->bus, NULL, "org.bpfd", 0, on_name_acquired, m);
        /* What probing and recovery allocated on the way (vmlinux BTF, libbpf objects) goes back. */
        manager_trim_later(m);
        engine_changes_free(s->recovered);
        free(s->interfaces);
        free(s);
        if (r < 0) {
                log_error_errno(r, "Startup failed: %m");
                (void) sd_event_exit(m->event, 1);
        }
}

/* systemctl reload bpfd: the spec directory is applied again (once bpfd is up; before, start does it). */
static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        manager_specs_reload(m);
        return 0;
}

/* The image puller is gone (killed): a new one needs the privileges this process dropped, so bpfd ends as
 * soon as nothing is in flight, with a failure for its manager (systemd's Restart=, or bus activation on
 * the next call) to start a fresh one. Loaded programs stay, as with any restart. */
static int on_restart_check(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        if (m->requests_in_flight == 0 && worker_pending(m->worker) == 0)
                return sd_event_exit(m->event, 1);
        (void) sd_event_source_set_time_relative(s, 100 * 1000);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static void on_image_puller_lost(void *userdata) {
        Manager *m = userdata;

        log_error("The image puller ended; bpfd exits when idle so that it is started again with a new one.");
        if (sd_event_add_time_relative(m->event, NULL, CLOCK_MONOTONIC, 0, 0, on_restart_check, m) < 0)
                (void) sd_event_exit(m->event, 1);
}

static void manager_done(Manager *m) {
        m->worker = worker_stop(m->worker);
        manager_deferred_done(m);
        sd_event_source_disable_unref(m->idle_timer);
        sd_event_source_disable_unref(m->stop_post);
        sd_event_source_disable_unref(m->stop_timer);
        interfaces_lists_done(m);
        view_done(m);
        if (m->callers)
                g_hash_table_unref(m->callers);
        if (m->scan_keys)
                g_array_unref(m->scan_keys);
        sd_event_source_disable_unref(m->netlink_source);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        engine_free(m->engine);
        spec_manager_free(m->specs);
}

int main(int argc, char *argv[]) {
        _cleanup_(manager_done) Manager m = {};
        StartupJob *startup;
        sigset_t mask;
        int r;

        /* Memory that bulk unloads free must go back to the system (manager_trim_later()): GLib 2.74's slice
         * allocator keeps it in per-thread magazines for good, and glibc's per-thread caches (tcache) hold
         * freed chunks that malloc_trim() cannot touch and that pin the pages around them (after 1000 loads and
         * unloads: 1.2 MiB of heap more than at start with them, 0.06 MiB without). Both settings are read
         * before main() (GLib's constructor already allocates): unless the environment has them (bpfd.service
         * sets them), bpfd executes itself once more with them. */
        if (!getenv("G_SLICE")) {
                char self[PATH_MAX];
                ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

                (void) setenv("G_SLICE", "always-malloc", 1);
                (void) setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0", 0);
                /* By its path, not /proc/self/exe: the process is named after what it executes ("bpfd"). If
                 * that fails (the binary was replaced), bpfd runs with the caches. */
                if (n > 0) {
                        self[n] = 0;
                        (void) execv(self, argv);
                }
        }
        /* bpfd has the capabilities itself: no BPF token (libbpf >= 1.4 would otherwise try to make one from
         * /sys/fs/bpf for every object it opens, here and in libxdp). */
        (void) setenv("LIBBPF_BPF_TOKEN_PATH", "", 0);
        /* Block the signals first: sd-event gets them once the loop runs (a SIGHUP or a SIGTERM while bpfd
         * starts waits for it instead of killing bpfd by its default action), and every thread inherits the
         * mask. Children that execute something (the image puller) unblock them again. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &mask, NULL);

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        log_setup(arg_log_target, arg_debug);
        if (geteuid() != 0) {
                log_error("bpfd must be started as root; it keeps capabilities on one thread only.");
                return 1;
        }
        raise_nofile();
        r = setup_runtime_dir();
        if (r < 0)
                return 1;

        m.idle_exit_usec = arg_exit_idle_usec;
        view_init(&m);
        m.scan_keys = g_array_new(FALSE, FALSE, sizeof(InterfaceKey));
        (void) netns_current_inode(&m.netns_ino);
        r = engine_new(arg_runtime_dir, &m.engine);
        if (r < 0)
                return log_error_errno(r, "Cannot set up: %m"), 1;
        r = spec_manager_new(&m, arg_runtime_dir, arg_spec_dir, &m.specs);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the spec records: %m"), 1;
        /* The image puller is a process of its own user, started while nothing else runs (see image-puller.h). */
        r = image_puller_start(arg_image_cache, arg_image_config, arg_image_auth, arg_image_cache_max, arg_image_user);
        if (r < 0)
                log_warning_errno(r, "Cannot start the image puller, images will not be offered: %m");

        /* libxdp pins its dispatchers on bpfd's bpffs; it reads that from the environment, so before threads. */
        r = xdp_chain_init(engine_bpffs_path(m.engine));
        if (r < 0)
                log_warning_errno(r, "Cannot set up libxdp on %s, XDP will not be offered: %m", engine_bpffs_path(m.engine));
        m.xdp_ready = r >= 0;
        /* bpfd's own TC dispatcher program; the tests point at the build tree. */
        r = tc_dispatcher_init(getenv("BPFD_TC_DISPATCHER") ?: BPFD_TC_DISPATCHER_OBJECT);
        if (r < 0)
                log_warning_errno(r, "Cannot find the TC dispatcher object, tc will not be offered: %m");

        r = worker_start(m.engine, &m.worker);
        if (r < 0)
                return 1;
        /* From here on this thread, which parses every request, has no capabilities at all. */
        r = caps_reduce_thread(NULL, 0);
        if (r < 0)
                return log_error_errno(r, "Cannot drop capabilities: %m"), 1;

        r = sd_event_default(&m.event);
        if (r < 0)
                return log_error_errno(r, "Cannot create the event loop: %m"), 1;
        (void) sd_event_add_signal(m.event, NULL, SIGHUP, on_sighup, &m);
        r = worker_attach_event(m.worker, m.event);
        if (r < 0)
                return log_error_errno(r, "Cannot watch the worker: %m"), 1;
        /* Every job's changes of the engine's records, into the bus view (view.h). */
        worker_set_changes_handler(m.worker, view_apply_changes, &m);
        r = sd_bus_open_system(&m.bus);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the system bus: %m"), 1;
        r = sd_bus_attach_event(m.bus, m.event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot attach the bus to the event loop: %m"), 1;
        r = manager_watch_callers(&m);
        if (r < 0)
                return log_error_errno(r, "Cannot watch bus clients: %m"), 1;
        r = image_puller_watch(m.event, on_image_puller_lost, &m);
        if (r < 0)
                return log_error_errno(r, "Cannot watch the image puller: %m"), 1;
        r = manager_watch_stop_signals(&m);
        if (r < 0)
                return log_error_errno(r, "Cannot watch for SIGTERM: %m"), 1;

        startup = calloc(1, sizeof(StartupJob));
        if (!startup)
                return 1;
        *startup = (StartupJob) { .job = { .run = startup_run, .done = startup_done }, .m = &m };
        worker_submit(m.worker, &startup->job);
        manager_note_activity(&m);

        r = sd_event_loop(m.event);
        (void) sd_notify(false, "STOPPING=1");
        log_info("Exiting; %u program(s) stay loaded and pinned.", g_hash_table_size(m.programs));
        return r < 0 ? 1 : r;
}
