/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <bpf/libbpf.h>
#include "util.h"

/* What a user calls a program: the hook it is made for. Several kernel program types map to one kind
 * (all cgroup types are "cgroup"), and one kernel type to several kinds (kprobe/uprobe). */
typedef enum Kind {
        KIND_TRACEPOINT,
        KIND_UPROBE,
        KIND_URETPROBE,
        KIND_CGROUP,
        KIND_KPROBE,
        KIND_KRETPROBE,
        KIND_FENTRY,
        KIND_FEXIT,
        KIND_XDP,
        KIND_TC,
        KIND_TCX,
        _KIND_MAX,
        KIND_DEFAULT = -1, /* an attach target that did not name its kind: the program's own */
        KIND_INVALID = -2,
} Kind;

const char *kind_to_string(Kind k);
Kind kind_from_string(const char *s);
/* The kind an ELF section declares, or KIND_INVALID for program types bpfd does not know. */
Kind kind_of_program(const struct bpf_program *prog);
/* The same from what bpfd-inspect reports of a program. */
Kind kind_of_parts(enum bpf_prog_type type, const char *section, enum bpf_attach_type expected_attach_type);
/* The kind a kernel program type stands for when nothing else is known (programs bpfd did not load);
 * KIND_INVALID where it is ambiguous (a kprobe-type program may be a uprobe) or unknown. */
Kind kind_of_kernel_type(enum bpf_prog_type type);
/* Whether a program of kind p may be attached as kind t (uprobe programs also as uretprobe, ...). */
bool kind_attach_compatible(Kind p, Kind t);
/* Whether programs of kind k can be loaded: some kind they attach as is supported (a tc program serves tc
 * and tcx). */
bool kind_loadable(const bool supported[_KIND_MAX], Kind k);
/* Kinds whose attach code exists in this version of bpfd. */
bool kind_implemented(Kind k);
/* Ask the kernel which kinds it can run; needs CAP_BPF, so it runs on the worker. */
void kind_probe_kernel(bool supported[_KIND_MAX]);
