/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The map methods of org.bpfd.Program objects (MapInfo, MapLookup, MapDump,
 * MapUpdate, MapDelete) and the shape of a map that MapInfo reports. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "bus-value.h"

/* MapUpdate flags, as the kernel's BPF_ANY, BPF_NOEXIST, BPF_EXIST. */
typedef enum MapUpdateFlags {
        MAP_UPDATE_ANY = 0,
        MAP_UPDATE_ONLY_CREATE = 1,
        MAP_UPDATE_ONLY_REPLACE = 2,
} MapUpdateFlags;

/* What bpfctl needs of MapInfo to check and print keys and values. The
 * pointers point into the BusValue the shape was read from. */
typedef struct MapShape {
        const char *name;
        const char *type;
        uint32_t key_size;
        uint32_t value_size;          /* of one value, also in per-CPU maps */
        bool per_cpu;
        uint32_t possible_cpus;       /* values a per-CPU lookup returns */
        const uint8_t *btf;           /* raw BTF; NULL if the map has none */
        size_t btf_size;
        uint32_t btf_key_type_id;     /* 0: not typed */
        uint32_t btf_value_type_id;
} MapShape;

/* Reads the shape from the a{sv} of MapInfo; -EBADMSG if keys are missing. */
int map_shape_from_info(const BusValue *info, MapShape *ret);

/* The size of a value as MapLookup returns and MapUpdate takes it: for
 * per-CPU maps one value per possible CPU, each padded to 8 bytes. */
size_t map_shape_value_stride(const MapShape *shape);
size_t map_shape_full_value_size(const MapShape *shape);

/* The calls; D-Bus errors land in error. */
int bpfd_map_info(sd_bus *bus, uint32_t program_id, const char *map, sd_bus_error *error, BusValue **ret);
int bpfd_map_lookup(sd_bus *bus, uint32_t program_id, const char *map, const void *key, size_t key_size,
                    sd_bus_error *error, BusValue **ret_value); /* ay */
int bpfd_map_dump(sd_bus *bus, uint32_t program_id, const char *map, sd_bus_error *error,
                  BusValue **ret_entries); /* a(ayay) */
int bpfd_map_update(sd_bus *bus, uint32_t program_id, const char *map, const void *key, size_t key_size,
                    const void *value, size_t value_size, MapUpdateFlags flags, sd_bus_error *error);
int bpfd_map_delete(sd_bus *bus, uint32_t program_id, const char *map, const void *key, size_t key_size,
                    sd_bus_error *error);
