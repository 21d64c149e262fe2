/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attach, Detach, Unload and the map calls of a managed program through the pipeline. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>

#include "bus-util.h"
#include "errors.h"
#include "deferred.h"
#include "interface-watch.h"
#include "checks-request.h"
#include "request-internal.h"
#include "target-resolve.h"
#include "engine-lifecycle.h"
#include "engine-maps.h"

/* ---- Attach: the target made whole for the program (attach_target_complete(), as for a load's targets),
 * its files opened as the caller on the worker, then polkit, then the worker attaches ---- */

static void attach_inspect(Request *req) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(engine_error_done) EngineError ee = ENGINE_ERROR_NULL;
        const ProgramInfo *p = request_program(req, req->id, &e);
        char label[32];
        int r;

        if (!p)
                return request_fail(req, &e);
        (void) snprintf(label, sizeof label, "Program %" PRIu32, p->id);
        r = attach_target_complete(&req->target, label, p->kind, strempty(p->section), p->attach_function,
                                   req->m->supported, &ee);
        if (r < 0) {
                if (!engine_error_is_set(&ee))
                        (void) engine_error_setf(&ee, BPFD_ERR_FAILED, "Out of memory.");
                return request_fail_engine(req, &ee);
        }
        /* Files the target names are opened as the caller first, so polkit sees what they are. */
        if (attach_target_names_files(&req->target))
                return request_submit(req);
        request_inspected(req);
}

static void attach_inspect_run(Request *req, Engine *e) {
        (void) targets_open_next(&req->target, 1, &req->caller, &req->opening, &req->error);
}

static void attach_inspect_done(Request *req) {
        if (req->opening)
                return request_wait_open(req); /* then attach_inspect_run() again */
        request_inspected(req);
}

static void attach_commit(Request *req, Engine *e) {
        assert(req->target.kind >= 0); /* completed for its program (attach_target_complete()) */
        (void) engine_attach(e, req->id, &req->target, &req->caller, &req->link, &req->error);
}

static int attach_reply(Request *req) {
        assert(req->link);
        _cleanup_free_ char *path = link_object_path(req->link->id);
        int r = path ? sd_bus_reply_method_return(req->msg, "o", path) : -ENOMEM;

        manager_scan_interface(req->m, req->link->netns_ino, req->link->ifindex);
        return r;
}

const OperationDesc op_attach = {
        .name = "attach",
        .needs_caller = true,
        .inspect = attach_inspect,
        .inspect_run = attach_inspect_run,
        .inspect_done = attach_inspect_done,
        .checks = checks_attach,
        .commit = attach_commit,
        .reply = attach_reply,
};

int request_attach_target(Manager *m, sd_bus_message *msg, uint32_t program_id, AttachTarget *target) {
        Request *req = request_new(m, msg, OP_ATTACH);

        assert(target);
        if (!req) {
                attach_target_done(target);
                return -ENOMEM;
        }
        req->id = program_id;
        attach_target_done(&req->target);
        req->target = *target;
        *target = (AttachTarget) { .kind = KIND_DEFAULT };
        return request_start(req);
}

/* ---- Detach, Unload ---- */

/* Only a link on a network hook changes what an interface object shows; a tracepoint's costs no scan. */
static void scan_interface_of_link(Manager *m, uint32_t link_id) {
        const LinkInfo *l = g_hash_table_lookup(m->links, GUINT_TO_POINTER(link_id));

        if (l)
                manager_scan_interface(m, l->netns_ino, l->ifindex);
}

static void detach_commit(Request *req, Engine *e) {
        (void) engine_detach(e, req->id, &req->error);
}

static int detach_reply(Request *req) {
        int r = sd_bus_reply_method_return(req->msg, NULL);

        scan_interface_of_link(req->m, req->id);
        return r;
}

const OperationDesc op_detach = {
        .name = "detach",
        .needs_caller = true,
        .checks = checks_detach,
        .commit = detach_commit,
        .reply = detach_reply,
};

static void unload_commit(Request *req, Engine *e) {
        (void) engine_unload(e, req->id, &req->gone_links, &req->n_gone, &req->error);
}

static int unload_reply(Request *req) {
        int r = sd_bus_reply_method_return(req->msg, NULL);

        for (size_t i = 0; i < req->n_gone; i++)
                scan_interface_of_link(req->m, req->gone_links[i]);
        manager_trim_later(req->m);
        return r;
}

const OperationDesc op_unload = {
        .name = "unload",
        .needs_caller = true,
        .checks = checks_unload,
        .commit = unload_commit,
        .reply = unload_reply,
};

static int request_by_id(Manager *m, sd_bus_message *msg, Operation op, uint32_t id) {
        Request *req = request_new(m, msg, op);

        if (!req)
                return -ENOMEM;
        req->id = id;
        return request_start(req);
}

int request_unload(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error) {
        return request_by_id(m, msg, OP_UNLOAD, id);
}

int request_detach(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error) {
        return request_by_id(m, msg, OP_DETACH, id);
}

/* ---- the maps of a managed program ---- */

static void map_commit(Request *req, Engine *e) {
        (void) engine_map_access(e, req->id, &req->map, &req->error);
}

static int append_map_info(sd_bus_message *reply, const MapAccess *a) {
        int r = sd_bus_message_open_container(reply, 'a', "{sv}");

        if (r >= 0)
                r = bus_append_dict_entry(reply, "id", "u", a->map_id);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "name", "s", a->map);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "type", "s", a->type);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "type_id", "u", a->map_type);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "key_size", "u", a->key_size);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "value_size", "u", a->value_size);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "max_entries", "u", a->max_entries);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "flags", "u", a->map_flags);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "per_cpu", "b", a->per_cpu);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "possible_cpus", "u", a->possible_cpus);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "btf_key_type_id", "u", a->btf_key_type_id);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "btf_value_type_id", "u", a->btf_value_type_id);
        if (r >= 0)
                r = bus_append_dict_entry(reply, "pin_path", "s", strempty(a->pin_path));
        if (r >= 0) {
                r = sd_bus_message_open_container(reply, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append_basic(reply, 's', "btf");
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'v', "ay");
                if (r >= 0)
                        r = sd_bus_message_append_array(reply, 'y', a->btf, a->btf_size);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int append_map_result(sd_bus_message *reply, const MapAccess *a) {
        int r = 0;

        switch (a->op) {
        case MAP_OP_LOOKUP:
                return sd_bus_message_append_array(reply, 'y', a->value, a->value_len);
        case MAP_OP_DUMP:
                assert(a->dump);
                r = sd_bus_message_open_container(reply, 'a', "(ayay)");
                for (size_t at = 0, n = a->dump_key_size + a->dump_value_size; r >= 0 && at + n <= a->dump->len && n > 0;
                     at += n) {
                        r = sd_bus_message_open_container(reply, 'r', "ayay");
                        if (r >= 0)
                                r = sd_bus_message_append_array(reply, 'y', a->dump->data + at, a->dump_key_size);
                        if (r >= 0)
                                r = sd_bus_message_append_array(reply, 'y', a->dump->data + at + a->dump_key_size,
                                                                a->dump_value_size);
                        if (r >= 0)
                                r = sd_bus_message_close_container(reply);
                }
                return r < 0 ? r : sd_bus_message_close_container(reply);
        case MAP_OP_INFO:
                return append_map_info(reply, a);
        case MAP_OP_RINGBUF:
                return sd_bus_message_append(reply, "h", a->ringbuf_fd); /* the message takes a copy */
        default:
                return 0; /* update, delete: no result */
        }
}

static int map_reply(Request *req) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        int r = sd_bus_message_new_method_return(req->msg, &reply);

        if (r >= 0)
                r = append_map_result(reply, &req->map);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

const OperationDesc op_map = {
        .name = "map",
        .needs_caller = true,
        .checks = checks_map,
        .commit = map_commit,
        .reply = map_reply,
};

int request_map(Manager *m, sd_bus_message *msg, uint32_t program_id, MapAccess *map) {
        Request *req = request_new(m, msg, OP_MAP);

        assert(map && map->map);
        if (!req) {
                map_access_done(map);
                return -ENOMEM;
        }
        req->id = program_id;
        req->map = *map;
        *map = (MapAccess) { .ringbuf_fd = -1 };
        return request_start(req);
}
