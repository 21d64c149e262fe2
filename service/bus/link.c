/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.bpfd.Link: one object per link in the bus view. */
#include <assert.h>

#include "bus-paths.h"
#include "target-bus.h"
#include "bus-util.h"
#include "link.h"
#include "log.h"
#include "op-lifecycle.h"
#include "stats.h"
#include "view.h"

/* ---- org.bpfd.Link ---- */

static int link_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                     sd_bus_error *error) {
        Manager *m = userdata;
        LinkInfo *l;
        uint32_t id;

        if (!id_from_path(path, LINK_PATH_PREFIX, &id))
                return 0;
        l = view_link(m, id);
        if (!l)
                return 0;
        assert(l->id == id); /* the view is keyed by id */
        *found = l;
        return 1;
}

static int link_get_program(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        LinkInfo *l = userdata;
        _cleanup_free_ char *p = program_object_path(l->program_id);
        return p ? sd_bus_message_append(reply, "o", p) : -ENOMEM;
}

static int link_get_kind(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        LinkInfo *l = userdata;
        return sd_bus_message_append(reply, "s", kind_to_string(l->target.kind));
}

static int link_get_target(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        LinkInfo *l = userdata;
        return attach_target_append(reply, &l->target);
}

static int link_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;
        return bus_nodes_of_ids(m->links, link_object_path, nodes);
}

static int link_method_detach(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = bus_current_slot_userdata(sd_bus_message_get_bus(msg));
        LinkInfo *l = userdata;

        assert(m);
        return request_detach(m, msg, l->id, error);
}

const sd_bus_vtable link_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Detach", "", "", link_method_detach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("Id", "u", NULL, offsetof(LinkInfo, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Program", "o", link_get_program, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ProgramId", "u", NULL, offsetof(LinkInfo, program_id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Kind", "s", link_get_kind, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AttachPoint", "s", NULL, offsetof(LinkInfo, attach_point), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Target", "a{sv}", link_get_target, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("OwnerUid", "u", NULL, offsetof(LinkInfo, owner_uid), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AttachTime", "t", NULL, offsetof(LinkInfo, attach_time_usec), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PinPath", "s", NULL, offsetof(LinkInfo, pin_path), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END
};

int link_objects_add(Manager *m) {
        int r;

        assert(m);
        r = sd_bus_add_fallback_vtable(m->bus, NULL, LINK_PATH_PREFIX, "org.bpfd.Link",
                                       stats_wrap_vtable("org.bpfd.Link", link_vtable), link_find, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register link objects: %m");
        return sd_bus_add_node_enumerator(m->bus, NULL, LINK_PATH_PREFIX, link_enumerate, m);
}
