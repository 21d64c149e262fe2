// SPDX-License-Identifier: GPL-2.0
/* Counts packets leaving a cgroup (key 0) and lets every one of them pass. */
#include "counter.h"

COUNTER_MAP(1)

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	count(0);
	return 1; /* allow */
}

char LICENSE[] SEC("license") = "GPL";
