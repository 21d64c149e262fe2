// SPDX-License-Identifier: GPL-2.0
/* A hash with keys shorter than the kernel's batch token (a u32 bucket index): "ports", u16 → u64, 8192
 * entries. The program only touches it so that the map belongs to it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u16);
	__type(value, __u64);
} ports SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int touch_ports(void *ctx)
{
	__u16 key = 0;
	__u64 *value = bpf_map_lookup_elem(&ports, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
