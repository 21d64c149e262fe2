// SPDX-License-Identifier: GPL-2.0
/* Streams an event per getpid(2) of process target_tgid (0: every process) through the ring buffer
 * "events": the u64 bpf_get_current_pid_tgid() of the caller. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16384);
} events SEC(".maps");

const volatile __u32 target_tgid = 0;

SEC("tracepoint/syscalls/sys_enter_getpid")
int stream_getpid(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 *e;

	if (target_tgid && (id >> 32) != target_tgid)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	*e = id;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
