/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bpfctl attach, detach and unload: Manager.Attach, Detach and Unload. */

#include <inttypes.h>

#include "bpfctl.h"
#include "verb-attach.h"
#include "json.h"
#include "manager.h"
#include "target.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

static void help_attach(void) {
        printf("Usage: %s attach PROGRAM_ID KIND [KIND OPTIONS]\n"
               "\n"
               "Attach the loaded program PROGRAM_ID at one more point. Prints the id of\n"
               "the new link; with --json, the link's properties.\n"
               "\n"
               "Options:\n"
               COMMON_OPTIONS_HELP
               "\n"
               "Kinds and their options:\n"
               ATTACH_TARGET_HELP
               "\n"
               "Example:\n"
               "  %s attach 42 uretprobe --target /usr/bin/bash --fn readline\n",
               PROGRAM_NAME, PROGRAM_NAME);
}

static void help_detach(void) {
        printf("Usage: %s detach LINK_ID...\n"
               "\n"
               "Remove attachments (links). Their programs stay loaded.\n"
               "\n"
               "Options:\n"
               COMMON_OPTIONS_HELP,
               PROGRAM_NAME);
}

static void help_unload(void) {
        printf("Usage: %s unload PROGRAM_ID...\n"
               "\n"
               "Detach every link of the programs and unload them. Goes on with the next\n"
               "id when one fails; the exit status is that of the first failure.\n"
               "\n"
               "Options:\n"
               COMMON_OPTIONS_HELP,
               PROGRAM_NAME);
}

static int parse_attach_argv(int argc, char *argv[], uint32_t *ret_program_id, AttachTarget *target) {
        static const struct option options[] = {
                COMMON_OPTIONS,
                ATTACH_TARGET_OPTIONS,
                {}
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "hq", options, NULL)) >= 0) {
                if (parse_common_option(c))
                        continue;
                switch (c) {
                case 'h':
                        help_attach();
                        return 0;
                default:
                        if (!attach_target_is_option(c))
                                return -EINVAL; /* getopt said what */
                        r = attach_target_parse_option(target, c, optarg);
                        if (r < 0)
                                return r;
                }
        }

        if (argc - optind < 2) {
                log_error("attach needs a PROGRAM_ID and a KIND");
                return -EINVAL;
        }
        if (argc - optind > 2) {
                log_error("unexpected argument '%s'", argv[optind + 2]);
                return -EINVAL;
        }

        r = parse_id_argument("PROGRAM_ID", argv[optind], ret_program_id);
        if (r < 0)
                return r;
        r = attach_target_set_kind(target, argv[optind + 1]);
        if (r < 0)
                return r;
        r = attach_target_verify(target);
        if (r < 0)
                return r;

        return 1;
}

static int run_attach(uint32_t program_id, const AttachTarget *target) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_bus_value_ BusValue *link = NULL;
        const char *link_path;
        uint32_t link_id;
        int r;

        r = connect_bpfd(&bus);
        if (r < 0)
                return EXIT_STATUS_UNREACHABLE;

        r = bpfd_new_method_call(bus, "Attach", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "u", program_id);
        if (r >= 0)
                r = attach_target_append(m, target, NULL);
        if (r < 0)
                return log_bus_error(NULL, r, "cannot build the method call");

        r = bpfd_call(bus, m, true, &error, &reply);
        if (r < 0)
                return log_bus_error(&error, r, "attach failed");

        r = sd_bus_message_read(reply, "o", &link_path);
        if (r < 0)
                return log_bus_error(NULL, r, "cannot parse bpfd's reply");
        if (object_path_to_id(link_path, &link_id) < 0) {
                log_error("bpfd returned the link path '%s', which ends in no id", link_path);
                return EXIT_STATUS_FAILURE;
        }

        if (arg_quiet && !arg_json)
                return EXIT_STATUS_SUCCESS;

        r = bpfd_get_link(bus, link_id, &error, &link);
        if (r < 0) {
                /* Attached all the same; say so before the error. */
                confirm("Attached link %" PRIu32 ".", link_id);
                return log_bus_error(&error, r, "cannot get the new link");
        }

        if (arg_json)
                json_print(stdout, link);
        else
                confirm("Attached link %" PRIu32 ": %s", link_id,
                        strempty_dash(bus_value_dict_get_string(link, "attach_point")));
        return EXIT_STATUS_SUCCESS;
}

int verb_attach(int argc, char *argv[]) {
        AttachTarget target = {};
        uint32_t program_id = 0;
        int r;

        r = parse_attach_argv(argc, argv, &program_id, &target);
        if (r > 0)
                r = run_attach(program_id, &target);
        else
                r = exit_status_from_parse(r);

        attach_target_done(&target);
        return r;
}

/* Calls method(id) for each id argument, going on after failures: removing
 * the rest is still what was asked for. Returns the first failure's status. */
static int call_for_each_id(int argc, char *argv[], void (*help)(void),
                                        const char *verb, const char *done, const char *method, const char *object,
                            const char *id_name) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ uint32_t *ids = NULL;
        int r, n_ids, status = EXIT_STATUS_SUCCESS;

        r = parse_common_argv(argc, argv, help);
        if (r <= 0)
                return exit_status_from_parse(r);

        n_ids = argc - optind;
        if (n_ids <= 0) {
                log_error("%s needs at least one %s", verb, id_name);
                return EXIT_STATUS_USAGE;
        }

        /* All ids must parse before anything is removed. */
        ids = calloc(n_ids, sizeof(uint32_t));
        if (!ids)
                return log_oom(), EXIT_STATUS_FAILURE;
        for (int i = 0; i < n_ids; i++)
                if (parse_id_argument(id_name, argv[optind + i], &ids[i]) < 0)
                        return EXIT_STATUS_USAGE;

        r = connect_bpfd(&bus);
        if (r < 0)
                return EXIT_STATUS_UNREACHABLE;

        for (int i = 0; i < n_ids; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                char what[64];
                int s;

                r = bpfd_new_method_call(bus, method, &m);
                if (r >= 0)
                        r = sd_bus_message_append(m, "u", ids[i]);
                if (r >= 0)
                        r = bpfd_call(bus, m, true, &error, NULL);
                if (r >= 0) {
                        confirm("%s %s %" PRIu32 ".", done, object, ids[i]);
                        continue;
                }

                (void) snprintf(what, sizeof(what), "cannot %s %s %" PRIu32, verb, object, ids[i]);
                s = log_bus_error(&error, r, what);
                if (status == EXIT_STATUS_SUCCESS)
                        status = s;
                if (s == EXIT_STATUS_UNREACHABLE)
                        break; /* the rest would fail the same way */
        }

        return status;
}

int verb_detach(int argc, char *argv[]) {
        return call_for_each_id(argc, argv, help_detach, "detach", "Detached", "Detach", "link", "LINK_ID");
}

int verb_unload(int argc, char *argv[]) {
        return call_for_each_id(argc, argv, help_unload, "unload", "Unloaded", "Unload", "program", "PROGRAM_ID");
}
