/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bpfctl image pull|list|rm: Manager.PullImage, ListImages and RemoveImage,
 * bpfd's cache of OCI bytecode images. */

#include "bpfctl.h"
#include "verb-image.h"
#include "format.h"
#include "json.h"
#include "load-options.h"
#include "manager.h"
#include "table.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

static void help_image(void) {
        printf("Usage: %1$s image pull REFERENCE [--pull-policy POLICY]\n"
               "       %1$s image list\n"
               "       %1$s image rm REFERENCE...\n"
               "\n"
               "Manage bpfd's cache of OCI bytecode images, from which 'load image' loads.\n"
               "REFERENCE is REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST], e.g.\n"
               "quay.io/bpfman-bytecode/xdp_pass:latest.\n"
               "\n"
               "  pull    Fetch the image into the cache without loading it: every blob is\n"
               "          checked against its digest, the cosign signature against the keys\n"
               "          configured for the registry. Prints its reference, digest, object\n"
               "          file, programs (from its labels), whether it came from the cache and\n"
               "          whether it is signed. With --json, an object with the daemon's keys.\n"
               "  list    List the cached images: REFERENCE and DIGEST. With --json, an array\n"
               "          of objects with the daemon's keys.\n"
               "  rm      Forget cached references (also: remove). Programs loaded from them\n"
               "          stay loaded.\n"
               "\n"
               "Options:\n"
               PULL_POLICY_HELP
               COMMON_OPTIONS_HELP
               "\n"
               "Examples:\n"
               "  %1$s image pull quay.io/bpfman-bytecode/xdp_pass:latest\n"
               "  %1$s image pull registry.example.com/bpf/counter:v1 --pull-policy Always\n"
               "  %1$s image list\n"
               "  %1$s image rm registry.example.com/bpf/counter:v1\n"
               "\n"
               "Exit status 4 if the image is not in the registry (ImageNotFound) or, for\n"
               "rm or with --pull-policy Never, not in the cache (ImageNotCached); 5 if it\n"
               "fails its digest or signature check (DigestMismatch, NoSignature,\n"
               "UnknownSigner, SignatureDigestMismatch) or is no bytecode image\n"
               "(InvalidImage); 7 if the registry is unreachable (RegistryUnreachable); 3 if\n"
               "it refused the credentials (AuthenticationFailed).\n",
               PROGRAM_NAME);
}

enum {
        ARG_PULL_POLICY = ARG_COMMAND_FIRST,
};

typedef enum ImageVerb {
        IMAGE_PULL,
        IMAGE_LIST,
        IMAGE_REMOVE,
} ImageVerb;

static const struct {
        const char *name;
        ImageVerb verb;
} image_verbs[] = {
        { "pull",   IMAGE_PULL   },
        { "list",   IMAGE_LIST   },
        { "ls",     IMAGE_LIST   },
        { "rm",     IMAGE_REMOVE },
        { "remove", IMAGE_REMOVE },
};

typedef struct ImageArguments {
        ImageVerb verb;
        const char *pull_policy; /* NULL: the daemon's default, IfNotPresent */
        char **references;       /* pull: one; rm: one or more (pointers into argv) */
        int n_references;
} ImageArguments;

static int parse_image_argv(int argc, char *argv[], ImageArguments *args) {
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "pull-policy", required_argument, NULL, ARG_PULL_POLICY },
                {}
        };
        const char *verb;
        size_t i;
        int c;

        while ((c = getopt_long(argc, argv, "hq", options, NULL)) >= 0) {
                if (parse_common_option(c))
                        continue;
                switch (c) {
                case 'h':
                        help_image();
                        return 0;
                case ARG_PULL_POLICY:
                        args->pull_policy = pull_policy_from_string(optarg);
                        if (!args->pull_policy) {
                                log_error("invalid --pull-policy '%s': expected Always, IfNotPresent or Never",
                                          optarg);
                                return -EINVAL;
                        }
                        break;
                default:
                        return -EINVAL; /* getopt said what */
                }
        }

        if (optind >= argc) {
                log_error("image needs a command: pull, list or rm");
                return -EINVAL;
        }
        verb = argv[optind++];
        for (i = 0; i < ELEMENTSOF(image_verbs); i++)
                if (streq(image_verbs[i].name, verb))
                        break;
        if (i >= ELEMENTSOF(image_verbs)) {
                log_error("unknown image command '%s': expected pull, list or rm", verb);
                return -EINVAL;
        }
        args->verb = image_verbs[i].verb;

        args->references = argv + optind;
        args->n_references = argc - optind;

        switch (args->verb) {
        case IMAGE_PULL:
                if (args->n_references != 1) {
                        if (args->n_references == 0)
                                log_error("image pull needs a REFERENCE");
                        else
                                log_error("unexpected argument '%s'", args->references[1]);
                        return -EINVAL;
                }
                break;
        case IMAGE_LIST:
                if (args->n_references > 0) {
                        log_error("unexpected argument '%s'", args->references[0]);
                        return -EINVAL;
                }
                break;
        case IMAGE_REMOVE:
                if (args->n_references == 0) {
                        log_error("image rm needs at least one REFERENCE");
                        return -EINVAL;
                }
                break;
        }

        for (int j = 0; j < args->n_references; j++)
                if (isempty(args->references[j])) {
                        log_error("an image REFERENCE must not be empty");
                        return -EINVAL;
                }

        if (args->pull_policy && args->verb != IMAGE_PULL) {
                log_error("--pull-policy is an option of 'image pull'");
                return -EINVAL;
        }

        return 1;
}

static const Field image_fields[] = {
        { "reference",       "Reference",   FIELD_GENERIC },
        { "digest",          "Digest",      FIELD_GENERIC },
        { "object_filename", "Object file", FIELD_GENERIC },
        { "programs",        "Programs",    FIELD_GENERIC },
        { "from_cache",      "From cache",  FIELD_GENERIC },
        { "signed",          "Signed",      FIELD_GENERIC },
};

static int image_pull(sd_bus *bus, const ImageArguments *args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_bus_value_ BusValue *image = NULL;
        int r;

        r = bpfd_new_method_call(bus, "PullImage", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", args->references[0], args->pull_policy ?: "");
        if (r < 0)
                return log_bus_error(NULL, r, "cannot build the method call");

        /* A pull may be slow and polkit may ask for a password: a mutating call. */
        r = bpfd_call(bus, m, true, &error, &reply);
        if (r < 0)
                return log_bus_error(&error, r, "cannot pull the image");

        r = bus_value_read(reply, &image);
        if (r < 0)
                return log_bus_error(NULL, r, "cannot parse bpfd's reply");

        if (arg_json) {
                json_print(stdout, image);
                return EXIT_STATUS_SUCCESS;
        }

        r = print_fields(stdout, image, image_fields, ELEMENTSOF(image_fields));
        if (r < 0)
                return log_bus_error(NULL, r, "cannot print the image");

        return EXIT_STATUS_SUCCESS;
}

static char *cell_value(const BusValue *dict, const char *key) {
        const BusValue *v = bus_value_dict_get(dict, key);

        return v ? format_value_inline(v) : strdup("-");
}

static int image_list(sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_bus_value_ BusValue *images = NULL;
        _cleanup_table_ Table *t = NULL;
        int r;

        r = bpfd_new_method_call(bus, "ListImages", &m);
        if (r < 0)
                return log_bus_error(NULL, r, "cannot build the method call");

        r = bpfd_call_read_value(bus, m, &error, &images);
        if (r < 0)
                return log_bus_error(&error, r, "cannot list images");

        if (arg_json) {
                json_print(stdout, images);
                return EXIT_STATUS_SUCCESS;
        }

        t = table_new("REFERENCE", "DIGEST", NULL);
        if (!t)
                return log_oom(), EXIT_STATUS_FAILURE;

        for (size_t i = 0; i < bus_value_count(images); i++) {
                const BusValue *image = bus_value_item(images, i);

                if ((r = table_add_cell_take(t, cell_value(image, "reference"))) < 0 ||
                    (r = table_add_cell_take(t, cell_value(image, "digest"))) < 0)
                        return log_bus_error(NULL, r, "cannot print the table");
        }

        r = table_print(t, stdout);
        if (r < 0)
                return log_bus_error(NULL, r, "cannot print the table");

        return EXIT_STATUS_SUCCESS;
}

/* Removes each reference, going on after failures as unload does; returns the first failure's status. */
static int image_remove(sd_bus *bus, const ImageArguments *args) {
        int status = EXIT_STATUS_SUCCESS;

        for (int i = 0; i < args->n_references; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                int r, s;

                r = bpfd_new_method_call(bus, "RemoveImage", &m);
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", args->references[i]);
                if (r >= 0)
                        r = bpfd_call(bus, m, true, &error, NULL);
                if (r >= 0) {
                        confirm("Removed image %s from the cache.", args->references[i]);
                        continue;
                }

                s = log_bus_error(&error, r, "cannot remove the image");
                if (status == EXIT_STATUS_SUCCESS)
                        status = s;
                if (s == EXIT_STATUS_UNREACHABLE)
                        break; /* the rest would fail the same way */
        }

        return status;
}

int verb_image(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        ImageArguments args = {};
        int r;

        r = parse_image_argv(argc, argv, &args);
        if (r <= 0)
                return exit_status_from_parse(r);

        r = connect_bpfd(&bus);
        if (r < 0)
                return EXIT_STATUS_UNREACHABLE;

        switch (args.verb) {
        case IMAGE_PULL:
                return image_pull(bus, &args);
        case IMAGE_LIST:
                return image_list(bus);
        case IMAGE_REMOVE:
                return image_remove(bus, &args);
        }

        return EXIT_STATUS_FAILURE;
}
