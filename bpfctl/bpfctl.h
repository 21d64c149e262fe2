/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the command implementations (verb-*.c) share with main. */

#include <getopt.h>
#include <stdbool.h>
#include <errno.h>
#include <stdint.h>

#include "exit-status.h"

#define PROGRAM_NAME "bpfctl"

/* Set by options that every command accepts (and that may come anywhere after it). */
extern bool arg_json;
extern bool arg_ask_password;
extern bool arg_quiet;

/* getopt values of the options every command accepts; commands number
 * theirs from ARG_COMMAND_FIRST on (kind options start at 0x200). */
enum {
        ARG_VERSION = 0x100,
        ARG_JSON,
        ARG_NO_ASK_PASSWORD,
        ARG_COMMAND_FIRST,
};

/* Sets arg_json, arg_ask_password or arg_quiet for the common option c (a getopt value) and returns true;
 * false for any other c. Every command's getopt loop starts with it; each handles 'h' (its own help). */
bool parse_common_option(int c);

#define COMMON_OPTIONS                                                          \
        { "help",            no_argument, NULL, 'h'                 },         \
        { "json",            no_argument, NULL, ARG_JSON            },         \
        { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },        \
        { "quiet",           no_argument, NULL, 'q'                 }

/* Descriptions start at column 29, as in the commands' own option lists. */
#define COMMON_OPTIONS_HELP                                                             \
        "      --json                Print JSON instead of text\n"                      \
        "      --no-ask-password     Do not let polkit ask for a password; fail instead\n" \
        "  -q, --quiet               Print no confirmation (errors and what was asked for\n" \
        "                            are printed all the same)\n"                       \
        "  -h, --help                Show this help\n"

/* The commands are declared in verb-*.h, one header per file: argv[0] is "bpfctl COMMAND" (for getopt's
 * messages); each returns an ExitStatus. A usage error is logged before returning EXIT_STATUS_USAGE; main
 * then points at COMMAND --help. */

/* "Unloaded program 42." and the like: one line on standard output saying what a command did, unless
 * --quiet or --json. */
void confirm(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* What a command returns after parsing its arguments returned r: < 0 a
 * usage error (-ENOMEM aside), 0 done (--help). */
static inline int exit_status_from_parse(int r) {
        if (r == -ENOMEM)
                return EXIT_STATUS_FAILURE;
        return r < 0 ? EXIT_STATUS_USAGE : EXIT_STATUS_SUCCESS;
}

/* Parses the argv of a command that has only the common options; the
 * arguments are then argv[optind] to argv[argc - 1]. Returns as above:
 * < 0 usage error, 0 help shown, > 0 go on. */
int parse_common_argv(int argc, char *argv[], void (*help)(void));

/* Connects as the options say; logs failures. */
int connect_bpfd(sd_bus **ret);

/* Parses a kernel id argument; logs and returns -EINVAL if it is none. */
int parse_id_argument(const char *what, const char *s, uint32_t *ret);
