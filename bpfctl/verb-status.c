/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bpfctl status: the properties of org.bpfd.Manager. */

#include "bpfctl.h"
#include "verb-status.h"
#include "format.h"
#include "json.h"
#include "manager.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

static void help_status(void) {
        printf("Usage: %s status\n"
               "\n"
               "Show bpfd's version, the kinds it knows and the kinds it supports on this\n"
               "kernel, its bpffs, whether kernel run statistics are on, and how many\n"
               "programs and links it holds. With --json, an object keyed by the\n"
               "org.bpfd.Manager property names.\n"
               "\n"
               "Options:\n"
               COMMON_OPTIONS_HELP,
               PROGRAM_NAME);
}

static const Field manager_fields[] = {
        { "Version",        "Version",         FIELD_GENERIC },
        { "SupportedKinds", "Supported kinds", FIELD_GENERIC },
        { "KnownKinds",     "Known kinds",     FIELD_GENERIC },
        { "BpffsPath",      "Bpffs path",      FIELD_GENERIC },
        { "StatsEnabled",   "Stats enabled",   FIELD_GENERIC },
        { "ProgramCount",   "Programs",        FIELD_GENERIC },
        { "LinkCount",      "Links",           FIELD_GENERIC },
};

int verb_status(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_bus_value_ BusValue *properties = NULL;
        int r;

        r = parse_common_argv(argc, argv, help_status);
        if (r <= 0)
                return exit_status_from_parse(r);

        if (optind < argc) {
                log_error("unexpected argument '%s'", argv[optind]);
                return EXIT_STATUS_USAGE;
        }

        r = connect_bpfd(&bus);
        if (r < 0)
                return EXIT_STATUS_UNREACHABLE;

        /* GetAll: one round trip, and properties added later show up too. */
        r = sd_bus_message_new_method_call(bus, &m, BPFD_BUS_NAME, BPFD_MANAGER_PATH,
                                           "org.freedesktop.DBus.Properties", "GetAll");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", BPFD_MANAGER_INTERFACE);
        if (r < 0)
                return log_bus_error(NULL, r, "cannot build the method call");

        r = bpfd_call_read_value(bus, m, &error, &properties);
        if (r < 0)
                return log_bus_error(&error, r, "cannot get bpfd's status");

        if (arg_json) {
                json_print(stdout, properties);
                return EXIT_STATUS_SUCCESS;
        }

        r = print_fields(stdout, properties, manager_fields, ELEMENTSOF(manager_fields));
        if (r < 0)
                return log_bus_error(NULL, r, "cannot print the status");

        return EXIT_STATUS_SUCCESS;
}
