/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Manager's methods on programs and links, and the argument readers the Program and Link objects share
 * (bus_attach_program(), bus_map_access()): arguments into plain structs, then the request layer. */
#include <assert.h>
#include <inttypes.h>

#include "bus-util.h"
#include "errors.h"
#include "manager-methods.h"
#include "object-dict.h"
#include "op-lifecycle.h"
#include "op-query.h"
#include "target-bus.h"
#include "utf8.h"
#include "engine-maps.h"

int bus_attach_program(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error) {
        AttachTarget target = { .kind = KIND_DEFAULT };
        int r = attach_target_read(msg, false, &target, error);

        if (r < 0) {
                attach_target_done(&target);
                return r;
        }
        return request_attach_target(m, msg, id, &target);
}

/* An "ay" argument, copied out of the message (keys and values up to 16 MiB). */
static int read_bytes(sd_bus_message *msg, uint8_t **ret, size_t *ret_size, sd_bus_error *error) {
        const void *data;
        size_t size;
        int r = sd_bus_message_read_array(msg, 'y', &data, &size);

        if (r < 0)
                return r;
        if (size > 16U * 1024U * 1024U)
                return bpfd_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "A key or value is too large.");
        *ret = malloc(size + 1);
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, data, size);
        *ret_size = size;
        return 0;
}

static int read_map_access(sd_bus_message *msg, int op, MapAccess *a, sd_bus_error *error) {
        const char *name;
        int r;

        a->op = op;
        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        if (!*name || strlen(name) > BPFD_NAME_MAX)
                return bpfd_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "'%.*s' is not a map name.",
                                         UTF8_CUT(name, 64));
        a->map = strdup(name);
        if (!a->map)
                return -ENOMEM;
        if (IN_SET2(op, MAP_OP_LOOKUP, MAP_OP_UPDATE) || op == MAP_OP_DELETE) {
                r = read_bytes(msg, &a->key, &a->key_size_given, error);
                if (r < 0)
                        return r;
        }
        if (op == MAP_OP_UPDATE) {
                r = read_bytes(msg, &a->value, &a->value_len, error);
                if (r < 0)
                        return r;
                r = sd_bus_message_read(msg, "t", &a->flags);
                if (r < 0)
                        return r;
        }
        return 0;
}

int bus_map_access(Manager *m, sd_bus_message *msg, uint32_t id, int op, sd_bus_error *error) {
        MapAccess a = { .ringbuf_fd = -1 };
        int r;

        assert(op >= MAP_OP_INFO && op <= MAP_OP_RINGBUF);
        r = read_map_access(msg, op, &a, error);
        if (r < 0) {
                map_access_done(&a);
                return r;
        }
        return request_map(m, msg, id, &a);
}

int method_unload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        uint32_t id;
        int r = sd_bus_message_read(msg, "u", &id);
        return r < 0 ? r : request_unload(userdata, msg, id, error);
}

int method_detach(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        uint32_t id;
        int r = sd_bus_message_read(msg, "u", &id);
        return r < 0 ? r : request_detach(userdata, msg, id, error);
}

int method_attach(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        uint32_t id;
        int r = sd_bus_message_read(msg, "u", &id);
        return r < 0 ? r : bus_attach_program(userdata, msg, id, error);
}

static int read_filter_all(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        int b, r = sd_bus_message_read_basic(m, 'b', &b);
        ((ProgramFilter *) userdata)->all = b;
        return r;
}

static int read_filter_kind(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        ProgramFilter *f = userdata;
        int r = bus_read_string_checked(m, key, BPFD_NAME_MAX, &f->kind, error);
        if (r >= 0 && kind_from_string(f->kind) == KIND_INVALID)
                return bpfd_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                       "Unknown program kind '%s' (known: tracepoint, uprobe, uretprobe, cgroup, "
                                       "kprobe, kretprobe, fentry, fexit, xdp, tc, tcx).", f->kind);
        return r;
}

static int read_filter_owner(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        ProgramFilter *f = userdata;
        f->has_owner = true;
        return sd_bus_message_read_basic(m, 'u', &f->owner);
}

static int read_filter_program(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        return sd_bus_message_read_basic(m, 'u', (uint32_t *) userdata);
}

static const BusOption list_filter[] = {
        { "all", "b", read_filter_all },
        { "kind", "s", read_filter_kind },
        { "owner_uid", "u", read_filter_owner },
        {}
};

static const BusOption link_filter[] = {
        { "program_id", "u", read_filter_program },
        {}
};

int method_list_programs(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ProgramFilter filter = {};
        int r = bus_read_options(msg, "filter", list_filter, &filter, error);

        if (r < 0) {
                program_filter_done(&filter);
                return r;
        }
        return request_list_programs(userdata, msg, &filter);
}

int method_get_program(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        uint32_t id;
        int r = sd_bus_message_read(msg, "u", &id);
        return r < 0 ? r : request_get_program(userdata, msg, id);
}

static int cmp_link_info(gconstpointer a, gconstpointer b) {
        const LinkInfo *x = *(LinkInfo *const *) a, *y = *(LinkInfo *const *) b;
        return x->id < y->id ? -1 : x->id > y->id;
}

/* From the view: no trip to the worker. */
int method_list_links(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        g_autoptr(GPtrArray) list = g_ptr_array_sized_new(g_hash_table_size(m->links));
        uint32_t program_id = 0;
        GHashTableIter it;
        gpointer v;
        int r;

        r = bus_read_options(msg, "filter", link_filter, &program_id, error);
        if (r < 0)
                return r;
        g_hash_table_iter_init(&it, m->links);
        while (g_hash_table_iter_next(&it, NULL, &v))
                g_ptr_array_add(list, v);
        g_ptr_array_sort(list, cmp_link_info);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (guint i = 0; r >= 0 && i < list->len; i++) {
                LinkInfo *l = g_ptr_array_index(list, i);
                if (program_id == 0 || l->program_id == program_id)
                        r = append_link_dict(reply, l);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

int method_get_link(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        LinkInfo *l;
        uint32_t id;
        int r;

        r = sd_bus_message_read(msg, "u", &id);
        if (r < 0)
                return r;
        l = g_hash_table_lookup(m->links, GUINT_TO_POINTER(id));
        if (!l)
                return bpfd_error_setf(error, BPFD_ERR_LINK_NOT_FOUND, "No link %" PRIu32 " is managed by bpfd.", id);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_link_dict(reply, l);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}
