// SPDX-License-Identifier: GPL-2.0
/*
 * bpfd example: count the programs this machine starts.
 *
 * A tracepoint program: the section names the tracepoint, so
 *     bpfctl load counter.bpf.o tracepoint
 * attaches it there. Read the count with
 *     bpfctl map dump PROGRAM_ID counter
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counter SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int count_execve(void *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&counter, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
