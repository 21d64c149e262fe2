// SPDX-License-Identifier: GPL-2.0
/*
 * Counts getpid() (key 0) and getppid() (key 1) syscalls.
 *
 * target_tgid restricts counting to one process (thread group id); 0 counts
 * every process. It lives in .rodata, so a loader can override it before
 * load (bpfd: LoadFromPath option "global_data" {"target_tgid": <4 bytes>}).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counter SEC(".maps");

const volatile __u32 target_tgid = 0;

static __always_inline void count(__u32 key)
{
	__u64 *value;

	if (target_tgid != 0 && (__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return;

	value = bpf_map_lookup_elem(&counter, &key);
	if (value)
		__sync_fetch_and_add(value, 1);
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int count_getpid(void *ctx)
{
	count(0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
	count(1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
