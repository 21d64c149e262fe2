// SPDX-License-Identifier: GPL-2.0
/* A large BTF-typed hash for map benchmarks and tests: "entries", u32 → u64, 16384 entries. The program
 * only touches it so that the map belongs to it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} entries SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int touch_entries(void *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&entries, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
