// SPDX-License-Identifier: GPL-2.0
/* fentry/fexit counters: count_fentry and count_fexit trace do_nanosleep() as their sections say (keys 0
 * and 1); count_fentry_any names no function, so its loader must bind it to one (key 2). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} counter SEC(".maps");

static __always_inline void count(__u32 key)
{
	__u64 *value = bpf_map_lookup_elem(&counter, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
}

SEC("fentry/do_nanosleep")
int count_fentry(void *ctx)
{
	count(0);
	return 0;
}

SEC("fexit/do_nanosleep")
int count_fexit(void *ctx)
{
	count(1);
	return 0;
}

SEC("fentry")
int count_fentry_any(void *ctx)
{
	count(2);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
