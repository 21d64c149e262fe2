/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* service/kind.c: the names of kinds and what an ELF section or a kernel program type makes of them. */

#include "kind.h"
#include "unit.h"

TEST(names_round_trip) {
        for (Kind k = 0; k < _KIND_MAX; k++) {
                const char *name = kind_to_string(k);

                CHECK_MSG(name && *name, "kind %d has no name", k);
                CHECK_INT(kind_from_string(name), k);
                for (Kind o = k + 1; o < _KIND_MAX; o++)
                        CHECK_MSG(!streq(name, kind_to_string(o)), "kinds %d and %d share '%s'", k, o, name);
        }
}

TEST(names_are_the_documented_ones) {
        static const char *const names[] = { "tracepoint", "uprobe", "uretprobe", "cgroup", "kprobe", "kretprobe",
                                             "fentry", "fexit", "xdp", "tc", "tcx" };

        CHECK_INT(ELEMENTSOF(names), _KIND_MAX);
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                CHECK_MSG(kind_from_string(names[i]) >= 0, "'%s' is no kind", names[i]);
}

TEST(unknown_names_and_values) {
        CHECK_INT(kind_from_string(""), KIND_INVALID);
        CHECK_INT(kind_from_string("XDP"), KIND_INVALID);
        CHECK_INT(kind_from_string("xdp "), KIND_INVALID);
        CHECK_INT(kind_from_string("lsm"), KIND_INVALID);
        CHECK_STREQ(kind_to_string(_KIND_MAX), NULL);
        CHECK_STREQ(kind_to_string(KIND_DEFAULT), NULL);
        CHECK_STREQ(kind_to_string(KIND_INVALID), NULL);
        CHECK(!kind_implemented(KIND_INVALID));
        CHECK(!kind_implemented(_KIND_MAX));
}

TEST(kind_from_section) {
        CHECK_INT(kind_of_parts(BPF_PROG_TYPE_KPROBE, "uprobe/readline", 0), KIND_UPROBE);
        CHECK_INT(kind_of_parts(BPF_PROG_TYPE_KPROBE, "uretprobe/readline", 0), KIND_URETPROBE);
        CHECK_INT(kind_of_parts(BPF_PROG_TYPE_KPROBE, "kretprobe/do_exit", 0), KIND_KRETPROBE);
        CHECK_INT(kind_of_parts(BPF_PROG_TYPE_KPROBE, "kprobe/do_exit", 0), KIND_KPROBE);
        CHECK_INT(kind_of_parts(BPF_PROG_TYPE_TRACING, "fentry/do_exit", BPF_TRACE_FENTRY), KIND_FENTRY);
        CHECK_INT(kind_of_parts(BPF_PROG_TYPE_TRACING, "fexit/do_exit", BPF_TRACE_FEXIT), KIND_FEXIT);
        CHECK_INT(kind_of_parts(BPF_PROG_TYPE_TRACING, "tp_btf/sched_switch", BPF_TRACE_RAW_TP), KIND_INVALID);
        CHECK_INT(kind_of_parts(BPF_PROG_TYPE_SCHED_CLS, "tcx/ingress", 0), KIND_TCX);
        CHECK_INT(kind_of_parts(BPF_PROG_TYPE_SCHED_CLS, "tc", 0), KIND_TC);
        CHECK_INT(kind_of_parts(BPF_PROG_TYPE_SCHED_CLS, "classifier", 0), KIND_TC);
        CHECK_INT(kind_of_parts(BPF_PROG_TYPE_TRACEPOINT, "tracepoint/syscalls/sys_enter_getpid", 0), KIND_TRACEPOINT);
        CHECK_INT(kind_of_parts(BPF_PROG_TYPE_XDP, "xdp", 0), KIND_XDP);
        CHECK_INT(kind_of_parts(BPF_PROG_TYPE_CGROUP_SKB, "cgroup_skb/egress", 0), KIND_CGROUP);
        CHECK_INT(kind_of_parts(BPF_PROG_TYPE_LSM, "lsm/file_open", 0), KIND_INVALID);
}

TEST(kind_from_kernel_type) {
        static const enum bpf_prog_type cgroup_types[] = {
                BPF_PROG_TYPE_CGROUP_SKB, BPF_PROG_TYPE_CGROUP_SOCK, BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
                BPF_PROG_TYPE_CGROUP_DEVICE, BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_PROG_TYPE_CGROUP_SOCKOPT,
                BPF_PROG_TYPE_SOCK_OPS,
        };

        for (size_t i = 0; i < ELEMENTSOF(cgroup_types); i++)
                CHECK_INT(kind_of_kernel_type(cgroup_types[i]), KIND_CGROUP);
        CHECK_INT(kind_of_kernel_type(BPF_PROG_TYPE_TRACEPOINT), KIND_TRACEPOINT);
        CHECK_INT(kind_of_kernel_type(BPF_PROG_TYPE_XDP), KIND_XDP);
        CHECK_INT(kind_of_kernel_type(BPF_PROG_TYPE_SCHED_CLS), KIND_TC);
        /* a kprobe-type program may be a uprobe: without its section nobody can tell */
        CHECK_INT(kind_of_kernel_type(BPF_PROG_TYPE_KPROBE), KIND_INVALID);
        CHECK_INT(kind_of_kernel_type(BPF_PROG_TYPE_UNSPEC), KIND_INVALID);
}

TEST(attach_compatibility) {
        for (Kind k = 0; k < _KIND_MAX; k++)
                CHECK_MSG(kind_attach_compatible(k, k), "%s cannot attach as itself", kind_to_string(k));
        CHECK(kind_attach_compatible(KIND_UPROBE, KIND_URETPROBE));
        CHECK(kind_attach_compatible(KIND_URETPROBE, KIND_UPROBE));
        CHECK(kind_attach_compatible(KIND_KPROBE, KIND_KRETPROBE));
        CHECK(kind_attach_compatible(KIND_TC, KIND_TCX));
        CHECK(kind_attach_compatible(KIND_TCX, KIND_TC));
        CHECK(!kind_attach_compatible(KIND_UPROBE, KIND_KPROBE));
        CHECK(!kind_attach_compatible(KIND_XDP, KIND_TC));
        CHECK(!kind_attach_compatible(KIND_FENTRY, KIND_FEXIT));
        CHECK(!kind_attach_compatible(KIND_TRACEPOINT, KIND_CGROUP));
        /* symmetric */
        for (Kind a = 0; a < _KIND_MAX; a++)
                for (Kind b = 0; b < _KIND_MAX; b++)
                        CHECK_INT(kind_attach_compatible(a, b), kind_attach_compatible(b, a));
}

TEST(loadable_through_a_compatible_kind) {
        bool supported[_KIND_MAX] = {};

        for (Kind k = 0; k < _KIND_MAX; k++)
                CHECK(!kind_loadable(supported, k));
        supported[KIND_TCX] = true;
        CHECK(kind_loadable(supported, KIND_TC));   /* a tc program serves tcx */
        CHECK(kind_loadable(supported, KIND_TCX));
        CHECK(!kind_loadable(supported, KIND_XDP));
        supported[KIND_URETPROBE] = true;
        CHECK(kind_loadable(supported, KIND_UPROBE));
        CHECK(!kind_loadable(supported, KIND_KPROBE));
}
