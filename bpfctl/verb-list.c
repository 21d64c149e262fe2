/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bpfctl list [programs|links|interfaces]: Manager.ListPrograms, ListLinks
 * and ListInterfaces. */

#include <pwd.h>

#include "bpfctl.h"
#include "verb-apply.h"
#include "verb-list.h"
#include "bus-dict.h"
#include "format.h"
#include "interface.h"
#include "json.h"
#include "manager.h"
#include "table.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

static void help_list(void) {
        printf("Usage: %1$s list [programs] [--all] [--kind KIND] [--owner USER]\n"
               "       %1$s list links [--program ID]\n"
               "       %1$s list interfaces\n"
               "       %1$s list specs\n"
               "\n"
               "List programs, with columns ID, NAME, KIND, OWNER, LOADED and ATTACHED,\n"
               "links, with columns LINK, PROGRAM, KIND, OWNER and ATTACH POINT, network\n"
               "interfaces (those of bpfd's network namespace, and those of other namespaces\n"
               "where it attached programs), with columns IFACE, IFINDEX, NETNS (\"-\" for\n"
               "bpfd's own namespace, else the path attachments named), XDP (the number of\n"
               "XDP programs, after the XDP mode if there are any), INGRESS and EGRESS (the\n"
               "number of TC programs on each hook), or specs (bpfd.spec(5)), with columns\n"
               "NAME, STATUS, PROGRAMS, LINKS and DETAIL. With --json an array of objects\n"
               "with every property the daemon reports.\n"
               "\n"
               "Options:\n"
               "      --all                 Also programs bpfd did not load; adds column\n"
               "                            MANAGED\n"
               "      --kind KIND           Only programs of this kind\n"
               "      --owner USER          Only programs of this user (name or uid)\n"
               "      --program ID          Only links of this program\n"
               COMMON_OPTIONS_HELP,
               PROGRAM_NAME);
}

enum {
        ARG_ALL = ARG_COMMAND_FIRST,
        ARG_KIND,
        ARG_OWNER,
        ARG_PROGRAM,
};

typedef enum ListWhat {
        LIST_PROGRAMS,
        LIST_LINKS,
        LIST_INTERFACES,
} ListWhat;

typedef struct ListArguments {
        ListWhat what;
        bool all;
        const char *kind;
        bool owner_set;
        uid_t owner;
        bool program_set;
        uint32_t program_id;
} ListArguments;

static int parse_owner(const char *s, uid_t *ret) {
        struct passwd *pw;
        uint32_t uid;

        /* A number is a uid; names that are numbers are too odd to look up first. */
        if (parse_id(s, &uid) >= 0 && uid != (uint32_t) -1) {
                *ret = (uid_t) uid;
                return 0;
        }

        pw = getpwnam(s);
        if (!pw) {
                log_error("unknown user '%s'", s);
                return -EINVAL;
        }

        *ret = pw->pw_uid;
        return 0;
}

static int parse_list_argv(int argc, char *argv[], ListArguments *args) {
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "all",     no_argument,       NULL, ARG_ALL     },
                { "kind",    required_argument, NULL, ARG_KIND    },
                { "owner",   required_argument, NULL, ARG_OWNER   },
                { "program", required_argument, NULL, ARG_PROGRAM },
                {}
        };
        const char *what;
        int c, r;

        while ((c = getopt_long(argc, argv, "hq", options, NULL)) >= 0) {
                if (parse_common_option(c))
                        continue;
                switch (c) {
                case 'h':
                        help_list();
                        return 0;
                case ARG_ALL:
                        args->all = true;
                        break;
                case ARG_KIND:
                        if (isempty(optarg)) {
                                log_error("--kind needs a kind");
                                return -EINVAL;
                        }
                        args->kind = optarg;
                        break;
                case ARG_OWNER:
                        r = parse_owner(optarg, &args->owner);
                        if (r < 0)
                                return r;
                        args->owner_set = true;
                        break;
                case ARG_PROGRAM:
                        r = parse_id_argument("--program", optarg, &args->program_id);
                        if (r < 0)
                                return r;
                        args->program_set = true;
                        break;
                default:
                        return -EINVAL; /* getopt said what */
                }
        }

        what = optind < argc ? argv[optind++] : "programs";
        if (streq(what, "programs"))
                args->what = LIST_PROGRAMS;
        else if (streq(what, "links"))
                args->what = LIST_LINKS;
        else if (streq(what, "interfaces"))
                args->what = LIST_INTERFACES;
        else {
                log_error("unknown list '%s': expected programs, links, interfaces or specs", what);
                return -EINVAL;
        }

        if (optind < argc) {
                log_error("unexpected argument '%s'", argv[optind]);
                return -EINVAL;
        }

        if (args->what != LIST_PROGRAMS && (args->all || args->kind || args->owner_set)) {
                log_error("--all, --kind and --owner are options of 'list programs'");
                return -EINVAL;
        }
        if (args->what != LIST_LINKS && args->program_set) {
                log_error("--program is an option of 'list links'");
                return -EINVAL;
        }

        return 1;
}

static int append_filter(sd_bus_message *m, const ListArguments *args) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;

        if (args->all && (r = bus_append_sv_bool(m, "all", true)) < 0)
                return r;
        if (args->kind && (r = bus_append_sv_string(m, "kind", args->kind)) < 0)
                return r;
        if (args->owner_set && (r = bus_append_sv_u32(m, "owner_uid", (uint32_t) args->owner)) < 0)
                return r;
        if (args->program_set && (r = bus_append_sv_u32(m, "program_id", args->program_id)) < 0)
                return r;

        return sd_bus_message_close_container(m);
}

/* Cell helpers: each returns a malloc'ed string, or NULL on OOM. */

static char *cell_value(const BusValue *dict, const char *key) {
        const BusValue *v = bus_value_dict_get(dict, key);

        return v ? format_value_inline(v) : strdup("-");
}

static char *cell_owner(const BusValue *dict) {
        uint64_t uid;

        /* Programs bpfd did not load have no owner. */
        if (!bus_value_dict_get_uint(dict, "owner_uid", &uid) || uid > UINT32_MAX)
                return strdup("-");
        return uid_to_name((uid_t) uid);
}

static char *cell_time(const BusValue *dict, const char *key) {
        uint64_t usec;

        if (!bus_value_dict_get_uint(dict, key, &usec))
                return strdup("-");
        return format_timestamp_usec(usec);
}

static char *cell_managed(const BusValue *dict) {
        bool managed;

        if (!bus_value_get_bool(bus_value_dict_get(dict, "managed"), &managed))
                return strdup("-");
        return strdup(yes_no(managed));
}

static int print_programs_table(const BusValue *programs, bool all) {
        _cleanup_table_ Table *t = NULL;
        int r = 0;

        t = all ? table_new("ID", "NAME", "KIND", "OWNER", "LOADED", "MANAGED", "ATTACHED", NULL)
                : table_new("ID", "NAME", "KIND", "OWNER", "LOADED", "ATTACHED", NULL);
        if (!t)
                return -ENOMEM;

        for (size_t i = 0; i < bus_value_count(programs); i++) {
                const BusValue *p = bus_value_item(programs, i);

                if ((r = table_add_cell_take(t, cell_value(p, "id"))) < 0 ||
                    (r = table_add_cell_take(t, cell_value(p, "name"))) < 0 ||
                    (r = table_add_cell_take(t, cell_value(p, "kind"))) < 0 ||
                    (r = table_add_cell_take(t, cell_owner(p))) < 0 ||
                    (r = table_add_cell_take(t, cell_time(p, "load_time"))) < 0 ||
                    (all && (r = table_add_cell_take(t, cell_managed(p))) < 0) ||
                    (r = table_add_cell_take(t, cell_value(p, "attach_points"))) < 0)
                        return r;
        }

        return table_print(t, stdout);
}

static int print_links_table(const BusValue *links) {
        _cleanup_table_ Table *t = NULL;
        int r = 0;

        t = table_new("LINK", "PROGRAM", "KIND", "OWNER", "ATTACH POINT", NULL);
        if (!t)
                return -ENOMEM;

        for (size_t i = 0; i < bus_value_count(links); i++) {
                const BusValue *l = bus_value_item(links, i);

                if ((r = table_add_cell_take(t, cell_value(l, "id"))) < 0 ||
                    (r = table_add_cell_take(t, cell_value(l, "program_id"))) < 0 ||
                    (r = table_add_cell_take(t, cell_value(l, "kind"))) < 0 ||
                    (r = table_add_cell_take(t, cell_owner(l))) < 0 ||
                    (r = table_add_cell_take(t, cell_value(l, "attach_point"))) < 0)
                        return r;
        }

        return table_print(t, stdout);
}

static const struct {
        const char *method;
        const char *failure;
} list_calls[] = {
        [LIST_PROGRAMS]   = { "ListPrograms",   "cannot list programs"   },
        [LIST_LINKS]      = { "ListLinks",      "cannot list links"      },
        [LIST_INTERFACES] = { "ListInterfaces", "cannot list interfaces" },
};

static int run_list(const ListArguments *args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_bus_value_ BusValue *list = NULL;
        int r;

        r = connect_bpfd(&bus);
        if (r < 0)
                return EXIT_STATUS_UNREACHABLE;

        r = bpfd_new_method_call(bus, list_calls[args->what].method, &m);
        if (r >= 0)
                r = append_filter(m, args);
        if (r < 0)
                return log_bus_error(NULL, r, "cannot build the method call");

        r = bpfd_call_read_value(bus, m, &error, &list);
        if (r < 0)
                return log_bus_error(&error, r, list_calls[args->what].failure);

        /* Interfaces have no id; the daemon orders them by namespace and ifindex. */
        if (args->what != LIST_INTERFACES)
                bus_value_sort_by_id(list);

        if (arg_json)
                json_print(stdout, list);
        else {
                switch (args->what) {
                case LIST_PROGRAMS:
                        r = print_programs_table(list, args->all);
                        break;
                case LIST_LINKS:
                        r = print_links_table(list);
                        break;
                case LIST_INTERFACES:
                        r = print_interfaces_table(list);
                        break;
                }
                if (r < 0)
                        return log_bus_error(NULL, r, "cannot print the table");
        }

        return EXIT_STATUS_SUCCESS;
}

int verb_list(int argc, char *argv[]) {
        ListArguments args = {};
        int r;

        for (int i = 1; i < argc; i++)
                if (streq(argv[i], "specs"))
                        return verb_list_specs(argc, argv); /* verb-apply.c */
        r = parse_list_argv(argc, argv, &args);
        if (r <= 0)
                return exit_status_from_parse(r);

        return run_list(&args);
}
