// SPDX-License-Identifier: GPL-2.0
/*
 * bpfd example: count the packets an interface receives, and let them all pass.
 *
 *     bpfctl load xdp_count.bpf.o xdp --iface eth0 --priority 50
 *
 * Several such programs share one interface through bpfd's XDP dispatcher
 * (where the kernel has freplace); --proceed-on says after which verdicts
 * the next one runs.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} packets SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&packets, &key);

	if (value)
		*value += 1;	/* per CPU: no atomic needed */
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
