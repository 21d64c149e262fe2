/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine: programs in the kernel, managed or not. */
#include <assert.h>
#include <bpf/bpf.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "engine-internal.h"
#include "engine-hooks.h"
#include "engine-kernel-programs.h"

static uint64_t boottime_to_realtime_usec(uint64_t boot_ns) {
        return now_usec(CLOCK_REALTIME) - now_usec(CLOCK_BOOTTIME) + boot_ns / 1000ULL;
}

static void tag_to_hex(const uint8_t tag[8], char out[17]) {
        for (int i = 0; i < 8; i++)
                snprintf(out + 2 * i, 3, "%02x", tag[i]);
}

static int prog_map_ids(int fd, uint32_t **ret, uint32_t *ret_n) {
        struct bpf_prog_info info = {};
        uint32_t len = sizeof info, n;
        uint32_t *ids;
        int r;

        assert(fd >= 0);
        assert(ret);
        assert(ret_n);

        r = bpf_obj_get_info_by_fd(fd, &info, &len);
        if (r < 0)
                return r;
        n = info.nr_map_ids;
        ids = calloc(n + 1, sizeof(uint32_t));
        if (!ids)
                return -ENOMEM;
        if (n > 0) {
                memset(&info, 0, sizeof info);
                info.nr_map_ids = n;
                info.map_ids = (uint64_t) (uintptr_t) ids;
                len = sizeof info;
                r = bpf_obj_get_info_by_fd(fd, &info, &len);
                if (r < 0) {
                        free(ids);
                        return r;
                }
                n = info.nr_map_ids < n ? info.nr_map_ids : n;
        }
        *ret = ids;
        *ret_n = n;
        return 0;
}

int kernel_program_from_fd(int fd, KernelProgram *k) {
        struct bpf_prog_info info = {};
        uint32_t len = sizeof info;
        int r;

        assert(fd >= 0);
        assert(k);

        r = bpf_obj_get_info_by_fd(fd, &info, &len);
        if (r < 0)
                return r;
        *k = (KernelProgram) { .id = info.id, .kernel_type = libbpf_bpf_prog_type_str(info.type) ?: "unknown",
                               .kind = kind_of_kernel_type(info.type),
                               .load_time_usec = boottime_to_realtime_usec(info.load_time),
                               .run_count = info.run_cnt, .run_time_ns = info.run_time_ns };
        memcpy(k->name, info.name, sizeof k->name - 1);
        tag_to_hex(info.tag, k->tag);
        return prog_map_ids(fd, &k->map_ids, &k->n_map_ids);
}

int link_id_of_fd(int fd, uint32_t *ret_id, uint32_t *ret_prog_id) {
        struct bpf_link_info info = {};
        uint32_t len = sizeof info;
        int r = bpf_obj_get_info_by_fd(fd, &info, &len);
        assert(fd >= 0);
        assert(ret_id);

        if (r < 0)
                return r;
        *ret_id = info.id;
        if (ret_prog_id)
                *ret_prog_id = info.prog_id;
        return 0;
}

int engine_kernel_program(Engine *e, uint32_t id, KernelProgram *ret, EngineError *error) {
        _cleanup_close_ int fd = bpf_prog_get_fd_by_id(id);
        int r;

        assert(e);
        assert(ret);

        if (fd < 0)
                return engine_error_setf(error, BPFD_ERR_PROGRAM_NOT_FOUND, "There is no program %" PRIu32 ".", id);
        r = kernel_program_from_fd(fd, ret);
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot query program %" PRIu32 ": %m", id);
        return 0;
}

int engine_kernel_programs(Engine *e, KernelProgram **ret, size_t *ret_n, EngineError *error) {
        KernelProgram *list = NULL;
        size_t n = 0;
        uint32_t id = 0;

        assert(e);
        assert(ret);
        assert(ret_n);

        while (bpf_prog_get_next_id(id, &id) == 0) {
                _cleanup_close_ int fd = bpf_prog_get_fd_by_id(id);
                KernelProgram *l;

                if (fd < 0)
                        continue; /* gone meanwhile */
                l = reallocarray(list, n + 1, sizeof(KernelProgram));
                if (!l) {
                        kernel_programs_free(list, n);
                        return -ENOMEM;
                }
                list = l;
                if (kernel_program_from_fd(fd, &list[n]) == 0)
                        n++;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}
