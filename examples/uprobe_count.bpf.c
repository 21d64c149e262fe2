// SPDX-License-Identifier: GPL-2.0
/*
 * bpfd example: count the calls of a function in a program or library, per
 * process.
 *
 *     bpfctl load uprobe_count.bpf.o uprobe --target /usr/bin/bash --fn readline
 *
 * The section names no target: the attach step says which file and function
 * (and, with --pid, which process).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);	/* process id */
	__type(value, __u64);	/* calls */
} calls SEC(".maps");

SEC("uprobe")
int count_calls(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1, *value = bpf_map_lookup_elem(&calls, &pid);

	if (value)
		__sync_fetch_and_add(value, 1);
	else
		bpf_map_update_elem(&calls, &pid, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
