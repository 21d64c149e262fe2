/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Map access for callers without BPF rights (engine-maps.c). */

#include "engine.h"

typedef enum MapOp {
        MAP_OP_INFO,
        MAP_OP_LOOKUP,
        MAP_OP_DUMP,
        MAP_OP_UPDATE,
        MAP_OP_DELETE,
        MAP_OP_RINGBUF,
} MapOp;

/* One map operation: inputs from the bus thread, results from the worker. */
typedef struct MapAccess {
        MapOp op;
        char *map;
        uint8_t *key;
        size_t key_size_given;
        uint8_t *value;          /* update: input; lookup: result */
        size_t value_len;
        uint64_t flags;
        /* results */
        GByteArray *dump;        /* dump: key, value, key, value, ... of dump_key_size and dump_value_size bytes */
        size_t dump_key_size, dump_value_size;
        char *type;
        char *pin_path;
        uint32_t map_id, map_type, key_size, value_size, max_entries, map_flags;
        uint32_t btf_key_type_id, btf_value_type_id, possible_cpus;
        bool per_cpu;
        uint8_t *btf;
        size_t btf_size;
        int ringbuf_fd;          /* ringbuf: the map, for the caller (owned; -1 otherwise) */
} MapAccess;

void map_access_done(MapAccess *a);
int engine_map_access(Engine *e, uint32_t program_id, MapAccess *a, EngineError *error);
