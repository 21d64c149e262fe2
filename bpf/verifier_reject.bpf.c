// SPDX-License-Identifier: GPL-2.0
/*
 * Deliberately wrong: the result of bpf_map_lookup_elem() is dereferenced
 * without a NULL check. It compiles, but the verifier refuses it with
 * "invalid mem access 'map_value_or_null'". Tests use it to check how a
 * verifier rejection is reported.
 *
 * The map is a hash: recent kernels know that an array lookup with a
 * constant in-range key never returns NULL and would accept the program.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counter SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int bad_deref(void *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&counter, &key);

	/* no NULL check on purpose */
	*value += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
