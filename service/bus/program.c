/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.bpfd.Program: one object per program in the bus view, its properties and its methods (which go to the
 * request layer with the program's id). */
#include <assert.h>

#include "bus-paths.h"
#include "bus-util.h"
#include "log.h"
#include "object-dict.h"
#include "program.h"
#include "manager-methods.h"
#include "op-lifecycle.h"
#include "stats.h"
#include "view.h"
#include "engine-maps.h"

/* ---- org.bpfd.Program ---- */

static int program_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                        sd_bus_error *error) {
        Manager *m = userdata;
        ProgramInfo *p;
        uint32_t id;

        assert(m);
        if (!id_from_path(path, PROGRAM_PATH_PREFIX, &id))
                return 0;
        p = view_program(m, id);
        if (!p)
                return 0;
        assert(p->id == id); /* the view is keyed by id */
        *found = p;
        return 1;
}

static int program_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;
        return bus_nodes_of_ids(m->programs, program_object_path, nodes);
}

#define PROGRAM_GETTER(fn, body)                                                                                  \
        static int fn(sd_bus *bus, const char *path, const char *interface, const char *property,             \
                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {                            \
                ProgramInfo *p = userdata;                                                                      \
                assert(p);                                                                                      \
                body                                                                                            \
        }

PROGRAM_GETTER(program_get_kind, return sd_bus_message_append(reply, "s", kind_to_string(p->kind));)
PROGRAM_GETTER(program_get_map_ids, return append_program_map_ids(reply, p);)
PROGRAM_GETTER(program_get_maps, return append_program_maps(reply, p);)
PROGRAM_GETTER(program_get_metadata, return append_program_metadata(reply, p);)
PROGRAM_GETTER(program_get_globals, return append_program_globals(reply, p);)
static int program_get_stats(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        uint64_t cnt, ns;
        program_stats(userdata, &cnt, &ns);
        return sd_bus_message_append(reply, "t", streq(property, "RunCount") ? cnt : ns);
}

/* The found object is the handlers' userdata; the Manager the vtable was registered with is its slot's. */
static Manager *manager_of(sd_bus *bus) {
        Manager *m = bus_current_slot_userdata(bus);

        assert(m);
        return m;
}

static int program_get_links(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        ProgramInfo *p = userdata;
        return append_program_links(reply, manager_of(bus), p->id, streq(property, "Links"));
}

static int program_get_map_group(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "u", program_map_group(userdata));
}

static int program_get_map_used_by(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return append_program_map_used_by(reply, manager_of(bus), userdata);
}

static int program_method_unload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ProgramInfo *p = userdata;
        return request_unload(manager_of(sd_bus_message_get_bus(msg)), msg, p->id, error);
}

static int program_method_attach(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ProgramInfo *p = userdata;
        return bus_attach_program(manager_of(sd_bus_message_get_bus(msg)), msg, p->id, error);
}

#define MAP_METHOD(fn, op)                                                                                        \
        static int fn(sd_bus_message *msg, void *userdata, sd_bus_error *error) {                              \
                ProgramInfo *p = userdata;                                                                      \
                return bus_map_access(manager_of(sd_bus_message_get_bus(msg)), msg, p->id, (op), error); \
        }
MAP_METHOD(program_method_map_info, MAP_OP_INFO)
MAP_METHOD(program_method_map_lookup, MAP_OP_LOOKUP)
MAP_METHOD(program_method_map_dump, MAP_OP_DUMP)
MAP_METHOD(program_method_map_update, MAP_OP_UPDATE)
MAP_METHOD(program_method_map_delete, MAP_OP_DELETE)
MAP_METHOD(program_method_map_open_ring_buffer, MAP_OP_RINGBUF)

const sd_bus_vtable program_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Unload", "", "", program_method_unload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Attach", "a{sv}", SD_BUS_PARAM(target), "o", SD_BUS_PARAM(link),
                                 program_method_attach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MapInfo", SD_BUS_ARGS("s", map), SD_BUS_RESULT("a{sv}", info), program_method_map_info,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MapLookup", SD_BUS_ARGS("s", map, "ay", key), SD_BUS_RESULT("ay", value),
                                program_method_map_lookup, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MapDump", SD_BUS_ARGS("s", map), SD_BUS_RESULT("a(ayay)", entries),
                                program_method_map_dump, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MapUpdate", SD_BUS_ARGS("s", map, "ay", key, "ay", value, "t", flags), SD_BUS_NO_RESULT,
                                program_method_map_update, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MapDelete", SD_BUS_ARGS("s", map, "ay", key), SD_BUS_NO_RESULT,
                                program_method_map_delete, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MapOpenRingBuffer", SD_BUS_ARGS("s", map), SD_BUS_RESULT("h", ring_buffer),
                                program_method_map_open_ring_buffer, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("Id", "u", NULL, offsetof(ProgramInfo, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(ProgramInfo, name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Kind", "s", program_get_kind, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("KernelType", "s", NULL, offsetof(ProgramInfo, kernel_type), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Section", "s", NULL, offsetof(ProgramInfo, section), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Tag", "s", NULL, offsetof(ProgramInfo, tag), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("OwnerUid", "u", NULL, offsetof(ProgramInfo, owner_uid), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LoadTime", "t", NULL, offsetof(ProgramInfo, load_time_usec), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Source", "s", NULL, offsetof(ProgramInfo, source), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LoadGroup", "u", NULL, offsetof(ProgramInfo, load_group), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PinPath", "s", NULL, offsetof(ProgramInfo, pin_path), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Links", "ao", program_get_links, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("AttachPoints", "as", program_get_links, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("MapIds", "au", program_get_map_ids, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Maps", "a(uss)", program_get_maps, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Metadata", "a{ss}", program_get_metadata, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ImageReference", "s", NULL, offsetof(ProgramInfo, image_reference), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ImageDigest", "s", NULL, offsetof(ProgramInfo, image_digest), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MapGroup", "u", program_get_map_group, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MapUsedBy", "au", program_get_map_used_by, 0, 0),
        SD_BUS_PROPERTY("GlobalData", "as", program_get_globals, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RunCount", "t", program_get_stats, 0, 0),
        SD_BUS_PROPERTY("RunTimeNs", "t", program_get_stats, 0, 0),
        SD_BUS_VTABLE_END
};

int program_objects_add(Manager *m) {
        int r;

        assert(m);
        r = sd_bus_add_fallback_vtable(m->bus, NULL, PROGRAM_PATH_PREFIX, "org.bpfd.Program",
                                       stats_wrap_vtable("org.bpfd.Program", program_vtable), program_find, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register program objects: %m");
        return sd_bus_add_node_enumerator(m->bus, NULL, PROGRAM_PATH_PREFIX, program_enumerate, m);
}
