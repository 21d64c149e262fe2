// SPDX-License-Identifier: GPL-2.0
/* TC programs for the dispatcher tests (tests/vmtest_tc_dispatcher.py). Each counts the packets it sees
 * at counter[KEY] and, to show the order the dispatcher runs them in, the step from the program that ran
 * before it on the same packet at counter[8 + 8 * prev + KEY], where prev is 0 for "none" and the
 * previous program's KEY + 1. The previous program is carried in skb->mark, which is 0 when a packet
 * enters through a veth from another network namespace (and for the tests' locally sent pings). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "counter.h"

#define TC_ACT_UNSPEC (-1)
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

COUNTER_MAP(8 + 8 * 8)

static __always_inline void step(struct __sk_buff *skb, __u32 key)
{
	__u32 prev = skb->mark;

	count(key);
	if (prev < 8)
		count(8 + 8 * prev + key);
	skb->mark = key + 1;
}

/* Key 0..2: count and let the packet through, so that the next slot runs with the default proceed-on. */
SEC("tc")
int tc_count_a(struct __sk_buff *skb)
{
	step(skb, 0);
	return TC_ACT_OK;
}

SEC("tc")
int tc_count_b(struct __sk_buff *skb)
{
	step(skb, 1);
	return TC_ACT_OK;
}

SEC("tc")
int tc_count_c(struct __sk_buff *skb)
{
	step(skb, 2);
	return TC_ACT_OK;
}

/* Key 3: count and drop. */
SEC("tc")
int tc_count_drop(struct __sk_buff *skb)
{
	step(skb, 3);
	return TC_ACT_SHOT;
}

/* Key 4: count and return TC_ACT_UNSPEC (-1), which is not in the default proceed-on. */
SEC("tc")
int tc_count_unspec(struct __sk_buff *skb)
{
	step(skb, 4);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
