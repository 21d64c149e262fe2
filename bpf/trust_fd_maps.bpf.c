// SPDX-License-Identifier: GPL-2.0
/*
 * Maps whose values are descriptors, for tests/test_trust_maps.py: "outer" holds maps shaped like
 * tracepoint_counter's "counter" (an array of 2 u64), "jump" holds tracepoint programs. From user space such
 * values are file descriptors of the process that makes the update: over bpfd's MapUpdate, bpfd's own. The
 * program adds one to key 0 of the inner map (another user's counter, if bpfd let a caller put it there)
 * and tail-calls into jump[0].
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} jump SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpgid")
int fd_maps(void *ctx)
{
	__u32 key = 0;
	void *in = bpf_map_lookup_elem(&outer, &key);

	if (in) {
		__u64 *value = bpf_map_lookup_elem(in, &key);
		if (value)
			__sync_fetch_and_add(value, 1);
	}
	bpf_tail_call(ctx, &jump, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
