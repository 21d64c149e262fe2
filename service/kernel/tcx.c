/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>

#include "tcx.h"
#include "util.h"

static enum bpf_attach_type attach_type(bool egress) {
        return egress ? BPF_TCX_EGRESS : BPF_TCX_INGRESS;
}

void tcx_chain_done(TcxChain *c) {
        assert(c);

        free(c->prog_ids);
        free(c->link_ids);
        *c = (TcxChain) {};
}

int tcx_query(int ifindex, bool egress, TcxChain *ret) {
        assert(ret);

        for (unsigned attempt = 0; attempt < 10; attempt++) {
                LIBBPF_OPTS(bpf_prog_query_opts, q);
                _cleanup_free_ uint32_t *progs = NULL, *links = NULL;
                uint32_t n;
                int r;

                r = bpf_prog_query_opts(ifindex, attach_type(egress), &q);
                if (r < 0)
                        return r;
                n = q.count;
                progs = calloc(n + 1, sizeof(uint32_t));
                links = calloc(n + 1, sizeof(uint32_t));
                if (!progs || !links)
                        return -ENOMEM;
                q = (struct bpf_prog_query_opts) { .sz = sizeof q, .prog_ids = progs, .link_ids = links, .count = n };
                r = bpf_prog_query_opts(ifindex, attach_type(egress), &q);
                if (r == -ENOSPC)
                        continue; /* grew meanwhile */
                if (r < 0)
                        return r;
                *ret = (TcxChain) { .prog_ids = TAKE_PTR(progs), .link_ids = TAKE_PTR(links), .n = q.count,
                                    .revision = q.revision };
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
        LIBBPF_OPTS(bpf_link_create_opts, opts, .tcx.expected_revision = expected_revision);
        int fd;

        assert(ret_link_fd);

        if (position != TCX_APPEND) {
                opts.flags = (position == TCX_BEFORE_LINK ? BPF_F_BEFORE : BPF_F_AFTER) | BPF_F_ID | BPF_F_LINK;
                opts.tcx.relative_id = relative_link_id;
        }
        fd = bpf_link_create(prog_fd, ifindex, attach_type(egress), &opts);
        if (fd < 0)
                return fd;
        *ret_link_fd = fd;
        return 0;
}
