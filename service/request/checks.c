/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The polkit questions of each operation: pure functions of the operation's arguments, the caller and the
 * view (what bpfd has loaded), run on the bus thread after the unprivileged inspection. Nothing here opens,
 * parses or asks anything; request.c asks the questions in the order they are added. */
#include <assert.h>
#include <inttypes.h>

#include "checks.h"
#include "errors.h"
#include "checks-request.h"
#include "request-internal.h"
#include "engine-maps.h"

bool caller_owns(const Caller *caller, uid_t owner) {
        assert(caller && caller->uid != (uid_t) -1);
        return owner == caller->uid;
}

static bool request_owns(const Request *req, uid_t owner) {
        return caller_owns(&req->caller, owner);
}

static const char *no_program_suffix(const char *why) {
        return why ? why : "";
}

static const ProgramInfo *program_lookup(const Request *req, uint32_t id, const char *why, sd_bus_error *error) {
        const ProgramInfo *p = g_hash_table_lookup(req->m->programs, GUINT_TO_POINTER(id));

        if (!p)
                (void) bpfd_error_setf(error, BPFD_ERR_PROGRAM_NOT_FOUND, "No program %" PRIu32 " is loaded by bpfd%s.",
                                         id, no_program_suffix(why));
        return p;
}

const ProgramInfo *request_program(const Request *req, uint32_t id, sd_bus_error *error) {
        return program_lookup(req, id, NULL, error);
}

/* A question whose image details, where the request names an image, are the request's. */
static void add_check(const Request *req, Authorization *out, CheckSpec spec) {
        if (req->load && req->load->image_ref && !spec.image) {
                spec.image = req->load->image_ref;
                spec.registry = req->load->image_registry;
                spec.image_digest = req->load->image_digest;
        }
        authorization_add(out, &spec, NULL, NULL);
}

/* A question about a program of another user: the same details, for org.bpfd.manage-others. */
static void add_manage_others(const Request *req, Authorization *out, CheckSpec spec) {
        spec.action = "org.bpfd.manage-others";
        add_check(req, out, spec);
}

/* LoadFromImage: "may this caller have this image pulled?" before the registry or the cache is touched; the
 * kinds, known after inspection, are asked about again (checks_load()). */
int checks_load_gate(const Request *req, Authorization *out, sd_bus_error *error) {
        assert(req->op == OP_LOAD && req->load);
        if (!req->load->image_ref)
                return 0;
        add_check(req, out, (CheckSpec) { .action = "org.bpfd.load-image", .operation = "pull", .kind = KIND_INVALID,
                                          .program_name = "", .owner_uid = req->caller.uid });
        return 0;
}

/* Loading from an image has its own action, so a rule can allow users to load only from a trusted registry. */
static const char *load_action(const LoadRequest *load) {
        return load->image_ref ? "org.bpfd.load-image" : "org.bpfd.load";
}

void checks_add_load(Authorization *out, const LoadRequest *load, uid_t caller_uid, bool has_map_owner,
                     uid_t map_owner_uid, const char *extra_key, const char *extra_value) {
        assert(out && load && load->selected);
        for (size_t i = 0; load->selected[i]; i++) {
                CheckSpec spec = { .action = load_action(load), .operation = "load", .kind = load->kinds[i],
                                   .program_name = load->selected[i], .owner_uid = caller_uid,
                                   .attach_type = attach_type_detail(load->kinds[i], load->expected_attach_types[i], NULL),
                                   .has_map_owner_uid = has_map_owner, .map_owner_uid = has_map_owner ? map_owner_uid : 0,
                                   .image = load->image_ref, .registry = load->image_registry,
                                   .image_digest = load->image_digest };
                bool targeted = false;

                for (size_t t = 0; t < load->n_targets; t++)
                        if (streq(load->targets[t].program, load->selected[i])) {
                                spec.target = &load->targets[t];
                                spec.attach_type = attach_type_detail(load->targets[t].kind,
                                                                      load->expected_attach_types[i], &load->targets[t]);
                                authorization_add(out, &spec, extra_key, extra_value);
                                targeted = true;
                        }
                if (!targeted)
                        authorization_add(out, &spec, extra_key, extra_value);
        }
        for (size_t t = 0; t < load->n_targets; t++) {
                size_t i = 0;
                while (load->selected[i] && !streq(load->selected[i], load->targets[t].program))
                        i++;
                assert(load->selected[i]); /* load_plan() matched every target to a program */
                authorization_add(out, &(CheckSpec) { .action = "org.bpfd.attach", .operation = "attach",
                                                      .kind = load->targets[t].kind, .program_name = load->targets[t].program,
                                                      .target = &load->targets[t], .owner_uid = caller_uid,
                                                      .attach_type = attach_type_detail(load->targets[t].kind,
                                                                                        load->expected_attach_types[i],
                                                                                        &load->targets[t]) },
                                  extra_key, extra_value);
        }
}

/* After inspection the program kinds are known: the load's questions (checks_add_load()), then sharing
 * another user's maps: the same right as reading them, asked before the worker compares any shape. */
int checks_load(const Request *req, Authorization *out, sd_bus_error *error) {
        const LoadRequest *load = req->load;
        const ProgramInfo *owner = NULL;

        assert(req->op == OP_LOAD && load->selected);
        if (load->map_owner_id) {
                owner = program_lookup(req, load->map_owner_id, " to share maps with", error);
                if (!owner)
                        return -ENOENT;
        }
        checks_add_load(out, load, req->caller.uid, owner, owner ? owner->owner_uid : 0, NULL, NULL);
        if (owner && !request_owns(req, owner->owner_uid))
                authorization_add(out, &(CheckSpec) { .action = "org.bpfd.map-others", .operation = "share",
                                                      .kind = owner->kind, .program_name = owner->name,
                                                      .owner_uid = owner->owner_uid, .has_map_owner_uid = true,
                                                      .map_owner_uid = owner->owner_uid },
                                  NULL, NULL);
        return 0;
}

/* owner_uid: the program's owner, whose program gets a new attachment. */
int checks_attach(const Request *req, Authorization *out, sd_bus_error *error) {
        const ProgramInfo *p = request_program(req, req->id, error);
        CheckSpec spec;

        assert(req->op == OP_ATTACH);
        if (!p)
                return -ENOENT;
        spec = (CheckSpec) { .action = "org.bpfd.attach", .operation = "attach", .kind = req->target.kind,
                             .program_name = p->name, .target = &req->target,
                             .attach_type = attach_type_detail(req->target.kind, p->expected_attach_type, &req->target),
                             .owner_uid = p->owner_uid };
        authorization_add(out, &spec, NULL, NULL);
        if (!request_owns(req, p->owner_uid))
                add_manage_others(req, out, spec);
        return 0;
}

/* Owners unload their own programs without asking anybody. */
int checks_unload(const Request *req, Authorization *out, sd_bus_error *error) {
        const ProgramInfo *p = request_program(req, req->id, error);

        assert(req->op == OP_UNLOAD);
        if (!p)
                return -ENOENT;
        if (!request_owns(req, p->owner_uid))
                add_manage_others(req, out, (CheckSpec) { .operation = "unload", .kind = p->kind,
                                                          .program_name = p->name, .owner_uid = p->owner_uid });
        return 0;
}

/* A link is its owner's and its program owner's to detach. */
int checks_detach(const Request *req, Authorization *out, sd_bus_error *error) {
        const LinkInfo *l = g_hash_table_lookup(req->m->links, GUINT_TO_POINTER(req->id));
        const ProgramInfo *p;

        assert(req->op == OP_DETACH);
        if (!l)
                return bpfd_error_setf(error, BPFD_ERR_LINK_NOT_FOUND, "No link %" PRIu32 " is managed by bpfd.",
                                         req->id);
        p = g_hash_table_lookup(req->m->programs, GUINT_TO_POINTER(l->program_id));
        if (!request_owns(req, l->owner_uid) && !(p && request_owns(req, p->owner_uid)))
                add_manage_others(req, out, (CheckSpec) { .operation = "detach", .kind = l->target.kind,
                                                          .program_name = p ? p->name : "", .target = &l->target,
                                                          .owner_uid = l->owner_uid });
        return 0;
}

int checks_map(const Request *req, Authorization *out, sd_bus_error *error) {
        static const char *const op_names[] = {
                [MAP_OP_INFO] = "info", [MAP_OP_LOOKUP] = "lookup", [MAP_OP_DUMP] = "dump",
                [MAP_OP_UPDATE] = "update", [MAP_OP_DELETE] = "delete", [MAP_OP_RINGBUF] = "ringbuf",
        };
        const ProgramInfo *p = request_program(req, req->id, error);
        bool found = false;

        assert(req->op == OP_MAP);
        assert((size_t) req->map.op < ELEMENTSOF(op_names));
        if (!p)
                return -ENOENT;
        for (size_t i = 0; i < p->n_maps; i++)
                found = found || streq(p->maps[i].name, req->map.map);
        if (!found)
                return bpfd_error_setf(error, BPFD_ERR_MAP_NOT_FOUND, "Program %" PRIu32 " has no map '%s'.", p->id,
                                         req->map.map);
        add_check(req, out, (CheckSpec) { .action = request_owns(req, p->owner_uid) ? "org.bpfd.map" : "org.bpfd.map-others",
                                          .operation = op_names[req->map.op], .kind = p->kind, .program_name = p->name,
                                          .owner_uid = p->owner_uid, .map_name = req->map.map });
        return 0;
}

/* PullImage, RemoveImage; removing an image that programs of other users came from is managing what is
 * theirs. */
int checks_image(const Request *req, Authorization *out, sd_bus_error *error) {
        const ProgramInfo *p, *other = NULL;
        GHashTableIter it;

        assert(IN_SET2(req->op, OP_PULL_IMAGE, OP_REMOVE_IMAGE) && req->load);
        add_check(req, out, (CheckSpec) { .action = "org.bpfd.load-image",
                                          .operation = req->op == OP_PULL_IMAGE ? "pull" : "remove",
                                          .kind = KIND_INVALID, .program_name = "", .owner_uid = req->caller.uid });
        if (req->op == OP_REMOVE_IMAGE) {
                g_hash_table_iter_init(&it, req->m->programs);
                while (!other && g_hash_table_iter_next(&it, NULL, (gpointer *) &p))
                        if (!request_owns(req, p->owner_uid) && streq_ptr(p->image_reference, req->load->image_ref))
                                other = p;
                if (other)
                        add_manage_others(req, out, (CheckSpec) { .operation = "remove", .kind = other->kind,
                                                                  .program_name = other->name,
                                                                  .owner_uid = other->owner_uid });
        }
        return 0;
}
