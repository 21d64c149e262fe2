/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-dict.h"
#include "target.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

#define OPT(o) (1u << ((o) - ARG_TARGET_FIRST))

static const char * const option_names[_ARG_TARGET_END - ARG_TARGET_FIRST] = {
        [ARG_TRACEPOINT - ARG_TARGET_FIRST]  = "--tracepoint",
        [ARG_TARGET - ARG_TARGET_FIRST]      = "--target",
        [ARG_FN - ARG_TARGET_FIRST]          = "--fn",
        [ARG_OFFSET - ARG_TARGET_FIRST]      = "--offset",
        [ARG_PID - ARG_TARGET_FIRST]         = "--pid",
        [ARG_CONTAINER_PID - ARG_TARGET_FIRST] = "--container-pid",
        [ARG_CGROUP - ARG_TARGET_FIRST]      = "--cgroup",
        [ARG_ATTACH_TYPE - ARG_TARGET_FIRST] = "--attach-type",
        [ARG_IFACE - ARG_TARGET_FIRST]       = "--iface",
        [ARG_PRIORITY - ARG_TARGET_FIRST]    = "--priority",
        [ARG_PROCEED_ON - ARG_TARGET_FIRST]  = "--proceed-on",
        [ARG_MODE - ARG_TARGET_FIRST]        = "--mode",
        [ARG_NETNS - ARG_TARGET_FIRST]       = "--netns",
        [ARG_DIRECTION - ARG_TARGET_FIRST]   = "--direction",
};

#define UPROBE_OPTIONS (OPT(ARG_TARGET) | OPT(ARG_FN) | OPT(ARG_OFFSET) | OPT(ARG_PID) | OPT(ARG_CONTAINER_PID))
#define KPROBE_OPTIONS (OPT(ARG_FN) | OPT(ARG_OFFSET))
#define NET_OPTIONS (OPT(ARG_IFACE) | OPT(ARG_PRIORITY) | OPT(ARG_PROCEED_ON) | OPT(ARG_NETNS))

/* What bpfctl itself can check; whether the kernel and daemon support a
 * kind is the daemon's to say (NotSupported). */
static const struct {
        const char *name;
        unsigned allowed;
        unsigned required;
} kinds[] = {
        /* Where the ELF section names the hook (tracepoint/CAT/NAME, kprobe/FUNC, fentry/FUNC), bpfd uses it:
         * those options are optional. */
        { "tracepoint", OPT(ARG_TRACEPOINT),                       0 },
        { "uprobe",     UPROBE_OPTIONS,                            OPT(ARG_TARGET) },
        { "uretprobe",  UPROBE_OPTIONS,                            OPT(ARG_TARGET) },
        { "cgroup",     OPT(ARG_CGROUP) | OPT(ARG_ATTACH_TYPE),    OPT(ARG_CGROUP) },
        { "kprobe",     KPROBE_OPTIONS,                            0 },
        { "kretprobe",  KPROBE_OPTIONS,                            0 },
        { "fentry",     OPT(ARG_FN),                               0 },
        { "fexit",      OPT(ARG_FN),                               0 },
        { "xdp",        NET_OPTIONS | OPT(ARG_MODE),               OPT(ARG_IFACE) },
        { "tc",         NET_OPTIONS | OPT(ARG_DIRECTION),          OPT(ARG_IFACE) | OPT(ARG_DIRECTION) },
        { "tcx",        NET_OPTIONS | OPT(ARG_DIRECTION),          OPT(ARG_IFACE) | OPT(ARG_DIRECTION) },
};

static const char *option_name(int option) {
        return option_names[option - ARG_TARGET_FIRST];
}

void attach_target_done(AttachTarget *t) {
        free(t->kind);
        free(t->tracepoint);
        free(t->binary);
        free(t->function);
        free(t->cgroup);
        free(t->attach_type);
        free(t->interface);
        strv_free(t->proceed_on);
        free(t->mode);
        free(t->netns);
        free(t->direction);
        *t = (AttachTarget) {};
}

static int find_kind(const char *kind) {
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (streq(kinds[i].name, kind))
                        return (int) i;
        return -ENOENT;
}

int attach_target_set_kind(AttachTarget *t, const char *kind) {
        if (find_kind(kind) < 0) {
                log_error("unknown kind '%s'; kinds are tracepoint, uprobe, uretprobe, cgroup, "
                          "kprobe, kretprobe, fentry, fexit, xdp, tc and tcx", kind);
                return -EINVAL;
        }

        free(t->kind);
        t->kind = strdup(kind);
        if (!t->kind)
                return log_oom();
        return 0;
}

static int set_string(char **field, const char *value) {
        char *s = strdup(value);

        if (!s)
                return log_oom();
        free(*field);
        *field = s;
        return 0;
}

static int set_path(int option, char **field, const char *value) {
        char *s;
        int r;

        r = path_make_absolute_cwd(value, &s);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                log_error("cannot make %s path '%s' absolute: %s", option_name(option), value, strerror(-r));
                return -EINVAL;
        }
        free(*field);
        *field = s;
        return 0;
}

static int invalid(int option, const char *value, const char *expected) {
        log_error("invalid %s value '%s': expected %s", option_name(option), value, expected);
        return -EINVAL;
}

int attach_target_parse_option(AttachTarget *t, int option, const char *value) {
        const char *slash;
        int r;

        if (!attach_target_is_option(option))
                return -EINVAL;

        /* Empty strings are always a mistake (an unset shell variable, say). */
        if (isempty(value))
                return invalid(option, value, "a non-empty value");

        switch (option) {
        case ARG_TRACEPOINT:
                slash = strchr(value, '/');
                if (!slash || slash == value || slash[1] == '\0' || strchr(slash + 1, '/'))
                        return invalid(option, value, "CATEGORY/NAME, e.g. sched/sched_switch");
                r = set_string(&t->tracepoint, value);
                break;

        case ARG_TARGET:
                r = set_path(option, &t->binary, value);
                break;

        case ARG_FN:
                r = set_string(&t->function, value);
                break;

        case ARG_OFFSET:
                if (parse_u64(value, &t->offset) < 0)
                        return invalid(option, value, "a non-negative number (decimal, or hexadecimal with 0x)");
                r = 0;
                break;

        case ARG_PID:
                if (parse_i32(value, &t->pid) < 0 || t->pid <= 0)
                        return invalid(option, value, "a process id");
                r = 0;
                break;

        case ARG_CONTAINER_PID:
                if (parse_i32(value, &t->container_pid) < 0 || t->container_pid <= 0)
                        return invalid(option, value, "a process id");
                r = 0;
                break;

        case ARG_CGROUP:
                r = set_path(option, &t->cgroup, value);
                break;

        case ARG_ATTACH_TYPE:
                r = set_string(&t->attach_type, value);
                break;

        case ARG_IFACE:
                r = set_string(&t->interface, value);
                break;

        case ARG_PRIORITY:
                if (parse_i32(value, &t->priority) < 0)
                        return invalid(option, value, "a number");
                r = 0;
                break;

        case ARG_PROCEED_ON: {
                _cleanup_strv_free_ char **actions = NULL;

                if (strv_split_comma(value, &actions) < 0)
                        return invalid(option, value, "a comma-separated list of actions, e.g. pass,dispatcher_return");
                /* Repeating the option adds to the list. */
                for (char **a = actions; *a; a++)
                        if (!strv_contains(t->proceed_on, *a) && strv_extend(&t->proceed_on, *a) < 0)
                                return log_oom();
                r = 0;
                break;
        }

        case ARG_MODE:
                if (!streq(value, "native") && !streq(value, "skb") && !streq(value, "hw"))
                        return invalid(option, value, "native, skb or hw");
                r = set_string(&t->mode, value);
                break;

        case ARG_NETNS:
                r = set_string(&t->netns, value);
                break;

        case ARG_DIRECTION:
                if (!streq(value, "ingress") && !streq(value, "egress"))
                        return invalid(option, value, "ingress or egress");
                r = set_string(&t->direction, value);
                break;

        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;

        t->options_given |= OPT(option);
        return 0;
}

int attach_target_verify(const AttachTarget *t) {
        int k;

        if (!t->kind) {
                /* Options without a kind: name the first one given. */
                for (int o = ARG_TARGET_FIRST; o < _ARG_TARGET_END; o++)
                        if (t->options_given & OPT(o)) {
                                log_error("%s is an option of an attach KIND, and no KIND is given "
                                          "(e.g. 'tracepoint --tracepoint sched/sched_switch')", option_name(o));
                                return -EINVAL;
                        }
                return 0;
        }

        k = find_kind(t->kind);
        if (k < 0)
                return -EINVAL;

        for (int o = ARG_TARGET_FIRST; o < _ARG_TARGET_END; o++) {
                if ((t->options_given & OPT(o)) && !(kinds[k].allowed & OPT(o))) {
                        log_error("%s is not an option of kind %s", option_name(o), t->kind);
                        return -EINVAL;
                }
                if (!(t->options_given & OPT(o)) && (kinds[k].required & OPT(o))) {
                        log_error("kind %s needs %s", t->kind, option_name(o));
                        return -EINVAL;
                }
        }

        return 0;
}

int attach_target_append(sd_bus_message *m, const AttachTarget *t, const char *program) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;

        r = bus_append_sv_string(m, "kind", t->kind);
        if (r < 0)
                return r;

        if (program) {
                r = bus_append_sv_string(m, "program", program);
                if (r < 0)
                        return r;
        }

#define GIVEN(o) (t->options_given & OPT(o))
        if (GIVEN(ARG_TRACEPOINT) && (r = bus_append_sv_string(m, "tracepoint", t->tracepoint)) < 0)
                return r;
        if (GIVEN(ARG_TARGET) && (r = bus_append_sv_string(m, "target", t->binary)) < 0)
                return r;
        if (GIVEN(ARG_FN) && (r = bus_append_sv_string(m, "function", t->function)) < 0)
                return r;
        if (GIVEN(ARG_OFFSET) && (r = bus_append_sv_u64(m, "offset", t->offset)) < 0)
                return r;
        if (GIVEN(ARG_PID) && (r = bus_append_sv_i32(m, "pid", t->pid)) < 0)
                return r;
        if (GIVEN(ARG_CONTAINER_PID) && (r = bus_append_sv_i32(m, "container_pid", t->container_pid)) < 0)
                return r;
        if (GIVEN(ARG_CGROUP) && (r = bus_append_sv_string(m, "cgroup", t->cgroup)) < 0)
                return r;
        if (GIVEN(ARG_ATTACH_TYPE) && (r = bus_append_sv_string(m, "attach_type", t->attach_type)) < 0)
                return r;
        if (GIVEN(ARG_IFACE) && (r = bus_append_sv_string(m, "interface", t->interface)) < 0)
                return r;
        if (GIVEN(ARG_PRIORITY) && (r = bus_append_sv_i32(m, "priority", t->priority)) < 0)
                return r;
        if (GIVEN(ARG_PROCEED_ON) && (r = bus_append_sv_strv(m, "proceed_on", t->proceed_on)) < 0)
                return r;
        if (GIVEN(ARG_MODE) && (r = bus_append_sv_string(m, "mode", t->mode)) < 0)
                return r;
        if (GIVEN(ARG_NETNS) && (r = bus_append_sv_string(m, "netns", t->netns)) < 0)
                return r;
        if (GIVEN(ARG_DIRECTION) && (r = bus_append_sv_string(m, "direction", t->direction)) < 0)
                return r;
#undef GIVEN

        return sd_bus_message_close_container(m);
}
