// SPDX-License-Identifier: GPL-2.0
/* Programs for ordered chains on TC hooks (TCX or bpfd's tc dispatcher). Each counts the packets it sees
 * (keys 0-3) and checks where it runs: tcx_count_b counts at key 4 the packets tcx_count_a saw just before
 * it, tcx_count_c at key 5 those tcx_count_b saw just before it. They return TCX_NEXT (-1, TC_ACT_UNSPEC) so
 * the chain goes on; tcx_count_drop drops (TC_ACT_SHOT). */
#include "counter.h"

COUNTER_MAP(6)

/* Which program of the chain ran last for the packet on this CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} last SEC(".maps");

static __always_inline int step(__u32 me, __u32 expected_before, __u32 in_order_key)
{
	__u32 zero = 0, *prev = bpf_map_lookup_elem(&last, &zero);

	count(me - 1);
	if (prev) {
		if (in_order_key && *prev == expected_before)
			count(in_order_key);
		*prev = me;
	}
	return -1; /* TCX_NEXT */
}

SEC("tc")
int tcx_count_a(struct __sk_buff *skb)
{
	return step(1, 0, 0);
}

SEC("tc")
int tcx_count_b(struct __sk_buff *skb)
{
	return step(2, 1, 4);
}

SEC("tc")
int tcx_count_c(struct __sk_buff *skb)
{
	return step(3, 2, 5);
}

SEC("tc")
int tcx_count_drop(struct __sk_buff *skb)
{
	count(3);
	return 2; /* TC_ACT_SHOT */
}

char LICENSE[] SEC("license") = "GPL";
