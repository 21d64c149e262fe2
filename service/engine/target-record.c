/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An attach target in the engine's records: the keys of a [Link N] group of a load group's key file. */
#include <assert.h>

#include "target-record.h"

#define SAVE_STR(field)                                                                                          \
        if (t->field)                                                                                          \
                g_key_file_set_string(kf, group, #field, t->field);

void attach_target_save(const AttachTarget *t, GKeyFile *kf, const char *group) {
        assert(t);
        assert(kf);
        assert(group);

        g_key_file_set_string(kf, group, "kind", kind_to_string(t->kind));
        SAVE_STR(tracepoint);
        SAVE_STR(target);
        SAVE_STR(function);
        SAVE_STR(cgroup);
        SAVE_STR(attach_type);
        SAVE_STR(interface);
        SAVE_STR(netns);
        SAVE_STR(direction);
        SAVE_STR(mode);
        if (t->has_offset)
                g_key_file_set_uint64(kf, group, "offset", t->offset);
        if (t->has_pid)
                g_key_file_set_integer(kf, group, "pid", t->pid);
        if (t->has_container_pid)
                g_key_file_set_integer(kf, group, "container_pid", t->container_pid);
        if (t->has_priority)
                g_key_file_set_integer(kf, group, "priority", t->priority);
        if (t->proceed_on)
                g_key_file_set_string_list(kf, group, "proceed_on", (const char *const *) t->proceed_on,
                                           strv_length(t->proceed_on));
}

static char *load_str(GKeyFile *kf, const char *group, const char *key) {
        gchar *v = g_key_file_get_string(kf, group, key, NULL);
        char *s = v ? strdup(v) : NULL;
        g_free(v);
        return s;
}

#define LOAD_STR(field) t->field = load_str(kf, group, #field);

int attach_target_load(AttachTarget *t, GKeyFile *kf, const char *group) {
        _cleanup_free_ char *kind = load_str(kf, group, "kind");

        assert(t);
        assert(kf);
        assert(group);

        *t = (AttachTarget) { .kind = kind ? kind_from_string(kind) : KIND_INVALID };
        if (t->kind < 0)
                return -EBADMSG;
        LOAD_STR(tracepoint);
        LOAD_STR(target);
        LOAD_STR(function);
        LOAD_STR(cgroup);
        LOAD_STR(attach_type);
        LOAD_STR(interface);
        LOAD_STR(netns);
        LOAD_STR(direction);
        LOAD_STR(mode);
        if ((t->has_offset = g_key_file_has_key(kf, group, "offset", NULL)))
                t->offset = g_key_file_get_uint64(kf, group, "offset", NULL);
        if ((t->has_pid = g_key_file_has_key(kf, group, "pid", NULL)))
                t->pid = g_key_file_get_integer(kf, group, "pid", NULL);
        if ((t->has_container_pid = g_key_file_has_key(kf, group, "container_pid", NULL)))
                t->container_pid = g_key_file_get_integer(kf, group, "container_pid", NULL);
        if ((t->has_priority = g_key_file_has_key(kf, group, "priority", NULL)))
                t->priority = g_key_file_get_integer(kf, group, "priority", NULL);
        if (g_key_file_has_key(kf, group, "proceed_on", NULL)) {
                gchar **l = g_key_file_get_string_list(kf, group, "proceed_on", NULL, NULL);
                t->proceed_on = strv_copy(l);
                g_strfreev(l);
        }
        /* A damaged record must not become a target without what its kind needs (a NULL tracepoint would
         * crash the first Detach's polkit check). */
        if (attach_target_validate(t, NULL) < 0) {
                attach_target_done(t);
                *t = (AttachTarget) { .kind = KIND_INVALID };
                return -EBADMSG;
        }
        return 0;
}
