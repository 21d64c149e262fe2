/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>

#include "manager.h"
#include "map.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

int map_shape_from_info(const BusValue *info, MapShape *ret) {
        const BusValue *btf = bus_value_dict_get(info, "btf");
        uint64_t key_size, value_size, cpus = 1, key_type = 0, value_type = 0;
        bool per_cpu = false;

        if (!bus_value_dict_get_uint(info, "key_size", &key_size) ||
            !bus_value_dict_get_uint(info, "value_size", &value_size) ||
            key_size > UINT32_MAX || value_size > UINT32_MAX)
                return -EBADMSG;

        (void) bus_value_get_bool(bus_value_dict_get(info, "per_cpu"), &per_cpu);
        (void) bus_value_dict_get_uint(info, "possible_cpus", &cpus);
        (void) bus_value_dict_get_uint(info, "btf_key_type_id", &key_type);
        (void) bus_value_dict_get_uint(info, "btf_value_type_id", &value_type);
        if (cpus == 0 || cpus > 65536)
                return -EBADMSG;

        *ret = (MapShape) {
                .name = bus_value_dict_get_string(info, "name"),
                .type = bus_value_dict_get_string(info, "type"),
                .key_size = (uint32_t) key_size,
                .value_size = (uint32_t) value_size,
                .per_cpu = per_cpu,
                .possible_cpus = per_cpu ? (uint32_t) cpus : 1,
                .btf = bus_value_is_bytes(btf) && btf->bytes.size > 0 ? btf->bytes.data : NULL,
                .btf_size = bus_value_is_bytes(btf) ? btf->bytes.size : 0,
                .btf_key_type_id = key_type <= UINT32_MAX ? (uint32_t) key_type : 0,
                .btf_value_type_id = value_type <= UINT32_MAX ? (uint32_t) value_type : 0,
        };
        return 0;
}

size_t map_shape_value_stride(const MapShape *shape) {
        return shape->per_cpu ? ((size_t) shape->value_size + 7) / 8 * 8 : shape->value_size;
}

size_t map_shape_full_value_size(const MapShape *shape) {
        return map_shape_value_stride(shape) * shape->possible_cpus;
}

/* A call on the program object; "map" is the first argument of every map method. */
static int new_map_call(sd_bus *bus, uint32_t program_id, const char *member, const char *map, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        char path[sizeof(BPFD_PROGRAM_PATH_PREFIX) + 10];
        int r;

        (void) snprintf(path, sizeof(path), BPFD_PROGRAM_PATH_PREFIX "%" PRIu32, program_id);

        r = sd_bus_message_new_method_call(bus, &m, BPFD_BUS_NAME, path, BPFD_PROGRAM_INTERFACE, member);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", map);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

/* Every map method asks polkit, and for other users' maps it may ask for a
 * password: give them the agent and the long timeout, as changes get. */
static int call_read_value(sd_bus *bus, uint32_t program_id, sd_bus_message *m, sd_bus_error *error, BusValue **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = bpfd_call(bus, m, true, error, &reply);
        if (r < 0 && sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_OBJECT)) {
                /* Programs bpfd does not manage have no object: say so as the Manager would. */
                sd_bus_error_free(error);
                return sd_bus_error_setf(error, "org.bpfd.Error.ProgramNotFound",
                                         "No program %" PRIu32 " is loaded by bpfd.", program_id);
        }
        if (r < 0)
                return r;
        if (!ret)
                return 0;

        r = bus_value_read(reply, ret);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "cannot parse the reply of %s: %s",
                                               sd_bus_message_get_member(m), strerror(-r));
        return 0;
}

int bpfd_map_info(sd_bus *bus, uint32_t program_id, const char *map, sd_bus_error *error, BusValue **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_map_call(bus, program_id, "MapInfo", map, &m);
        if (r < 0)
                return r;

        return call_read_value(bus, program_id, m, error, ret);
}

int bpfd_map_lookup(sd_bus *bus, uint32_t program_id, const char *map, const void *key, size_t key_size,
                    sd_bus_error *error, BusValue **ret_value) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_map_call(bus, program_id, "MapLookup", map, &m);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', key, key_size);
        if (r < 0)
                return r;

        return call_read_value(bus, program_id, m, error, ret_value);
}

int bpfd_map_dump(sd_bus *bus, uint32_t program_id, const char *map, sd_bus_error *error, BusValue **ret_entries) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_map_call(bus, program_id, "MapDump", map, &m);
        if (r < 0)
                return r;

        return call_read_value(bus, program_id, m, error, ret_entries);
}

int bpfd_map_update(sd_bus *bus, uint32_t program_id, const char *map, const void *key, size_t key_size,
                    const void *value, size_t value_size, MapUpdateFlags flags, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_map_call(bus, program_id, "MapUpdate", map, &m);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', key, key_size);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', value, value_size);
        if (r >= 0)
                r = sd_bus_message_append(m, "t", (uint64_t) flags);
        if (r < 0)
                return r;

        return call_read_value(bus, program_id, m, error, NULL);
}

int bpfd_map_delete(sd_bus *bus, uint32_t program_id, const char *map, const void *key, size_t key_size,
                    sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_map_call(bus, program_id, "MapDelete", map, &m);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', key, key_size);
        if (r < 0)
                return r;

        return call_read_value(bus, program_id, m, error, NULL);
}
