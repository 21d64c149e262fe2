// SPDX-License-Identifier: GPL-2.0
/* A tracepoint program whose map is named "counter" like every test program's, but shaped otherwise (a
 * hash of 7 entries with 8-byte keys): sharing it with map_owner_id must be refused on its shape, and only
 * to a caller allowed to share at all. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 7);
	__type(key, __u64);
	__type(value, __u32);
} counter SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int odd_shape(void *ctx)
{
	__u64 key = 1;
	__u32 one = 1;

	bpf_map_update_elem(&counter, &key, &one, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
