/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>

#include "bus-util.h"
#include "errors.h"
#include "target-bus.h"
#include "utf8.h"

#define STRING_READER(field, max)                                                                                \
        static int read_##field(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {      \
                return bus_read_string_checked(m, key, (max), &((AttachTarget *) userdata)->field, error);      \
        }
STRING_READER(program, BPFD_NAME_MAX)
STRING_READER(tracepoint, BPFD_NAME_MAX)
STRING_READER(target, BPFD_STRING_MAX)
STRING_READER(function, BPFD_NAME_MAX)
STRING_READER(cgroup, BPFD_STRING_MAX)
STRING_READER(attach_type, BPFD_NAME_MAX)
STRING_READER(interface, BPFD_NAME_MAX)
STRING_READER(netns, BPFD_STRING_MAX)
STRING_READER(direction, BPFD_NAME_MAX)
STRING_READER(mode, BPFD_NAME_MAX)

static int read_kind(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        AttachTarget *t = userdata;
        const char *s;
        int r;

        r = sd_bus_message_read_basic(m, 's', &s);
        if (r < 0)
                return r;
        t->kind = kind_from_string(s);
        if (t->kind == KIND_INVALID)
                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT,
                                         "Unknown program kind '%.*s' (known: tracepoint, uprobe, uretprobe, "
                                         "cgroup, kprobe, kretprobe, fentry, fexit, xdp, tc, tcx).", UTF8_CUT(s, 64));
        return 0;
}

static int read_offset(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        AttachTarget *t = userdata;
        t->has_offset = true;
        return sd_bus_message_read_basic(m, 't', &t->offset);
}

static int read_pid(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        AttachTarget *t = userdata;
        int r = sd_bus_message_read_basic(m, 'i', &t->pid);
        if (r < 0)
                return r;
        if (t->pid <= 0)
                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT, "'pid' must be a positive process id.");
        t->has_pid = true;
        return 0;
}

static int read_container_pid(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        AttachTarget *t = userdata;
        int r = sd_bus_message_read_basic(m, 'i', &t->container_pid);
        if (r < 0)
                return r;
        if (t->container_pid <= 0)
                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT,
                                         "'container_pid' must be a positive process id.");
        t->has_container_pid = true;
        return 0;
}

static int read_priority(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        AttachTarget *t = userdata;
        t->has_priority = true;
        return sd_bus_message_read_basic(m, 'i', &t->priority);
}

static int read_retprobe(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        AttachTarget *t = userdata;
        int b, r = sd_bus_message_read_basic(m, 'b', &b);
        t->retprobe = b;
        return r;
}

static int read_proceed_on(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        return bus_read_strv_checked(m, key, &((AttachTarget *) userdata)->proceed_on, error);
}

static const BusOption target_options[] = {
        { "kind", "s", read_kind },
        { "program", "s", read_program },
        { "tracepoint", "s", read_tracepoint },
        { "target", "s", read_target },
        { "function", "s", read_function },
        { "offset", "t", read_offset },
        { "pid", "i", read_pid },
        { "container_pid", "i", read_container_pid },
        { "retprobe", "b", read_retprobe },
        { "cgroup", "s", read_cgroup },
        { "attach_type", "s", read_attach_type },
        { "interface", "s", read_interface },
        { "netns", "s", read_netns },
        { "direction", "s", read_direction },
        { "mode", "s", read_mode },
        { "priority", "i", read_priority },
        { "proceed_on", "as", read_proceed_on },
        {}
};

int attach_target_read(sd_bus_message *m, bool allow_program, AttachTarget *ret, sd_bus_error *error) {
        int r;

        *ret = (AttachTarget) { .kind = KIND_DEFAULT };
        r = bus_read_options(m, "attach", target_options, ret, error);
        if (r < 0)
                goto fail;
        if (ret->program && !allow_program) {
                r = sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT,
                                      "The attach option 'program' is only valid in load options.");
                goto fail;
        }
        /* "retprobe" is another way to say the ret kind. */
        if (ret->retprobe) {
                if (ret->kind == KIND_UPROBE)
                        ret->kind = KIND_URETPROBE;
                else if (ret->kind == KIND_KPROBE)
                        ret->kind = KIND_KRETPROBE;
                else if (!IN_SET2(ret->kind, KIND_URETPROBE, KIND_KRETPROBE) && ret->kind != KIND_DEFAULT) {
                        r = sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT,
                                              "'retprobe' applies to uprobe and kprobe targets only.");
                        goto fail;
                }
        }
        return 0;
fail:
        attach_target_done(ret);
        return r;
}

#define APPEND_STR(key, field)                                                                                   \
        if (t->field) {                                                                                        \
                r = bus_append_dict_entry(m, key, "s", t->field);                                              \
                if (r < 0)                                                                                     \
                        return r;                                                                              \
        }

int attach_target_append(sd_bus_message *m, const AttachTarget *t) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        if (t->kind >= 0) {
                r = bus_append_dict_entry(m, "kind", "s", kind_to_string(t->kind));
                if (r < 0)
                        return r;
        }
        APPEND_STR("tracepoint", tracepoint);
        APPEND_STR("target", target);
        APPEND_STR("function", function);
        APPEND_STR("cgroup", cgroup);
        APPEND_STR("attach_type", attach_type);
        APPEND_STR("interface", interface);
        APPEND_STR("netns", netns);
        APPEND_STR("direction", direction);
        APPEND_STR("mode", mode);
        if (t->has_offset && (r = bus_append_dict_entry(m, "offset", "t", t->offset)) < 0)
                return r;
        if (t->has_pid && (r = bus_append_dict_entry(m, "pid", "i", t->pid)) < 0)
                return r;
        if (t->has_container_pid && (r = bus_append_dict_entry(m, "container_pid", "i", t->container_pid)) < 0)
                return r;
        if (t->has_priority && (r = bus_append_dict_entry(m, "priority", "i", t->priority)) < 0)
                return r;
        if (t->proceed_on) {
                /* A strv does not go through the varargs of bus_append_dict_entry(). */
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append_basic(m, 's', "proceed_on");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, t->proceed_on);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}
