/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* An attach target from the command line: KIND and its options, as "attach"
 * and "load" take them, checked here and sent as the a{sv} of
 * Manager.Attach (or one element of the "attach" load option). */

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

typedef struct AttachTarget {
        char *kind;
        unsigned options_given; /* bit (1 << (option - ARG_TARGET_FIRST)) per option given */

        char *tracepoint;       /* "tracepoint" */
        char *binary;           /* "target", absolute */
        char *function;         /* "function" */
        uint64_t offset;        /* "offset" */
        int32_t pid;            /* "pid" */
        int32_t container_pid;  /* "container_pid" */
        char *cgroup;           /* "cgroup", absolute */
        char *attach_type;      /* "attach_type" */
        char *interface;        /* "interface" */
        int32_t priority;       /* "priority" */
        char **proceed_on;      /* "proceed_on" */
        char *mode;             /* "mode" */
        char *netns;            /* "netns" */
        char *direction;        /* "direction" */
} AttachTarget;

/* getopt values of the kind options; commands number their own options
 * below ARG_TARGET_FIRST. */
enum {
        ARG_TARGET_FIRST = 0x200,
        ARG_TRACEPOINT = ARG_TARGET_FIRST,
        ARG_TARGET,
        ARG_FN,
        ARG_OFFSET,
        ARG_PID,
        ARG_CONTAINER_PID,
        ARG_CGROUP,
        ARG_ATTACH_TYPE,
        ARG_IFACE,
        ARG_PRIORITY,
        ARG_PROCEED_ON,
        ARG_MODE,
        ARG_NETNS,
        ARG_DIRECTION,
        _ARG_TARGET_END,
};

#define ATTACH_TARGET_OPTIONS                                                   \
        { "tracepoint",  required_argument, NULL, ARG_TRACEPOINT  },            \
        { "target",      required_argument, NULL, ARG_TARGET      },            \
        { "fn",          required_argument, NULL, ARG_FN          },            \
        { "function",    required_argument, NULL, ARG_FN          },            \
        { "offset",      required_argument, NULL, ARG_OFFSET      },            \
        { "pid",         required_argument, NULL, ARG_PID         },            \
        { "container-pid", required_argument, NULL, ARG_CONTAINER_PID },        \
        { "cgroup",      required_argument, NULL, ARG_CGROUP      },            \
        { "attach-type", required_argument, NULL, ARG_ATTACH_TYPE },            \
        { "iface",       required_argument, NULL, ARG_IFACE       },            \
        { "interface",   required_argument, NULL, ARG_IFACE       },            \
        { "priority",    required_argument, NULL, ARG_PRIORITY    },            \
        { "proceed-on",  required_argument, NULL, ARG_PROCEED_ON  },            \
        { "mode",        required_argument, NULL, ARG_MODE        },            \
        { "netns",       required_argument, NULL, ARG_NETNS       },            \
        { "direction",   required_argument, NULL, ARG_DIRECTION   }

/* The kinds and their options, for --help texts. */
#define ATTACH_TARGET_HELP                                                                      \
        "  tracepoint [--tracepoint CATEGORY/NAME]\n"                                           \
        "  uprobe     --target PATH [--fn NAME] [--offset N] [--pid PID]\n"                     \
        "             [--container-pid PID]\n"                                                  \
        "  uretprobe  (as uprobe)\n"                                                            \
        "  cgroup     --cgroup PATH [--attach-type TYPE]\n"                                     \
        "  kprobe     [--fn NAME] [--offset N]\n"                                               \
        "  kretprobe  [--fn NAME]\n"                                                            \
        "  fentry     [--fn NAME]\n"                                                            \
        "  fexit      [--fn NAME]\n"                                                            \
        "  (Options in brackets may be left out where the program's ELF section names the\n"    \
        "  hook, e.g. SEC(\"tracepoint/sched/sched_switch\"), SEC(\"kprobe/do_nanosleep\").)\n" \
        "  xdp        --iface NAME [--priority N] [--proceed-on ACTION,...]\n"                  \
        "             [--mode native|skb|hw] [--netns PATH]\n"                                  \
        "  tc         --iface NAME --direction ingress|egress [--priority N]\n"                 \
        "             [--proceed-on ACTION,...] [--netns PATH]\n"                               \
        "  tcx        (as tc)\n"

static inline bool attach_target_is_option(int c) {
        return c >= ARG_TARGET_FIRST && c < _ARG_TARGET_END;
}

void attach_target_done(AttachTarget *t);

/* These log what is wrong and return -EINVAL for a usage error. */
int attach_target_set_kind(AttachTarget *t, const char *kind);
int attach_target_parse_option(AttachTarget *t, int option, const char *value);
/* After parsing: does every given option belong to the kind, is every required one there? */
int attach_target_verify(const AttachTarget *t);

/* Appends the target as a{sv}; program (may be NULL) becomes the "program" key. */
int attach_target_append(sd_bus_message *m, const AttachTarget *t, const char *program);
