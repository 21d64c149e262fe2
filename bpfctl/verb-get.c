/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bpfctl get [program|link] ID: Manager.GetProgram and GetLink. */

#include "bpfctl.h"
#include "format.h"
#include "json.h"
#include "manager.h"
#include "util.h"

static void help_get(void) {
        printf("Usage: %1$s get [program] ID\n"
               "       %1$s get link ID\n"
               "\n"
               "Show every property of a program (any BPF program of the system; \"Managed\"\n"
               "says whether bpfd loaded it) or of a link. With --json, an object with the\n"
               "daemon's keys.\n"
               "\n"
               "Options:\n"
               COMMON_OPTIONS_HELP,
               PROGRAM_NAME);
}

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
        { "load_group",    "Load group",    FIELD_GENERIC    },
        { "pin_path",      "Pin path",      FIELD_GENERIC    },
        { "links",         "Links",         FIELD_OBJECT_IDS },
        { "attach_points", "Attach points", FIELD_LINES      },
        { "map_ids",       "Map IDs",       FIELD_GENERIC    },
        { "maps",          "Maps",          FIELD_GENERIC    }, /* one "ID NAME PIN" per line */
        { "metadata",      "Metadata",      FIELD_GENERIC    }, /* one key=value per line */
        { "global_data",   "Global data",   FIELD_GENERIC    }, /* one name=hex per line */
        { "run_count",     "Run count",     FIELD_GENERIC    },
        { "run_time_ns",   "Run time",      FIELD_NSEC       },
        { "object_path",   "Object path",   FIELD_GENERIC    },
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

int verb_get(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_bus_value_ BusValue *object = NULL;
        bool link = false;
        uint32_t id;
        int r;

        r = parse_common_argv(argc, argv, help_get);
        if (r <= 0)
                return exit_status_from_parse(r);

        if (optind < argc && (streq(argv[optind], "program") || streq(argv[optind], "link")))
                link = streq(argv[optind++], "link");

        if (optind >= argc) {
                log_error("get needs an ID");
                return EXIT_STATUS_USAGE;
        }
        if (argc - optind > 1) {
                log_error("unexpected argument '%s'", argv[optind + 1]);
                return EXIT_STATUS_USAGE;
        }
        if (parse_id_argument("ID", argv[optind], &id) < 0)
                return EXIT_STATUS_USAGE;

        r = connect_bpfd(&bus);
        if (r < 0)
                return EXIT_STATUS_UNREACHABLE;

        r = link ? bpfd_get_link(bus, id, &error, &object) : bpfd_get_program(bus, id, &error, &object);
        if (r < 0)
                return log_bus_error(&error, r, link ? "cannot get the link" : "cannot get the program");

        if (arg_json) {
                json_print(stdout, object);
                return EXIT_STATUS_SUCCESS;
        }

        r = link ? print_fields(stdout, object, link_fields, ELEMENTSOF(link_fields))
                 : print_fields(stdout, object, program_fields, ELEMENTSOF(program_fields));
        if (r < 0)
                return log_bus_error(NULL, r, "cannot print the properties");

        return EXIT_STATUS_SUCCESS;
}
