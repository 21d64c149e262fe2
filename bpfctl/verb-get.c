/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bpfctl get [program|link] ID: Manager.GetProgram and GetLink; bpfctl get
 * interface NAME (and its short form bpfctl interface NAME): the entry of
 * Manager.ListInterfaces for NAME. */

#include "bpfctl.h"
#include "verb-get.h"
#include "format.h"
#include "interface.h"
#include "json.h"
#include "manager.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

#define INTERFACE_HELP                                                                  \
        "An interface is shown with its index and network namespace, then one block\n"  \
        "per hook (XDP with its mode, TC ingress, TC egress) listing the programs in\n" \
        "the order they run: POS, PROGRAM (id), NAME, MANAGED (whether bpfd attached\n" \
        "it), PRIORITY and LINK (\"-\" for programs bpfd did not attach). Without\n"   \
        "--netns, NAME is looked up in bpfd's own network namespace first, then in\n"   \
        "the others where bpfd attached programs. With --json, the object of\n"       \
        "'list interfaces --json' for NAME.\n"

#define INTERFACE_OPTIONS_HELP                                                          \
        "      --netns PATH          (interface) The interface in this network\n"        \
        "                            namespace, e.g. /run/netns/x or /proc/PID/ns/net\n"

static void help_get(void) {
        printf("Usage: %1$s get [program] ID\n"
               "       %1$s get link ID\n"
               "       %1$s get interface NAME [--netns PATH]\n"
               "\n"
               "Show every property of a program (any BPF program of the system; \"Managed\"\n"
               "says whether bpfd loaded it) or of a link. With --json, an object with the\n"
               "daemon's keys. A program loaded from an OCI image shows the image's\n"
               "reference and manifest digest as Image and Image digest.\n"
               "\n"
               INTERFACE_HELP
               "\n"
               "Options:\n"
               INTERFACE_OPTIONS_HELP
               COMMON_OPTIONS_HELP,
               PROGRAM_NAME);
}

static void help_interface(void) {
        printf("Usage: %1$s interface NAME [--netns PATH]\n"
               "\n"
               "The same as '%1$s get interface NAME': show the BPF programs on the\n"
               "network interface NAME.\n"
               "\n"
               INTERFACE_HELP
               "\n"
               "Options:\n"
               INTERFACE_OPTIONS_HELP
               COMMON_OPTIONS_HELP,
               PROGRAM_NAME);
}

enum {
        ARG_NETNS = ARG_COMMAND_FIRST,
};

typedef enum GetWhat {
        GET_PROGRAM,
        GET_LINK,
        GET_INTERFACE,
} GetWhat;

typedef struct GetArguments {
        GetWhat what;
        uint32_t id;       /* program, link */
        const char *name;  /* interface */
        const char *netns; /* interface; NULL: any namespace */
} GetArguments;

/* The order and labels of the known keys; other keys follow under their own name. */
static const Field program_fields[] = {
        { "id",            "ID",            FIELD_GENERIC    },
        { "name",          "Name",          FIELD_GENERIC    },
        { "kind",          "Kind",          FIELD_GENERIC    },
        { "kernel_type",   "Kernel type",   FIELD_GENERIC    },
        { "section",       "Section",       FIELD_GENERIC    },
        { "tag",           "Tag",           FIELD_GENERIC    },
        { "managed",       "Managed",       FIELD_GENERIC    },
        { "owner_uid",     "Owner",         FIELD_USER       },
        { "load_time",     "Loaded",        FIELD_TIME_USEC  },
        { "source",        "Source",        FIELD_GENERIC    },
        { "image_reference", "Image",       FIELD_GENERIC    },
        { "image_digest",  "Image digest",  FIELD_GENERIC    },
        { "load_group",    "Load group",    FIELD_GENERIC    },
        { "pin_path",      "Pin path",      FIELD_GENERIC    },
        { "links",         "Links",         FIELD_OBJECT_IDS },
        { "attach_points", "Attach points", FIELD_LINES      },
        { "map_ids",       "Map IDs",       FIELD_GENERIC    },
        { "maps",          "Maps",          FIELD_GENERIC    }, /* one "ID NAME PIN" per line */
        { "metadata",      "Metadata",      FIELD_GENERIC    }, /* one key=value per line */
        { "global_data",   "Global data",   FIELD_GENERIC    }, /* the names set at load */
        { "run_count",     "Run count",     FIELD_GENERIC    },
        { "run_time_ns",   "Run time",      FIELD_NSEC       },
        { "object_path",   "Object path",   FIELD_GENERIC    },
        { "map_group",     "Map group",     FIELD_GENERIC    },
        { "map_used_by",   "Map used by",   FIELD_GENERIC    },
};

static const Field link_fields[] = {
        { "id",            "ID",            FIELD_GENERIC    },
        { "program_id",    "Program ID",    FIELD_GENERIC    },
        { "program",       "Program",       FIELD_GENERIC    },
        { "kind",          "Kind",          FIELD_GENERIC    },
        { "managed",       "Managed",       FIELD_GENERIC    },
        { "attach_point",  "Attach point",  FIELD_GENERIC    },
        { "target",        "Target",        FIELD_GENERIC    }, /* one key=value per line */
        { "owner_uid",     "Owner",         FIELD_USER       },
        { "attach_time",   "Attached",      FIELD_TIME_USEC  },
        { "pin_path",      "Pin path",      FIELD_GENERIC    },
        { "object_path",   "Object path",   FIELD_GENERIC    },
};

/* With interface_only ("bpfctl interface"), there is no program|link|interface
 * word and the argument is a NAME. */
static int parse_get_argv(int argc, char *argv[], bool interface_only, GetArguments *args) {
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "netns", required_argument, NULL, ARG_NETNS },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "hq", options, NULL)) >= 0) {
                if (parse_common_option(c))
                        continue;
                switch (c) {
                case 'h':
                        if (interface_only)
                                help_interface();
                        else
                                help_get();
                        return 0;
                case ARG_NETNS:
                        args->netns = optarg;
                        break;
                default:
                        return -EINVAL; /* getopt said what */
                }
        }

        if (interface_only)
                args->what = GET_INTERFACE;
        else if (optind < argc && streq(argv[optind], "program")) {
                args->what = GET_PROGRAM;
                optind++;
        } else if (optind < argc && streq(argv[optind], "link")) {
                args->what = GET_LINK;
                optind++;
        } else if (optind < argc && streq(argv[optind], "interface")) {
                args->what = GET_INTERFACE;
                optind++;
        } else
                args->what = GET_PROGRAM;

        if (optind >= argc) {
                log_error(args->what == GET_INTERFACE ? "an interface NAME is needed" : "get needs an ID");
                return -EINVAL;
        }
        if (argc - optind > 1) {
                log_error("unexpected argument '%s'", argv[optind + 1]);
                return -EINVAL;
        }

        if (args->what == GET_INTERFACE) {
                if (isempty(argv[optind])) {
                        log_error("an interface NAME is needed");
                        return -EINVAL;
                }
                args->name = argv[optind];
        } else {
                if (args->netns) {
                        log_error("--netns is an option of 'get interface'");
                        return -EINVAL;
                }
                if (parse_id_argument("ID", argv[optind], &args->id) < 0)
                        return -EINVAL;
        }

        return 1;
}

static int get_interface(sd_bus *bus, const GetArguments *args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_value_ BusValue *interfaces = NULL;
        const BusValue *interface = NULL;
        int r;

        r = bpfd_list_interfaces(bus, &error, &interfaces);
        if (r < 0)
                return log_bus_error(&error, r, "cannot list interfaces");

        r = interface_find(interfaces, args->name, args->netns, &interface);
        if (r == -ENOENT) {
                /* Say where bpfctl looked, and where to see what there is. */
                if (args->netns && access(args->netns, F_OK) < 0)
                        log_error("no interface %s: network namespace %s: %s", args->name, args->netns,
                                  strerror(errno));
                else if (args->netns)
                        log_error("no interface %s in network namespace %s that bpfd shows (it shows the "
                                  "interfaces of other namespaces where it attached programs; see '%s list "
                                  "interfaces')", args->name, args->netns, PROGRAM_NAME);
                else
                        log_error("no interface %s in bpfd's network namespace, nor in another where bpfd "
                                  "attached programs (see '%s list interfaces')", args->name, PROGRAM_NAME);
                return EXIT_STATUS_NOT_FOUND;
        }
        if (r == -ENOTUNIQ) {
                log_error("interface %s is in several network namespaces: choose one with --netns PATH "
                          "(see '%s list interfaces')", args->name, PROGRAM_NAME);
                return EXIT_STATUS_USAGE;
        }
        if (r < 0)
                return log_bus_error(NULL, r, "cannot find the interface");

        if (arg_json) {
                json_print(stdout, interface);
                return EXIT_STATUS_SUCCESS;
        }

        r = print_interface_chains(stdout, interface);
        if (r < 0)
                return log_bus_error(NULL, r, "cannot print the interface");

        return EXIT_STATUS_SUCCESS;
}

static int get_object(sd_bus *bus, const GetArguments *args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_value_ BusValue *object = NULL;
        bool link = args->what == GET_LINK;
        int r;

        r = link ? bpfd_get_link(bus, args->id, &error, &object) : bpfd_get_program(bus, args->id, &error, &object);
        if (r < 0)
                return log_bus_error(&error, r, link ? "cannot get the link" : "cannot get the program");

        if (arg_json) {
                json_print(stdout, object);
                return EXIT_STATUS_SUCCESS;
        }

        if (link)
                r = print_fields(stdout, object, link_fields, ELEMENTSOF(link_fields));
        else {
                Field fields[ELEMENTSOF(program_fields)];
                int enabled = true;

                /* Zeros are no news while the kernel counts nothing: say that it does not. */
                memcpy(fields, program_fields, sizeof fields);
                if (sd_bus_get_property_trivial(bus, BPFD_BUS_NAME, BPFD_MANAGER_PATH, BPFD_MANAGER_INTERFACE,
                                                "StatsEnabled", NULL, 'b', &enabled) >= 0 && !enabled)
                        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                                if (streq(fields[i].key, "run_count") || streq(fields[i].key, "run_time_ns"))
                                        fields[i].format = FIELD_STATS_OFF;
                r = print_fields(stdout, object, fields, ELEMENTSOF(fields));
        }
        if (r < 0)
                return log_bus_error(NULL, r, "cannot print the properties");

        return EXIT_STATUS_SUCCESS;
}

static int run_get(int argc, char *argv[], bool interface_only) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        GetArguments args = {};
        int r;

        r = parse_get_argv(argc, argv, interface_only, &args);
        if (r <= 0)
                return exit_status_from_parse(r);

        r = connect_bpfd(&bus);
        if (r < 0)
                return EXIT_STATUS_UNREACHABLE;

        return args.what == GET_INTERFACE ? get_interface(bus, &args) : get_object(bus, &args);
}

int verb_get(int argc, char *argv[]) {
        return run_get(argc, argv, false);
}

int verb_interface(int argc, char *argv[]) {
        return run_get(argc, argv, true);
}
