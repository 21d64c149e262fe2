// SPDX-License-Identifier: GPL-2.0
/* Counts entries (key 0) and returns (key 1) of the kernel function do_nanosleep(), which nanosleep(2)
 * and clock_nanosleep(2) reach. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counter SEC(".maps");

static __always_inline void count(__u32 key)
{
	__u64 *value = bpf_map_lookup_elem(&counter, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
}

SEC("kprobe/do_nanosleep")
int count_kprobe(void *ctx)
{
	count(0);
	return 0;
}

SEC("kretprobe/do_nanosleep")
int count_kretprobe(void *ctx)
{
	count(1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
