/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TCX (kernel 6.6+): an ordered chain of BPF links per interface and direction, where a program that returns
 * TCX_NEXT (-1) lets the next one run. These are libbpf 1.4's low-level calls (bpf_prog_query_opts,
 * bpf_link_create with its tcx options) rather than bpf_program__attach_tcx: bpfd holds programs as
 * descriptors (pinned, kept across restarts), not as the bpf_program of an open object.
 * The caller is in the interface's network namespace. */

typedef struct TcxChain {
        uint32_t *prog_ids;
        uint32_t *link_ids; /* 0 for programs attached without a link */
        size_t n;
        uint64_t revision;  /* changes with every change of the chain */
} TcxChain;

void tcx_chain_done(TcxChain *c);
bool tcx_supported(void);
int tcx_query(int ifindex, bool egress, TcxChain *ret);

typedef enum TcxPosition {
        TCX_APPEND,         /* at the end */
        TCX_BEFORE_LINK,    /* right before relative_link_id */
        TCX_AFTER_LINK,     /* right after relative_link_id */
} TcxPosition;

/* Attaches at a position, only if the chain is still at expected_revision (0: any); -ESTALE if it changed
 * meanwhile, so the caller can look again and retry: a concurrent change is never lost. */
int tcx_attach(int prog_fd, int ifindex, bool egress, TcxPosition position, uint32_t relative_link_id,
               uint64_t expected_revision, int *ret_link_fd);
