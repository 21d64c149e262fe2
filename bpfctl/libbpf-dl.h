/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libbpf (and libelf and libz behind it) only for the commands that format map keys and values by their BTF:
 * opened with dlopen() when such a command first needs it, as systemd does for its optional libraries, so
 * every other command starts without loading them. */

#include <bpf/btf.h>
#include <bpf/libbpf.h>

extern typeof(btf__new) *sym_btf__new;
extern typeof(btf__free) *sym_btf__free;
extern typeof(btf__type_by_id) *sym_btf__type_by_id;
extern typeof(btf__type_cnt) *sym_btf__type_cnt;
extern typeof(btf__name_by_offset) *sym_btf__name_by_offset;
extern typeof(btf__resolve_size) *sym_btf__resolve_size;
extern typeof(btf__resolve_type) *sym_btf__resolve_type;
extern typeof(btf_dump__new) *sym_btf_dump__new;
extern typeof(btf_dump__free) *sym_btf_dump__free;
extern typeof(btf_dump__dump_type_data) *sym_btf_dump__dump_type_data;
extern typeof(btf_dump__emit_type_decl) *sym_btf_dump__emit_type_decl;
extern typeof(libbpf_set_print) *sym_libbpf_set_print;

/* 0 once every symbol is there; -EOPNOTSUPP if libbpf cannot be opened (then maps show as hex). */
int dlopen_libbpf(void);
