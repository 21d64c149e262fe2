// SPDX-License-Identifier: GPL-2.0
/* Counts calls of the kernel function do_nanosleep() (key 0). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counter SEC(".maps");

SEC("kprobe/do_nanosleep")
int count_kprobe(void *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&counter, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
