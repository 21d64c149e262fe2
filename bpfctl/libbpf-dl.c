/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <errno.h>

#include "libbpf-dl.h"

typeof(btf__new) *sym_btf__new;
typeof(btf__free) *sym_btf__free;
typeof(btf__type_by_id) *sym_btf__type_by_id;
typeof(btf__type_cnt) *sym_btf__type_cnt;
typeof(btf__name_by_offset) *sym_btf__name_by_offset;
typeof(btf__resolve_size) *sym_btf__resolve_size;
typeof(btf__resolve_type) *sym_btf__resolve_type;
typeof(btf_dump__new) *sym_btf_dump__new;
typeof(btf_dump__free) *sym_btf_dump__free;
typeof(btf_dump__dump_type_data) *sym_btf_dump__dump_type_data;
typeof(btf_dump__emit_type_decl) *sym_btf_dump__emit_type_decl;
typeof(libbpf_set_print) *sym_libbpf_set_print;

#define SYM(name) { (void **) &sym_##name, #name }

int dlopen_libbpf(void) {
        static const struct {
                void **sym;
                const char *name;
        } syms[] = {
                SYM(btf__new), SYM(btf__free), SYM(btf__type_by_id), SYM(btf__type_cnt), SYM(btf__name_by_offset),
                SYM(btf__resolve_size), SYM(btf__resolve_type), SYM(btf_dump__new), SYM(btf_dump__free),
                SYM(btf_dump__dump_type_data), SYM(btf_dump__emit_type_decl), SYM(libbpf_set_print),
        };
        static int state = 0; /* 0: not tried, 1: loaded, -errno: failed */
        void *dl;

        if (state != 0)
                return state > 0 ? 0 : state;
        /* The soname bpfctl was built against: libbpf keeps its ABI within a major version. */
        dl = dlopen("libbpf.so.1", RTLD_NOW | RTLD_NODELETE);
        if (!dl)
                return (state = -EOPNOTSUPP);
        for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
                *syms[i].sym = dlsym(dl, syms[i].name);
                if (!*syms[i].sym) {
                        dlclose(dl);
                        return (state = -EOPNOTSUPP);
                }
        }
        state = 1;
        return 0;
}
