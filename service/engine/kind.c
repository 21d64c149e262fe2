/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <sys/stat.h>

#include "kind.h"
#include "tcx.h"

static const char *const kind_names[_KIND_MAX] = {
        [KIND_TRACEPOINT] = "tracepoint", [KIND_UPROBE] = "uprobe", [KIND_URETPROBE] = "uretprobe",
        [KIND_CGROUP] = "cgroup",         [KIND_KPROBE] = "kprobe", [KIND_KRETPROBE] = "kretprobe",
        [KIND_FENTRY] = "fentry",         [KIND_FEXIT] = "fexit",   [KIND_XDP] = "xdp",
        [KIND_TC] = "tc",                 [KIND_TCX] = "tcx",
};

const char *kind_to_string(Kind k) {
        return k >= 0 && k < _KIND_MAX ? kind_names[k] : NULL;
}

Kind kind_from_string(const char *s) {
        assert(s);

        for (Kind k = 0; k < _KIND_MAX; k++)
                if (streq(kind_names[k], s))
                        return k;
        return KIND_INVALID;
}

static bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

Kind kind_of_program(const struct bpf_program *prog) {
        assert(prog);

        return kind_of_parts(bpf_program__type(prog), bpf_program__section_name(prog),
                             bpf_program__expected_attach_type(prog));
}

Kind kind_of_parts(enum bpf_prog_type type, const char *sec, enum bpf_attach_type expected_attach_type) {
        /* The section tells apart what the kernel type does not. */
        switch (type) {
        case BPF_PROG_TYPE_KPROBE:
                if (startswith(sec, "uretprobe"))
                        return KIND_URETPROBE;
                if (startswith(sec, "uprobe"))
                        return KIND_UPROBE;
                if (startswith(sec, "kretprobe"))
                        return KIND_KRETPROBE;
                return KIND_KPROBE;
        case BPF_PROG_TYPE_TRACING:
                if (expected_attach_type == BPF_TRACE_FEXIT)
                        return KIND_FEXIT;
                if (expected_attach_type == BPF_TRACE_FENTRY)
                        return KIND_FENTRY;
                return KIND_INVALID;
        case BPF_PROG_TYPE_SCHED_CLS:
                return startswith(sec, "tcx") ? KIND_TCX : KIND_TC;
        default:
                return kind_of_kernel_type(type);
        }
}

Kind kind_of_kernel_type(enum bpf_prog_type type) {
        switch (type) {
        case BPF_PROG_TYPE_TRACEPOINT:
                return KIND_TRACEPOINT;
        case BPF_PROG_TYPE_CGROUP_SKB:
        case BPF_PROG_TYPE_CGROUP_SOCK:
        case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
        case BPF_PROG_TYPE_CGROUP_DEVICE:
        case BPF_PROG_TYPE_CGROUP_SYSCTL:
        case BPF_PROG_TYPE_CGROUP_SOCKOPT:
        case BPF_PROG_TYPE_SOCK_OPS:
                return KIND_CGROUP;
        case BPF_PROG_TYPE_XDP:
                return KIND_XDP;
        case BPF_PROG_TYPE_SCHED_CLS:
                return KIND_TC;
        default:
                return KIND_INVALID;
        }
}

bool kind_attach_compatible(Kind p, Kind t) {
        if (p == t)
                return true;
        switch (p) {
        case KIND_UPROBE:
        case KIND_URETPROBE:
                return IN_SET2(t, KIND_UPROBE, KIND_URETPROBE);
        case KIND_KPROBE:
        case KIND_KRETPROBE:
                return IN_SET2(t, KIND_KPROBE, KIND_KRETPROBE);
        case KIND_TC:
        case KIND_TCX:
                return IN_SET2(t, KIND_TC, KIND_TCX);
        default:
                return false;
        }
}

bool kind_loadable(const bool supported[_KIND_MAX], Kind k) {
        assert(supported);

        for (Kind t = 0; t < _KIND_MAX; t++)
                if (supported[t] && kind_attach_compatible(k, t))
                        return true;
        return false;
}

bool kind_implemented(Kind k) {
        return k >= 0 && k < _KIND_MAX;
}

static bool path_exists(const char *p) {
        return access(p, F_OK) == 0;
}

/* libbpf's type probe cannot tell for tracing programs, which need a target: load the smallest fentry program
 * on a function every kernel with BPF has. Kernels that refuse tracing programs fail here (EPERM, EINVAL). */
static bool probe_fentry(void) {
        const struct bpf_insn insns[] = {
                { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
                { .code = BPF_JMP | BPF_EXIT },
        };
        struct btf *vmlinux = btf__load_vmlinux_btf();
        int id, fd;

        if (!vmlinux)
                return false;
        id = btf__find_by_name_kind(vmlinux, "bpf_fentry_test1", BTF_KIND_FUNC);
        btf__free(vmlinux);
        if (id < 0)
                return false;
        LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY, .attach_btf_id = id);
        fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "bpfd_probe", "GPL", insns, ELEMENTSOF(insns), &opts);
        if (fd < 0)
                return false;
        close(fd);
        return true;
}

void kind_probe_kernel(bool supported[_KIND_MAX]) {
        bool tracefs = path_exists("/sys/kernel/tracing/events") || path_exists("/sys/kernel/debug/tracing/events");

        assert(supported);

        supported[KIND_TRACEPOINT] = tracefs && libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, NULL) > 0;
        supported[KIND_UPROBE] = supported[KIND_URETPROBE] =
                path_exists("/sys/bus/event_source/devices/uprobe/type") &&
                libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_KPROBE, NULL) > 0;
        supported[KIND_KPROBE] = supported[KIND_KRETPROBE] =
                path_exists("/sys/bus/event_source/devices/kprobe/type") &&
                libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_KPROBE, NULL) > 0;
        supported[KIND_CGROUP] = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SKB, NULL) > 0;
        supported[KIND_FENTRY] = supported[KIND_FEXIT] = probe_fentry();
        supported[KIND_XDP] = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) > 0;
        supported[KIND_TC] = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL) > 0;
        supported[KIND_TCX] = supported[KIND_TC] && tcx_supported();

        /* A kind is offered only where both the kernel and this bpfd can do it. */
        for (Kind k = 0; k < _KIND_MAX; k++)
                supported[k] = supported[k] && kind_implemented(k);
}
