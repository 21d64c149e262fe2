/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.bpfd.Manager: its properties and vtable (the methods are in manager-load.c, manager-programs.c,
 * manager-images.c, spec.c, interface.c and stats-bus.c), and the
 * registration of every object bpfd serves. */
#include <assert.h>

#include "bus-paths.h"
#include "bus-spec.h"
#include "config.h"
#include "errors.h"
#include "interface.h"
#include "link.h"
#include "log.h"
#include "manager-methods.h"
#include "manager-object.h"
#include "program.h"
#include "stats.h"
#include "view.h"

/* ---- org.bpfd.Manager properties ---- */

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", BPFD_VERSION);
}

static int property_get_kinds(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        bool supported_only = streq(property, "SupportedKinds");
        int r = sd_bus_message_open_container(reply, 'a', "s");

        for (Kind k = 0; r >= 0 && k < _KIND_MAX; k++)
                if (!supported_only || m->supported[k])
                        r = sd_bus_message_append_basic(reply, 's', kind_to_string(k));
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int property_get_bpffs(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", engine_bpffs_path(m->engine));
}

static int property_get_stats_enabled(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "b", stats_kernel_enabled());
}

static int property_get_count(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        GHashTable *t = streq(property, "ProgramCount") ? m->programs : m->links;
        return sd_bus_message_append(reply, "u", (uint32_t) g_hash_table_size(t));
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("LoadFromFd", SD_BUS_ARGS("h", object, "a{sv}", options),
                                SD_BUS_RESULT("ao", programs, "ao", links), method_load_from_fd,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("LoadFromPath", SD_BUS_ARGS("s", path, "a{sv}", options),
                                SD_BUS_RESULT("ao", programs, "ao", links), method_load_from_path,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("LoadFromImage", SD_BUS_ARGS("s", reference, "a{sv}", options),
                                SD_BUS_RESULT("ao", programs, "ao", links), method_load_from_image,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PullImage", SD_BUS_ARGS("s", reference, "s", pull_policy), SD_BUS_RESULT("a{sv}", image),
                                method_pull_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListImages", SD_BUS_NO_ARGS, SD_BUS_RESULT("aa{sv}", images), method_list_images,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveImage", SD_BUS_ARGS("s", reference), SD_BUS_NO_RESULT, method_remove_image,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Unload", SD_BUS_ARGS("u", program_id), SD_BUS_NO_RESULT, method_unload,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Attach", SD_BUS_ARGS("u", program_id, "a{sv}", target), SD_BUS_RESULT("o", link),
                                method_attach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Detach", SD_BUS_ARGS("u", link_id), SD_BUS_NO_RESULT, method_detach,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListPrograms", SD_BUS_ARGS("a{sv}", filter), SD_BUS_RESULT("aa{sv}", programs),
                                method_list_programs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetProgram", SD_BUS_ARGS("u", program_id), SD_BUS_RESULT("a{sv}", program),
                                method_get_program, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListLinks", SD_BUS_ARGS("a{sv}", filter), SD_BUS_RESULT("aa{sv}", links),
                                method_list_links, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetLink", SD_BUS_ARGS("u", link_id), SD_BUS_RESULT("a{sv}", link), method_get_link,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ApplySpec", SD_BUS_ARGS("s", name, "a{sv}", spec), SD_BUS_RESULT("o", spec_object),
                                method_apply_spec, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveSpec", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, method_remove_spec,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListSpecs", SD_BUS_ARGS("a{sv}", filter), SD_BUS_RESULT("aa{sv}", specs),
                                method_list_specs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListInterfaces", SD_BUS_ARGS("a{sv}", filter), SD_BUS_RESULT("aa{sv}", interfaces),
                                method_list_interfaces, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetStatsEnabled", SD_BUS_ARGS("b", enabled), SD_BUS_NO_RESULT,
                                stats_method_set_stats_enabled, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetRequestStatistics", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(ssttat)", requests, "at", bucket_bounds_usec),
                                stats_method_get_request_statistics, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("KnownKinds", "as", property_get_kinds, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("SupportedKinds", "as", property_get_kinds, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("BpffsPath", "s", property_get_bpffs, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StatsEnabled", "b", property_get_stats_enabled, 0, 0),
        SD_BUS_PROPERTY("ProgramCount", "u", property_get_count, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LinkCount", "u", property_get_count, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END
};

/* ---- registration ---- */

/* sd-bus answers a call with the wrong argument types with org.freedesktop.DBus.Error.InvalidArgs before our
 * handlers run; we promise org.bpfd.Error.InvalidArgument for every bad input, so check signatures first. */
static const char *expected_signature(const char *interface, const char *member) {
        static const struct {
                const char *interface;
                const sd_bus_vtable *vtable;
        } tables[] = {
                { "org.bpfd.Manager", manager_vtable },
                { "org.bpfd.Program", program_vtable },
                { "org.bpfd.Link", link_vtable },
                { "org.bpfd.Interface", interface_vtable },
        };

        for (size_t i = 0; i < ELEMENTSOF(tables); i++) {
                if (!streq(tables[i].interface, interface))
                        continue;
                for (const sd_bus_vtable *v = tables[i].vtable; v->type != _SD_BUS_VTABLE_END; v++)
                        if (v->type == _SD_BUS_VTABLE_METHOD && streq(v->x.method.member, member))
                                return strempty(v->x.method.signature);
        }
        return NULL;
}

static int signature_filter(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        const char *interface = sd_bus_message_get_interface(msg), *member = sd_bus_message_get_member(msg);
        const char *expected, *got;
        uint8_t type = 0;

        (void) sd_bus_message_get_type(msg, &type);
        if (type != SD_BUS_MESSAGE_METHOD_CALL || !interface || !member ||
            strncmp(interface, "org.bpfd.", 9) != 0)
                return 0;
        expected = expected_signature(interface, member);
        got = sd_bus_message_get_signature(msg, true);
        if (!expected || streq(expected, strempty(got)))
                return 0;
        (void) sd_bus_reply_method_errorf(msg, BPFD_ERROR_INVALID_ARGUMENT,
                                          "%s.%s takes arguments of type '%s', not '%s'.", interface, member, expected,
                                          strempty(got));
        return 1;
}

int manager_add_bus_objects(Manager *m) {
        int r;

        assert(m);
        assert(m->bus);
        r = sd_bus_add_object_vtable(m->bus, NULL, MANAGER_PATH, "org.bpfd.Manager",
                                     stats_wrap_vtable("org.bpfd.Manager", manager_vtable), m);
        if (r < 0)
                return log_error_errno(r, "Cannot register the manager object: %m");
        r = program_objects_add(m);
        if (r < 0)
                return r;
        r = link_objects_add(m);
        if (r < 0)
                return r;
        r = interface_objects_add(m);
        if (r < 0)
                return log_error_errno(r, "Cannot register interface objects: %m");
        r = sd_bus_add_object_manager(m->bus, NULL, MANAGER_PATH);
        if (r < 0)
                return log_error_errno(r, "Cannot add the object manager: %m");
        r = sd_bus_add_filter(m->bus, NULL, signature_filter, m);
        if (r < 0)
                return log_error_errno(r, "Cannot add the signature filter: %m");
        return 0;
}
