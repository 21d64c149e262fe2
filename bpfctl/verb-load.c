/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bpfctl load: Manager.LoadFromFd / LoadFromPath; bpfctl load image: Manager.LoadFromImage. */

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "bpfctl.h"
#include "verb-load.h"
#include "json.h"
#include "load-options.h"
#include "manager.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

static void help_load(void) {
        printf("Usage: %1$s load FILE [OPTIONS] [KIND [KIND OPTIONS]]\n"
               "       %1$s load image REFERENCE [--pull-policy POLICY] [OPTIONS]\n"
               "            [KIND [KIND OPTIONS]]\n"
               "\n"
               "Load BPF programs from the ELF object FILE, or from the OCI bytecode image\n"
               "REFERENCE (REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]), and, if a KIND is\n"
               "given, attach one of them (load and attach are all or nothing). Prints one\n"
               "line per program, \"Loaded program ID NAME (KIND)\", and per link, \"Attached\n"
               "link ID: ATTACH POINT\"; with --json {\"programs\":[...],\"links\":[...]}.\n"
               "\n"
               "bpfd pulls the image into its cache as --pull-policy says, checks every blob\n"
               "against its digest and the image's cosign signature against the keys its\n"
               "administrator configured for the registry. Without --program the image's\n"
               "labels name the programs. A FILE named \"image\" is given as ./image.\n"
               "\n"
               "Options:\n"
               "  -p, --program NAME        Load the BPF function NAME (repeatable; default:\n"
               "                            the only program in FILE, or those the image's\n"
               "                            labels name)\n"
               "  -g, --global NAME=VALUE   Set global variable NAME; VALUE is hex bytes\n"
               "                            (0a0b0c0d, 0x0a0b0c0d) or TYPE:NUMBER with TYPE\n"
               "                            u8 u16 u32 u64 i8 i16 i32 i64 (host byte order)\n"
               "  -m, --metadata KEY=VALUE  Store KEY=VALUE with the programs (repeatable)\n"
               "      --map-owner-id ID     Share the maps of the loaded program ID: maps of\n"
               "                            the same name are that program's maps\n"
               "      --by-path             Let bpfd open FILE (made absolute) as you, instead\n"
               "                            of passing the file opened by %1$s\n"
               PULL_POLICY_HELP
               "      --attach-program NAME With several --program: the one to attach at KIND\n"
               COMMON_OPTIONS_HELP
               "\n"
               "Kinds and their options:\n"
               ATTACH_TARGET_HELP
               "\n"
               "Examples:\n"
               "  %1$s load trace.bpf.o tracepoint --tracepoint sched/sched_switch\n"
               "  %1$s load --by-path probes.bpf.o -p on_malloc -p on_free -g verbose=u8:1 \\\n"
               "      uprobe --target /usr/lib/x86_64-linux-gnu/libc.so.6 --fn malloc \\\n"
               "      --attach-program on_malloc\n"
               "  %1$s load image quay.io/bpfman-bytecode/go-tracepoint-counter:latest \\\n"
               "      tracepoint --tracepoint syscalls/sys_enter_kill\n"
               "  %1$s load image registry.example.com/bpf/counter:v1 --pull-policy Never \\\n"
               "      -p count_getpid --map-owner-id 42 tracepoint\n"
               "\n"
               "Exit status 4 if the image is not in the registry (ImageNotFound) or, with\n"
               "--pull-policy Never, not in the cache (ImageNotCached); 5 for an image that\n"
               "fails its digest or signature check or is no bytecode image; 7 if the\n"
               "registry is unreachable; 3 if it refused the credentials.\n",
               PROGRAM_NAME);
}

enum {
        ARG_BY_PATH = ARG_COMMAND_FIRST,
        ARG_ATTACH_PROGRAM,
        ARG_MAP_OWNER_ID,
        ARG_PULL_POLICY,
};

typedef struct LoadArguments {
        const char *file;
        const char *image; /* "load image REFERENCE"; file is then NULL */
        bool by_path;
        LoadOptions options;
} LoadArguments;

/* Returns < 0 on a usage error (logged), 0 if done (help shown), > 0 to go on. */
static int parse_load_argv(int argc, char *argv[], LoadArguments *args) {
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "program",        required_argument, NULL, 'p'                },
                { "global",         required_argument, NULL, 'g'                },
                { "metadata",       required_argument, NULL, 'm'                },
                { "by-path",        no_argument,       NULL, ARG_BY_PATH        },
                { "attach-program", required_argument, NULL, ARG_ATTACH_PROGRAM },
                { "map-owner-id",   required_argument, NULL, ARG_MAP_OWNER_ID   },
                { "pull-policy",    required_argument, NULL, ARG_PULL_POLICY    },
                ATTACH_TARGET_OPTIONS,
                {}
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "hqp:g:m:", options, NULL)) >= 0) {
                if (parse_common_option(c))
                        continue;
                switch (c) {
                case 'h':
                        help_load();
                        return 0;
                case 'p':
                        r = load_options_add_program(&args->options, optarg);
                        break;
                case 'g':
                        r = load_options_add_global(&args->options, optarg);
                        break;
                case 'm':
                        r = load_options_add_metadata(&args->options, optarg);
                        break;
                case ARG_BY_PATH:
                        args->by_path = true;
                        r = 0;
                        break;
                case ARG_ATTACH_PROGRAM:
                        if (isempty(optarg)) {
                                log_error("--attach-program needs a function name");
                                return -EINVAL;
                        }
                        free(args->options.attach_program);
                        args->options.attach_program = strdup(optarg);
                        r = args->options.attach_program ? 0 : log_oom();
                        break;
                case ARG_MAP_OWNER_ID:
                        r = load_options_set_map_owner_id(&args->options, optarg);
                        break;
                case ARG_PULL_POLICY:
                        r = load_options_set_pull_policy(&args->options, optarg);
                        break;
                default:
                        if (!attach_target_is_option(c))
                                return -EINVAL; /* getopt said what */
                        r = attach_target_parse_option(&args->options.target, c, optarg);
                }
                if (r < 0)
                        return r;
        }

        /* getopt moved FILE (or "image" REFERENCE) and KIND behind the options. */
        if (optind >= argc) {
                log_error("load needs a FILE, or image REFERENCE");
                return -EINVAL;
        }
        if (streq(argv[optind], "image")) {
                optind++;
                if (optind >= argc || isempty(argv[optind])) {
                        log_error("load image needs an image REFERENCE");
                        return -EINVAL;
                }
                args->image = argv[optind++];
                if (args->by_path) {
                        log_error("--by-path is for loading a FILE, not an image");
                        return -EINVAL;
                }
        } else {
                args->file = argv[optind++];
                if (args->options.pull_policy) {
                        log_error("--pull-policy is an option of 'load image'");
                        return -EINVAL;
                }
        }

        if (optind < argc) {
                r = attach_target_set_kind(&args->options.target, argv[optind++]);
                if (r < 0)
                        return r;
        }

        if (optind < argc) {
                log_error("unexpected argument '%s'", argv[optind]);
                return -EINVAL;
        }

        r = load_options_verify(&args->options);
        if (r < 0)
                return r;

        return 1;
}

/* O_NONBLOCK keeps a FIFO from hanging us; only regular files are sent. */
static int open_object_file(const char *path, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int flags;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;

        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
                return -errno;

        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int ids_of_paths(char **paths, uint32_t **ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_free_ uint32_t *ids = calloc(strv_length(paths) + 1, sizeof(uint32_t));
        size_t n = 0;

        if (!ids)
                return -ENOMEM;
        for (char **p = paths; p && *p; p++)
                if (object_path_to_id(*p, &ids[n++]) < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INCONSISTENT_MESSAGE,
                                                 "bpfd returned the object path '%s', which ends in no id", *p);
        *ret = TAKE_PTR(ids);
        *ret_n = n;
        return 0;
}

/* Fetches the dictionaries behind the object paths: GetProgram and GetLink by the ids they end in, all
 * in one round trip. */
static int get_objects(sd_bus *bus, char **program_paths, char **link_paths, sd_bus_error *error,
                       BusValue **ret_programs, BusValue **ret_links) {
        _cleanup_free_ uint32_t *pids = NULL, *lids = NULL;
        size_t np = 0, nl = 0;
        int r;

        r = ids_of_paths(program_paths, &pids, &np, error);
        if (r >= 0)
                r = ids_of_paths(link_paths, &lids, &nl, error);
        if (r < 0)
                return r;
        return bpfd_get_programs_and_links(bus, pids, np, lids, nl, error, ret_programs, ret_links);
}

static void print_loaded(const BusValue *programs, const BusValue *links) {
        for (size_t i = 0; i < bus_value_count(programs); i++) {
                const BusValue *p = bus_value_item(programs, i);
                uint64_t id = 0;

                (void) bus_value_dict_get_uint(p, "id", &id);
                confirm("Loaded program %" PRIu64 " %s (%s)", id,
                       strempty_dash(bus_value_dict_get_string(p, "name")),
                       strempty_dash(bus_value_dict_get_string(p, "kind")));
        }

        for (size_t i = 0; i < bus_value_count(links); i++) {
                const BusValue *l = bus_value_item(links, i);
                uint64_t id = 0;

                (void) bus_value_dict_get_uint(l, "id", &id);
                confirm("Attached link %" PRIu64 ": %s", id,
                       strempty_dash(bus_value_dict_get_string(l, "attach_point")));
        }
}

static int print_loaded_json(BusValue **programs, BusValue **links) {
        _cleanup_bus_value_ BusValue *root = NULL;
        int r;

        r = bus_value_new_container('a', "a{sv}", &root);
        if (r < 0)
                return r;
        r = bus_value_dict_append(root, "programs", TAKE_PTR(*programs));
        if (r < 0)
                return r;
        r = bus_value_dict_append(root, "links", TAKE_PTR(*links));
        if (r < 0)
                return r;

        json_print(stdout, root);
        return 0;
}

/* bpfd names its bus keys ('programs', 'program'); a person at the shell wants the options that set them. */
static int log_load_error(sd_bus_error *error, int r) {
        static const struct {
                const char *bus, *cli;
        } hints[] = {
                { "name the ones to load in 'programs'.", "name the ones to load with -p/--program NAME." },
                { "name the one each attach target is for with 'program'.",
                  "name the one to attach with --attach-program NAME." },
        };
        _cleanup_free_ char *message = NULL;

        for (size_t i = 0; error && error->message && i < ELEMENTSOF(hints); i++) {
                const char *at = strstr(error->message, hints[i].bus);
                if (!at || asprintf(&message, "%.*s%s%s", (int) (at - error->message), error->message, hints[i].cli,
                                    at + strlen(hints[i].bus)) < 0)
                        continue;
                sd_bus_error e = SD_BUS_ERROR_NULL;
                (void) sd_bus_error_set(&e, error->name, message);
                r = log_bus_error(&e, r, "load failed");
                sd_bus_error_free(&e);
                return r;
        }
        return log_bus_error(error, r, "load failed");
}

static int run_load(LoadArguments *args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_bus_value_ BusValue *programs = NULL, *links = NULL;
        _cleanup_strv_free_ char **program_paths = NULL, **link_paths = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *method;
        int r;

        /* Everything local first: a typo in FILE should not wait for the bus. An image
         * REFERENCE is bpfd's to check. */
        if (args->by_path) {
                r = path_make_absolute_cwd(args->file, &path);
                if (r < 0) {
                        log_error("cannot make '%s' absolute: %s", args->file, strerror(-r));
                        return EXIT_STATUS_BAD_OBJECT;
                }
        } else if (args->file) {
                r = open_object_file(args->file, &fd);
                if (r == -EBADFD) {
                        log_error("cannot open %s: not a regular file", args->file);
                        return EXIT_STATUS_BAD_OBJECT;
                }
                if (r < 0) {
                        log_error("cannot open %s: %s", args->file, strerror(-r));
                        return EXIT_STATUS_BAD_OBJECT;
                }
        }

        r = connect_bpfd(&bus);
        if (r < 0)
                return EXIT_STATUS_UNREACHABLE;

        if (fd >= 0 && sd_bus_can_send(bus, SD_BUS_TYPE_UNIX_FD) <= 0) {
                log_error("this bus connection cannot pass file descriptors; use --by-path");
                return EXIT_STATUS_FAILURE;
        }

        method = args->image ? "LoadFromImage" : args->by_path ? "LoadFromPath" : "LoadFromFd";
        r = bpfd_new_method_call(bus, method, &m);
        if (r < 0)
                return log_bus_error(NULL, r, "cannot create the method call");

        if (args->image)
                r = sd_bus_message_append(m, "s", args->image);
        else
                r = args->by_path ? sd_bus_message_append(m, "s", path) : sd_bus_message_append(m, "h", fd);
        if (r >= 0)
                r = load_options_append(m, &args->options);
        if (r < 0)
                return log_bus_error(NULL, r, "cannot build the load options");

        r = bpfd_call(bus, m, true, &error, &reply);
        if (r < 0)
                return log_load_error(&error, r);

        r = sd_bus_message_read_strv(reply, &program_paths);
        if (r >= 0)
                r = sd_bus_message_read_strv(reply, &link_paths);
        if (r < 0)
                return log_bus_error(NULL, r, "cannot parse bpfd's reply");

        /* The load happened; what follows only describes it. */
        r = get_objects(bus, program_paths, link_paths, &error, &programs, &links);
        if (r < 0)
                return log_bus_error(&error, r, "cannot get the loaded programs");

        if (arg_json) {
                r = print_loaded_json(&programs, &links);
                if (r < 0)
                        return log_bus_error(NULL, r, "cannot print JSON");
        } else
                print_loaded(programs, links);

        return EXIT_STATUS_SUCCESS;
}

int verb_load(int argc, char *argv[]) {
        LoadArguments args = {};
        int r;

        r = parse_load_argv(argc, argv, &args);
        if (r <= 0) {
                load_options_done(&args.options);
                return exit_status_from_parse(r);
        }

        r = run_load(&args);
        load_options_done(&args.options);
        return r;
}
