/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine: map access for callers without BPF rights. */
#include <assert.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <fcntl.h>
#include <inttypes.h>

#include "engine-internal.h"
#include "engine-maps.h"

static bool map_type_per_cpu(uint32_t type) {
        return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
               type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

/* Map types whose values are plain bytes. In every other type a value written from user space names a file
 * descriptor of the writing process (programs, maps, perf events, cgroups, sockets; a device or CPU map's
 * optional program): over the bus that process is bpfd, which holds every user's programs and maps. */
static bool map_type_values_are_data(uint32_t type) {
        switch (type) {
        case BPF_MAP_TYPE_HASH:
        case BPF_MAP_TYPE_ARRAY:
        case BPF_MAP_TYPE_PERCPU_HASH:
        case BPF_MAP_TYPE_PERCPU_ARRAY:
        case BPF_MAP_TYPE_LRU_HASH:
        case BPF_MAP_TYPE_LRU_PERCPU_HASH:
        case BPF_MAP_TYPE_LPM_TRIE:
        case BPF_MAP_TYPE_QUEUE:
        case BPF_MAP_TYPE_STACK:
        case BPF_MAP_TYPE_BLOOM_FILTER:
                return true;
        default:
                return false;
        }
}

/* Local storage is keyed by a descriptor of the calling process (a socket, file, pidfd or cgroup): bpfd's. */
static bool map_type_keys_are_descriptors(uint32_t type) {
        return type == BPF_MAP_TYPE_SK_STORAGE || type == BPF_MAP_TYPE_INODE_STORAGE ||
               type == BPF_MAP_TYPE_TASK_STORAGE || type == BPF_MAP_TYPE_CGRP_STORAGE;
}

void map_access_done(MapAccess *a) {
        assert(a);

        free(a->map);
        free(a->key);
        free(a->value);
        free(a->btf);
        free(a->type);
        free(a->pin_path);
        if (a->dump)
                g_byte_array_unref(a->dump);
        if (a->ringbuf_fd > 0)
                close(a->ringbuf_fd);
        *a = (MapAccess) {};
}

/* Opens the pinned map of a managed program by name and learns its shape. */
static int map_open(Engine *e, uint32_t program_id, const char *name, int *ret_fd, struct bpf_map_info *info,
                    size_t *ret_value_len, MapAccess *a, EngineError *error) {
        Group *g = g_hash_table_lookup(e->programs, GUINT_TO_POINTER(program_id));
        ProgramInfo *p = g ? group_find_program(g, program_id, NULL) : NULL;
        uint32_t len = sizeof *info;
        const MapInfo *m = NULL;
        int fd;

        assert(e);
        assert(name);
        assert(ret_fd);
        assert(info);
        assert(ret_value_len);
        assert(a);

        if (!p)
                return engine_error_setf(error, BPFD_ERR_PROGRAM_NOT_FOUND, "No program %" PRIu32 " is loaded by bpfd.",
                                         program_id);
        for (size_t i = 0; i < p->n_maps && !m; i++)
                if (streq(p->maps[i].name, name))
                        m = &p->maps[i];
        if (!m)
                return engine_error_setf(error, BPFD_ERR_MAP_NOT_FOUND, "Program %" PRIu32 " has no map '%s'.", program_id,
                                         name);
        fd = bpf_obj_get(m->pin_path);
        if (fd < 0)
                return engine_error_set_errnof(error, -errno, "Cannot open the map pin %s: %m", m->pin_path);
        memset(info, 0, sizeof *info);
        if (bpf_obj_get_info_by_fd(fd, info, &len) < 0) {
                int r = -errno;
                close(fd);
                return engine_error_set_errnof(error, r, "Cannot query map '%s': %m", name);
        }
        a->per_cpu = map_type_per_cpu(info->type);
        a->possible_cpus = a->per_cpu ? (uint32_t) libbpf_num_possible_cpus() : 1;
        *ret_value_len = a->per_cpu ? ((size_t) (info->value_size + 7) / 8 * 8) * a->possible_cpus : info->value_size;
        free(a->pin_path);
        a->pin_path = strdup(m->pin_path);
        *ret_fd = fd;
        return 0;
}

static int map_info(Engine *e, uint32_t program_id, MapAccess *a, int fd, const struct bpf_map_info *info,
                    EngineError *error) {
        assert(a);
        assert(info);

        a->map_id = info->id;
        a->map_type = info->type;
        a->key_size = info->key_size;
        a->value_size = info->value_size;
        a->max_entries = info->max_entries;
        a->map_flags = info->map_flags;
        a->btf_key_type_id = info->btf_key_type_id;
        a->btf_value_type_id = info->btf_value_type_id;
        a->type = strdup(libbpf_bpf_map_type_str(info->type) ?: "unknown");
        if (!a->type)
                return -ENOMEM;
        if (info->btf_id) {
                struct btf *btf = btf__load_from_kernel_by_id(info->btf_id);
                if (btf) {
                        uint32_t size;
                        const void *raw = btf__raw_data(btf, &size);
                        a->btf = malloc(size ?: 1);
                        if (a->btf && raw) {
                                memcpy(a->btf, raw, size);
                                a->btf_size = size;
                        }
                        btf__free(btf);
                }
        }
        return 0;
}

/* What a dump may cost: its entries are kept one after another, and the reply encodes each as a struct
 * (aligned to 8) of two byte arrays with their lengths: counted as that, not only the key and value bytes
 * (a map of small entries encodes at twice its bytes), so the reply stays well inside the 128 MiB a D-Bus
 * message may hold and bpfd's memory for a dump is bounded by about twice this. */
#define MAP_DUMP_ENCODED_MAX (64U * 1024U * 1024U)
#define MAP_DUMP_ENTRY_OVERHEAD 16U
/* One batch's buffers: at most 4096 entries and about 4 MiB, whatever the value size (per-CPU values grow
 * with the CPUs). */
#define MAP_DUMP_BATCH_BYTES (4U * 1024U * 1024U)

static int map_dump_add(MapAccess *a, size_t *total, const void *key, const void *value, EngineError *error) {
        *total += a->dump_key_size + a->dump_value_size + MAP_DUMP_ENTRY_OVERHEAD;
        if (*total > MAP_DUMP_ENCODED_MAX)
                return engine_error_setf(error, BPFD_ERR_FAILED,
                                         "Map '%s' is too large to dump over the bus (its entries would take more than "
                                         "%u MiB); read the keys you need with MapLookup.", a->map, MAP_DUMP_ENCODED_MAX >> 20);
        g_byte_array_append(a->dump, key, a->dump_key_size);
        g_byte_array_append(a->dump, value, a->dump_value_size);
        return 0;
}

/* BPF_MAP_LOOKUP_BATCH: thousands of entries per system call, where the map type has it. -EOPNOTSUPP
 * (or -EINVAL) tells the caller to walk the map instead. */
static int map_dump_batch(MapAccess *a, int fd, const struct bpf_map_info *info, size_t value_len, EngineError *error) {
        const uint32_t chunk = (uint32_t) MAX(1U, MIN(4096U, MAP_DUMP_BATCH_BYTES / ((size_t) info->key_size + value_len)));
        _cleanup_free_ uint8_t *keys = malloc((size_t) chunk * info->key_size), *values = malloc((size_t) chunk * value_len);
        /* The batch token is the map type's own: a key for arrays, a u32 bucket index for hashes, whatever the
         * key size. It is passed on whole, never cut to key_size (2-byte keys lost the bucket's high half). */
        const size_t token_size = info->key_size + 8;
        _cleanup_free_ uint8_t *in = calloc(1, token_size), *out = calloc(1, token_size);
        bool first = true;
        size_t total = 0;

        assert(a);
        assert(a->dump);
        assert(info);

        if (!keys || !values || !in || !out)
                return -ENOMEM;
        for (;;) {
                uint32_t count = chunk;
                int r = bpf_map_lookup_batch(fd, first ? NULL : in, out, keys, values, &count, NULL);
                bool done = r == -ENOENT;

                if (r < 0 && !done)
                        return first ? r : engine_error_set_errnof(error, r, "Cannot read map '%s': %m", a->map);
                for (uint32_t i = 0; i < count; i++) {
                        int c = map_dump_add(a, &total, keys + (size_t) i * info->key_size, values + (size_t) i * value_len,
                                             error);
                        if (c < 0)
                                return c;
                }
                if (done)
                        return 0;
                memcpy(in, out, token_size);
                first = false;
        }
}

static int map_dump(MapAccess *a, int fd, const struct bpf_map_info *info, size_t value_len, EngineError *error) {
        _cleanup_free_ uint8_t *key = malloc(info->key_size + 1), *next = malloc(info->key_size + 1),
                               *value = malloc(value_len + 1);
        size_t total = 0;
        bool first = true;
        int r;

        assert(a);
        assert(info);

        if (!key || !next || !value)
                return -ENOMEM;
        a->dump = g_byte_array_new();
        a->dump_key_size = info->key_size;
        a->dump_value_size = value_len;
        r = map_dump_batch(a, fd, info, value_len, error);
        if (r >= 0 || engine_error_is_set(error))
                return r;
        g_byte_array_set_size(a->dump, 0); /* no batches for this map type: walk it */
        for (;;) {
                r = bpf_map_get_next_key(fd, first ? NULL : key, next);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return engine_error_set_errnof(error, r, "Cannot walk the map: %m");
                first = false;
                memcpy(key, next, info->key_size);
                if (bpf_map_lookup_elem(fd, key, value) < 0)
                        continue; /* deleted meanwhile */
                r = map_dump_add(a, &total, key, value, error);
                if (r < 0)
                        return r;
        }
}

int engine_map_access(Engine *e, uint32_t program_id, MapAccess *a, EngineError *error) {
        _cleanup_close_ int fd = -1;
        struct bpf_map_info info;
        size_t value_len = 0;
        int r;

        assert(e);
        assert(a);
        assert(a->map);

        r = map_open(e, program_id, a->map, &fd, &info, &value_len, a, error);
        if (r < 0)
                return r;
        if (a->op == MAP_OP_RINGBUF) {
                if (info.type != BPF_MAP_TYPE_RINGBUF)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Map '%s' is not a ring buffer.", a->map);
                a->ringbuf_fd = TAKE_FD(fd);
                return 0;
        }
        if (a->op != MAP_OP_INFO && a->op != MAP_OP_DUMP && a->key_size_given != info.key_size)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "The keys of map '%s' are %" PRIu32 " bytes long, not %zu.", a->map,
                                         info.key_size, a->key_size_given);
        if (a->op == MAP_OP_LOOKUP || a->op == MAP_OP_UPDATE || a->op == MAP_OP_DELETE) {
                if (map_type_keys_are_descriptors(info.type))
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "The keys of map '%s' (%s) are file descriptors, which bpfd does not "
                                                 "take from callers.", a->map,
                                                 libbpf_bpf_map_type_str(info.type) ?: "unknown");
                if (a->op == MAP_OP_UPDATE && !map_type_values_are_data(info.type))
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "The values of map '%s' (%s) name programs, maps or other kernel "
                                                 "objects by file descriptor; bpfd does not write them for callers.",
                                                 a->map, libbpf_bpf_map_type_str(info.type) ?: "unknown");
        }
        switch (a->op) {
        case MAP_OP_RINGBUF:
                return 0; /* handled above */
        case MAP_OP_INFO:
                return map_info(e, program_id, a, fd, &info, error);
        case MAP_OP_DUMP:
                return map_dump(a, fd, &info, value_len, error);
        case MAP_OP_LOOKUP:
                a->value = malloc(value_len + 1);
                if (!a->value)
                        return -ENOMEM;
                r = bpf_map_lookup_elem(fd, a->key, a->value);
                if (r == -ENOENT)
                        return engine_error_setf(error, BPFD_ERR_KEY_NOT_FOUND, "Map '%s' has no entry for that key.", a->map);
                if (r < 0)
                        return engine_error_set_errnof(error, r, "Cannot look up in map '%s': %m", a->map);
                a->value_len = value_len;
                return 0;
        case MAP_OP_UPDATE:
                if (a->value_len != value_len)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "The values of map '%s' are %zu bytes long%s, not %zu.", a->map, value_len,
                                                 a->per_cpu ? " (one 8-byte aligned value per possible CPU)" : "",
                                                 a->value_len);
                if (a->flags > BPF_EXIST)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Unknown update flags %" PRIu64 ".",
                                                 a->flags);
                r = bpf_map_update_elem(fd, a->key, a->value, a->flags);
                if (r == -ENOENT)
                        return engine_error_setf(error, BPFD_ERR_KEY_NOT_FOUND, "Map '%s' has no entry for that key.", a->map);
                if (r == -EEXIST)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Map '%s' has that key already.", a->map);
                if (r == -E2BIG)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Map '%s' is full, or the key is out of range.",
                                                 a->map);
                if (r == -EPERM)
                        return engine_error_setf(error, BPFD_ERR_PERMISSION_DENIED, "Map '%s' is read-only.", a->map);
                if (r < 0)
                        return engine_error_set_errnof(error, r, "Cannot update map '%s': %m", a->map);
                return 0;
        case MAP_OP_DELETE:
                r = bpf_map_delete_elem(fd, a->key);
                if (r == -ENOENT)
                        return engine_error_setf(error, BPFD_ERR_KEY_NOT_FOUND, "Map '%s' has no entry for that key.", a->map);
                if (r == -EINVAL && (info.type == BPF_MAP_TYPE_ARRAY || info.type == BPF_MAP_TYPE_PERCPU_ARRAY))
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "Entries of array map '%s' cannot be deleted; update them instead.", a->map);
                if (r < 0)
                        return engine_error_set_errnof(error, r, "Cannot delete from map '%s': %m", a->map);
                return 0;
        }
        return -EINVAL;
}
