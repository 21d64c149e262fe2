/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>

#include "attach.h"
#include "polkit-details.h"

const char *attach_type_detail(Kind kind, int expected, const AttachTarget *target) {
        if (kind == KIND_CGROUP)
                return target && target->attach_type ? target->attach_type : cgroup_attach_type_to_string(expected);
        if (IN_SET2(kind, KIND_TC, KIND_TCX))
                return target && target->direction ? target->direction : NULL;
        return NULL;
}

static int push(char ***l, const char *key, char *value) {
        if (!value)
                return -ENOMEM;
        if (strv_push(l, strdup(key)) < 0) {
                free(value);
                return -ENOMEM;
        }
        return strv_push(l, value);
}

static char *int_string(bool has, long long v) {
        char *s = NULL;
        return !has ? strdup("") : asprintf(&s, "%lld", v) < 0 ? NULL : s;
}

char *check_describe(const CheckSpec *c) {
        bool has_target = c->target && c->target->kind >= 0;
        _cleanup_free_ char *where = has_target ? attach_target_describe(c->target) : NULL;
        char *s = NULL;

        /* No description rather than one without its target: a question fails closed, never vaguer. */
        if (has_target && !where)
                return NULL;
        if (asprintf(&s, "the %s program '%s'%s%s%s%s", c->kind >= 0 ? kind_to_string(c->kind) : "BPF",
                     strempty(c->program_name), where ? " at " : "", strempty(where),
                     c->attach_type && !where ? " for " : "", c->attach_type && !where ? c->attach_type : "") < 0)
                return NULL;
        return s;
}

static char *message(const CheckSpec *c) {
        _cleanup_free_ char *what = check_describe(c);
        const char *verb = streq(c->operation, "load")     ? "load"
                           : streq(c->operation, "attach") ? "attach"
                           : streq(c->operation, "detach") ? "detach"
                           : streq(c->operation, "unload") ? "unload"
                           : streq(c->operation, "share")  ? "share the maps of"
                           : streq(c->operation, "pull")   ? "pull"
                           : streq(c->operation, "remove") ? "remove"
                                                           : "access the maps of";
        char *s = NULL;

        if (!what)
                return NULL;
        if (c->image && (streq(c->operation, "pull") || streq(c->operation, "remove")))
                return asprintf(&s, "Authentication is required to %s the BPF image %s.", verb, c->image) < 0 ? NULL : s;
        if (asprintf(&s, "Authentication is required to %s %s%s%s.", verb, what, c->image ? " from image " : "",
                     strempty(c->image)) < 0)
                return NULL;
        return s;
}

char **polkit_details_new(const CheckSpec *c) {
        assert(c && c->action && c->operation);
        const AttachTarget *t = c->target && c->target->kind >= 0 ? c->target : NULL;
        _cleanup_strv_free_ char **l = NULL;
        char *detail = t ? attach_target_polkit_detail(t) : strdup("");
        char *proceed = t && t->proceed_on ? g_strjoinv(",", t->proceed_on) : NULL;
        int r;

        if (strv_push(&l, strdup(c->action)) < 0) {
                free(detail);
                g_free(proceed);
                return NULL;
        }
        r = push(&l, "operation", strdup(c->operation));
        if (r >= 0)
                r = push(&l, "kind", strdup(c->kind >= 0 ? kind_to_string(c->kind) : ""));
        if (r >= 0)
                r = push(&l, "program_name", strdup(strempty(c->program_name)));
        if (r >= 0)
                r = push(&l, "attach_target", TAKE_PTR(detail));
        if (r >= 0)
                r = push(&l, "attach_type", strdup(strempty(c->attach_type)));
        if (r >= 0)
                r = push(&l, "interface", strdup(t ? strempty(t->interface) : ""));
        if (r >= 0)
                r = push(&l, "netns", strdup(t && t->resolved && t->resolved->netns_path ? t->resolved->netns_path :
                                             t ? strempty(t->netns) : ""));
        if (r >= 0)
                r = push(&l, "priority", int_string(t && t->has_priority, t ? t->priority : 0));
        if (r >= 0)
                r = push(&l, "proceed_on", strdup(strempty(proceed)));
        if (r >= 0)
                r = push(&l, "pid", int_string(t && t->has_pid, t ? t->pid : 0));
        if (r >= 0)
                r = push(&l, "container_pid", int_string(t && t->has_container_pid, t ? t->container_pid : 0));
        if (r >= 0)
                r = push(&l, "owner_uid", int_string(c->owner_uid != (uid_t) -1, c->owner_uid));
        if (r >= 0)
                r = push(&l, "map_name", strdup(strempty(c->map_name)));
        if (r >= 0)
                r = push(&l, "map_owner_uid", int_string(c->has_map_owner_uid, c->map_owner_uid));
        if (r >= 0)
                r = push(&l, "image", strdup(strempty(c->image)));
        if (r >= 0)
                r = push(&l, "registry", strdup(strempty(c->registry)));
        if (r >= 0)
                r = push(&l, "image_digest", strdup(strempty(c->image_digest)));
        if (r >= 0)
                r = push(&l, "polkit.message", message(c));
        free(detail);
        g_free(proceed);
        return r < 0 ? NULL : TAKE_PTR(l);
}
