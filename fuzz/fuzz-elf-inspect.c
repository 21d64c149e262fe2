/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ELF inspection: what bpfd does with a caller's object before anything is loaded — libbpf opens it from
 * memory, and every program, map and BTF type is looked at; libbpf's messages are made sendable as bpfd does
 * (utf8_escape_invalid). A crash here is a crash of the process that parses callers' objects. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "utf8.h"

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap) {
        char buf[1024];

        vsnprintf(buf, sizeof(buf), fmt, ap);
        free(utf8_escape_invalid(buf));
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct bpf_object *obj;
        struct bpf_program *prog;
        struct bpf_map *map;
        struct btf *btf;

        libbpf_set_print(print_libbpf);
        LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "fuzz");
        obj = bpf_object__open_mem(data, size, &opts);
        if (!obj)
                return 0;
        bpf_object__for_each_program(prog, obj) {
                (void) utf8_is_valid(bpf_program__name(prog));
                (void) utf8_is_valid(bpf_program__section_name(prog));
                (void) bpf_program__type(prog);
                (void) bpf_program__expected_attach_type(prog);
                (void) bpf_program__insn_cnt(prog);
        }
        bpf_object__for_each_map(map, obj) {
                (void) utf8_is_valid(bpf_map__name(map));
                (void) bpf_map__type(map);
                (void) bpf_map__key_size(map);
                (void) bpf_map__value_size(map);
                (void) bpf_map__max_entries(map);
                (void) bpf_map__btf_key_type_id(map);
                (void) bpf_map__btf_value_type_id(map);
        }
        btf = bpf_object__btf(obj);
        if (btf)
                for (uint32_t id = 1; id < btf__type_cnt(btf); id++) {
                        const struct btf_type *t = btf__type_by_id(btf, id);
                        if (t)
                                (void) btf__name_by_offset(btf, t->name_off);
                }
        bpf_object__close(obj);
        return 0;
}
