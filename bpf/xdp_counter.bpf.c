// SPDX-License-Identifier: GPL-2.0
/* XDP programs for the multi-program (libxdp dispatcher) tests: each counts into its own key of
 * "counter" and lets the packet through, except xdp_count_drop, which counts and drops it. */
#include "counter.h"

COUNTER_MAP(4);

SEC("xdp")
int xdp_count_a(struct xdp_md *ctx)
{
	count(0);
	return XDP_PASS;
}

SEC("xdp")
int xdp_count_b(struct xdp_md *ctx)
{
	count(1);
	return XDP_PASS;
}

SEC("xdp")
int xdp_count_c(struct xdp_md *ctx)
{
	count(2);
	return XDP_PASS;
}

SEC("xdp")
int xdp_count_drop(struct xdp_md *ctx)
{
	count(3);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
