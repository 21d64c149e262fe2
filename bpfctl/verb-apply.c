/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bpfctl apply FILE... | --dir DIR, and bpfctl remove-spec NAME...: Manager.ApplySpec and RemoveSpec. The
 * spec file is read here, as the user who runs bpfctl, and sent as the a{sv} ApplySpec takes: bpfd never
 * parses a user's file. */

#include <dirent.h>
#include <glib.h>

#include "../service/bus/spec-file.h"
#include "bpfctl.h"
#include "verb-apply.h"
#include "format.h"
#include "json.h"
#include "manager.h"
#include "table.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

static void help_apply(void) {
        printf("Usage: %1$s apply [--name NAME] FILE\n"
               "       %1$s apply FILE...\n"
               "       %1$s apply --dir DIR\n"
               "       %1$s remove-spec NAME...\n"
               "\n"
               "Make bpfd run what a spec file declares (see bpfd.spec(5)): bpfd loads,\n"
               "attaches, detaches and unloads only what differs from what it made for the\n"
               "spec before, all or nothing. Applying the same spec again changes nothing.\n"
               "The spec's name is the file name without .conf, or --name. With --dir, every\n"
               "DIR/*.conf in name order; a failing spec does not stop the others.\n"
               "Prints each spec's status: Applied, Pending (waiting for an interface; applied\n"
               "when it appears) or Failed, with its program and link ids.\n"
               "With --json, the properties of the spec's object (an array of them with --dir\n"
               "or several files).\n"
               "remove-spec unloads everything a spec made and forgets it.\n"
               "\n"
               "Options:\n"
               "      --name NAME           The spec's name (one FILE only)\n"
               "      --dir DIR             Apply every DIR/*.conf\n"
               COMMON_OPTIONS_HELP
               "\n"
               "Examples:\n"
               "  %1$s apply /etc/bpfd/programs.d/counters.conf\n"
               "  %1$s apply --dir /etc/bpfd/programs.d\n"
               "  %1$s remove-spec counters\n"
               "\n"
               "Exit status: that of the first spec that failed (see bpfctl --help): 5 if\n"
               "bpfctl cannot read a FILE, 9 if it is no valid spec (bpfctl reads it, so no\n"
               "error name follows the message); 4 for remove-spec of an unknown spec.\n",
               PROGRAM_NAME);
}

enum {
        ARG_NAME = ARG_COMMAND_FIRST,
        ARG_DIR,
};

static int parse_apply_argv(int argc, char *argv[], const char **name, const char **dir) {
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "name", required_argument, NULL, ARG_NAME },
                { "dir", required_argument, NULL, ARG_DIR },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "hq", options, NULL)) >= 0) {
                if (parse_common_option(c))
                        continue;
                switch (c) {
                case 'h':
                        help_apply();
                        return 0;
                case ARG_NAME:
                        *name = optarg;
                        break;
                case ARG_DIR:
                        *dir = optarg;
                        break;
                default:
                        return -EINVAL;
                }
        }
        if (*dir && optind < argc) {
                log_error("--dir takes no FILE arguments");
                return -EINVAL;
        }
        if (!*dir && optind >= argc) {
                log_error("apply needs a FILE or --dir DIR");
                return -EINVAL;
        }
        if (*name && (*dir || argc - optind != 1)) {
                log_error("--name goes with one FILE");
                return -EINVAL;
        }
        return 1;
}

static char *spec_path_of(const char *name) {
        char *p = NULL;
        return sd_bus_path_encode(BPFD_MANAGER_PATH "/spec", name, &p) < 0 ? NULL : p;
}

/* Prints the spec object's properties: a line of text, or the JSON of its properties. */
static int print_spec(sd_bus *bus, const char *name, bool quiet, bool *first) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_bus_value_ BusValue *props = NULL;
        _cleanup_free_ char *path = spec_path_of(name);
        const BusValue *ids;
        const char *status, *err, *waiting;
        int r;

        if (!path)
                return log_oom(), EXIT_STATUS_FAILURE;
        r = sd_bus_message_new_method_call(bus, &m, BPFD_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "org.bpfd.Spec");
        if (r >= 0)
                r = bpfd_call_read_value(bus, m, &error, &props);
        if (r < 0)
                return quiet ? 0 : log_bus_error(&error, r, "cannot read the spec's status");
        if (arg_json) {
                if (!*first)
                        fputs(",\n", stdout);
                json_print_compact(stdout, props);
                *first = false;
                return 0;
        }
        status = bus_value_dict_get_string(props, "Status") ?: "?";
        err = bus_value_dict_get_string(props, "Error") ?: "";
        waiting = bus_value_dict_get_string(props, "WaitingFor") ?: "";
        /* The status line is the confirmation: -q keeps it for specs that are not applied. */
        if (arg_quiet && streq(status, "Applied"))
                return 0;
        printf("%s: %s", name, status);
        if (*waiting)
                printf(" (waiting for interface %s)", waiting);
        if ((ids = bus_value_dict_get(props, "Programs")) && bus_value_count(ids) > 0) {
                fputs(", programs", stdout);
                for (size_t i = 0; i < bus_value_count(ids); i++) {
                        _cleanup_free_ char *s = format_value_inline(bus_value_item(ids, i));
                        printf(" %s", s ?: "?");
                }
        }
        if ((ids = bus_value_dict_get(props, "Links")) && bus_value_count(ids) > 0) {
                fputs(", links", stdout);
                for (size_t i = 0; i < bus_value_count(ids); i++) {
                        _cleanup_free_ char *s = format_value_inline(bus_value_item(ids, i));
                        printf(" %s", s ?: "?");
                }
        }
        putchar('\n');
        if (*err)
                printf("  %s\n", err);
        return 0;
}

static int apply_file(sd_bus *bus, const char *file, const char *name_arg, bool *first) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) gerr = NULL;
        _cleanup_free_ char *parse_error = NULL, *name = NULL;
        const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
        size_t n = strlen(base);
        int r, status;

        name = name_arg ? strdup(name_arg)
                        : strndup(base, n > 5 && streq(base + n - 5, ".conf") ? n - 5 : n);
        if (!name)
                return log_oom(), EXIT_STATUS_FAILURE;
        if (!g_key_file_load_from_file(kf, file, G_KEY_FILE_NONE, &gerr)) {
                log_error("%s: %s", file, gerr->message);
                return gerr->domain == G_FILE_ERROR ? EXIT_STATUS_BAD_OBJECT : EXIT_STATUS_INVALID_ARGUMENT;
        }
        r = bpfd_new_method_call(bus, "ApplySpec", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = spec_keyfile_append(m, kf, &parse_error);
        if (r < 0) {
                if (parse_error) {
                        log_error("%s: %s", file, parse_error);
                        return EXIT_STATUS_INVALID_ARGUMENT;
                }
                return log_bus_error(NULL, r, "cannot build the method call");
        }
        r = bpfd_call(bus, m, true, &error, NULL);
        status = r < 0 ? (int) log_bus_error(&error, r, "cannot apply the spec") : EXIT_STATUS_SUCCESS;
        /* A failed apply of a known spec still has a status worth showing; an unknown one has none. */
        if (r >= 0 || (error.name && !streq(error.name, "org.bpfd.Error.InvalidArgument") &&
                       !streq(error.name, "org.bpfd.Error.PermissionDenied")))
                (void) print_spec(bus, name, r < 0, first);
        return status;
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int verb_apply(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(free);
        const char *name = NULL, *dir = NULL;
        bool first = true, many;
        int r, status = EXIT_STATUS_SUCCESS;
        size_t n = 0;

        r = parse_apply_argv(argc, argv, &name, &dir);
        if (r <= 0)
                return exit_status_from_parse(r);
        if (dir) {
                DIR *d = opendir(dir);
                struct dirent *de;

                if (!d) {
                        log_error("cannot open %s: %s", dir, strerror(errno));
                        return EXIT_STATUS_BAD_OBJECT;
                }
                while ((de = readdir(d))) {
                        size_t len = strlen(de->d_name);
                        if (len > 5 && streq(de->d_name + len - 5, ".conf") && de->d_name[0] != '.') {
                                char *p = NULL;
                                if (asprintf(&p, "%s/%s", dir, de->d_name) < 0) {
                                        closedir(d);
                                        return log_oom(), EXIT_STATUS_FAILURE;
                                }
                                g_ptr_array_add(files, p);
                        }
                }
                closedir(d);
        } else
                for (int i = optind; i < argc; i++)
                        g_ptr_array_add(files, strdup(argv[i]));
        n = files->len;
        if (dir)
                qsort(files->pdata, n, sizeof(char *), cmp_names);

        r = connect_bpfd(&bus);
        if (r < 0)
                return EXIT_STATUS_UNREACHABLE;
        many = dir || n > 1;
        if (arg_json && many)
                fputs("[", stdout);
        for (size_t i = 0; i < n; i++) {
                int s = apply_file(bus, g_ptr_array_index(files, i), name, &first);
                if (status == EXIT_STATUS_SUCCESS)
                        status = s;
                if (s == EXIT_STATUS_UNREACHABLE)
                        break;
        }
        if (arg_json)
                fputs(many ? "]\n" : "\n", stdout);
        return status;
}

int verb_remove_spec(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r, status = EXIT_STATUS_SUCCESS;

        r = parse_common_argv(argc, argv, help_apply);
        if (r <= 0)
                return exit_status_from_parse(r);
        if (optind >= argc) {
                log_error("remove-spec needs a NAME");
                return exit_status_from_parse(-EINVAL);
        }
        r = connect_bpfd(&bus);
        if (r < 0)
                return EXIT_STATUS_UNREACHABLE;
        for (int i = optind; i < argc; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

                r = bpfd_new_method_call(bus, "RemoveSpec", &m);
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", argv[i]);
                if (r >= 0)
                        r = bpfd_call(bus, m, true, &error, NULL);
                if (r >= 0)
                        confirm("Removed spec %s.", argv[i]);
                if (r < 0) {
                        int s = log_bus_error(&error, r, "cannot remove the spec");
                        if (status == EXIT_STATUS_SUCCESS)
                                status = s;
                }
        }
        return status;
}

static void help_list_specs(void) {
        printf("Usage: %1$s list specs\n"
               "\n"
               "List the specs bpfd knows (see bpfd.spec(5)), with columns NAME, STATUS\n"
               "(Applied, Pending or Failed), PROGRAMS and LINKS (the ids the spec owns) and\n"
               "DETAIL (what a pending spec waits for, why a failed one failed). With --json\n"
               "an array of objects with every property the daemon reports.\n"
               "\n"
               "Options:\n"
               COMMON_OPTIONS_HELP,
               PROGRAM_NAME);
}

/* The items of an "au" as "1 2 3", or "-". */
static char *ids_text(const BusValue *ids) {
        g_autoptr(GString) s = g_string_new(NULL);

        for (size_t i = 0; ids && i < bus_value_count(ids); i++) {
                _cleanup_free_ char *one = format_value_inline(bus_value_item(ids, i));
                g_string_append_printf(s, "%s%s", i ? " " : "", one ?: "?");
        }
        return strdup(s->len ? s->str : "-");
}

int verb_list_specs(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_bus_value_ BusValue *specs = NULL;
        _cleanup_table_ Table *t = NULL;
        int r;

        r = parse_common_argv(argc, argv, help_list_specs);
        if (r <= 0)
                return exit_status_from_parse(r);
        if (argc - optind != 1 || !streq(argv[optind], "specs")) {
                log_error("unexpected argument '%s'", streq(argv[optind], "specs") ? argv[optind + 1] : argv[optind]);
                return exit_status_from_parse(-EINVAL);
        }
        r = connect_bpfd(&bus);
        if (r < 0)
                return EXIT_STATUS_UNREACHABLE;
        r = bpfd_new_method_call(bus, "ListSpecs", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a{sv}", 0);
        if (r >= 0)
                r = bpfd_call_read_value(bus, m, &error, &specs);
        if (r < 0)
                return log_bus_error(&error, r, "cannot list specs");
        if (arg_json) {
                json_print(stdout, specs);
                return EXIT_STATUS_SUCCESS;
        }
        t = table_new("NAME", "STATUS", "PROGRAMS", "LINKS", "DETAIL", NULL);
        if (!t)
                return log_oom(), EXIT_STATUS_FAILURE;
        for (size_t i = 0; i < bus_value_count(specs); i++) {
                const BusValue *spec = bus_value_item(specs, i);
                const char *waiting = bus_value_dict_get_string(spec, "waiting_for") ?: "";
                const char *err = bus_value_dict_get_string(spec, "error") ?: "";
                char *detail = NULL;

                /* NULL on OOM: table_add_cell_take() turns that into -ENOMEM */
                if (*waiting) {
                        if (asprintf(&detail, "waiting for %s", waiting) < 0)
                                detail = NULL;
                } else
                        detail = strdup(err);
                if ((r = table_add_cell(t, bus_value_dict_get_string(spec, "name"))) < 0 ||
                    (r = table_add_cell(t, bus_value_dict_get_string(spec, "status"))) < 0 ||
                    (r = table_add_cell_take(t, ids_text(bus_value_dict_get(spec, "programs")))) < 0 ||
                    (r = table_add_cell_take(t, ids_text(bus_value_dict_get(spec, "links")))) < 0 ||
                    (r = table_add_cell_take(t, detail)) < 0)
                        return log_bus_error(NULL, r, "cannot print the table");
        }
        r = table_print(t, stdout);
        if (r < 0)
                return log_bus_error(NULL, r, "cannot print the table");
        return EXIT_STATUS_SUCCESS;
}
