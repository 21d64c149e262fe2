/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/bpf.h>
#include <sys/syscall.h>

#include "tcx.h"
#include "util.h"

/* From the kernel's UAPI of 6.6, which Debian 12's headers (6.1) predate. */
#define BPFD_BPF_TCX_INGRESS 46
#define BPFD_BPF_TCX_EGRESS 47
#define BPFD_BPF_F_BEFORE (1U << 3)
#define BPFD_BPF_F_AFTER (1U << 4)
#define BPFD_BPF_F_ID (1U << 5)
#define BPFD_BPF_F_LINK (1U << 13)

/* The leading part of union bpf_attr for BPF_LINK_CREATE with the tcx member. */
struct tcx_link_create_attr {
        uint32_t prog_fd;
        uint32_t target_ifindex;
        uint32_t attach_type;
        uint32_t flags;
        uint32_t relative_id;
        uint32_t pad;
        uint64_t expected_revision;
};

/* The BPF_PROG_QUERY attributes as of 6.6 (link ids and revision). */
struct tcx_query_attr {
        uint32_t target_ifindex;
        uint32_t attach_type;
        uint32_t query_flags;
        uint32_t attach_flags;
        uint64_t prog_ids;
        uint32_t count;
        uint32_t pad;
        uint64_t prog_attach_flags;
        uint64_t link_ids;
        uint64_t link_attach_flags;
        uint64_t revision;
};

static int sys_bpf(int cmd, void *attr, size_t size) {
        long r = syscall(SYS_bpf, cmd, attr, size);
        return r < 0 ? -errno : (int) r;
}

static uint32_t attach_type(bool egress) {
        return egress ? BPFD_BPF_TCX_EGRESS : BPFD_BPF_TCX_INGRESS;
}

void tcx_chain_done(TcxChain *c) {
        free(c->prog_ids);
        free(c->link_ids);
        *c = (TcxChain) {};
}

int tcx_query(int ifindex, bool egress, TcxChain *ret) {
        for (unsigned attempt = 0; attempt < 10; attempt++) {
                struct tcx_query_attr a = { .target_ifindex = ifindex, .attach_type = attach_type(egress) };
                _cleanup_free_ uint32_t *progs = NULL, *links = NULL;
                uint32_t n;
                int r;

                r = sys_bpf(BPF_PROG_QUERY, &a, sizeof a);
                if (r < 0)
                        return r;
                n = a.count;
                progs = calloc(n + 1, sizeof(uint32_t));
                links = calloc(n + 1, sizeof(uint32_t));
                if (!progs || !links)
                        return -ENOMEM;
                a = (struct tcx_query_attr) { .target_ifindex = ifindex, .attach_type = attach_type(egress),
                                              .prog_ids = (uintptr_t) progs, .link_ids = (uintptr_t) links,
                                              .count = n };
                r = sys_bpf(BPF_PROG_QUERY, &a, sizeof a);
                if (r == -ENOSPC)
                        continue; /* grew meanwhile */
                if (r < 0)
                        return r;
                *ret = (TcxChain) { .prog_ids = TAKE_PTR(progs), .link_ids = TAKE_PTR(links), .n = a.count,
                                    .revision = a.revision };
                return 0;
        }
        return -EBUSY;
}

bool tcx_supported(void) {
        TcxChain c = {};
        /* The loopback device always exists; kernels without TCX reject the attach type. */
        int r = tcx_query(1, false, &c);
        tcx_chain_done(&c);
        return r == 0;
}

int tcx_attach(int prog_fd, int ifindex, bool egress, TcxPosition position, uint32_t relative_link_id,
               uint64_t expected_revision, int *ret_link_fd) {
        struct tcx_link_create_attr a = { .prog_fd = prog_fd, .target_ifindex = ifindex,
                                          .attach_type = attach_type(egress),
                                          .expected_revision = expected_revision };
        int fd;

        if (position != TCX_APPEND) {
                a.flags = (position == TCX_BEFORE_LINK ? BPFD_BPF_F_BEFORE : BPFD_BPF_F_AFTER) | BPFD_BPF_F_ID |
                          BPFD_BPF_F_LINK;
                a.relative_id = relative_link_id;
        }
        fd = sys_bpf(BPF_LINK_CREATE, &a, sizeof a);
        if (fd < 0)
                return fd;
        *ret_link_fd = fd;
        return 0;
}
