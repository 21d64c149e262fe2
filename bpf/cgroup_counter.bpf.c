// SPDX-License-Identifier: GPL-2.0
/* Counts packets leaving a cgroup (key 0) and lets every one of them pass. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counter SEC(".maps");

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&counter, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
	return 1; /* allow */
}

char LICENSE[] SEC("license") = "GPL";
