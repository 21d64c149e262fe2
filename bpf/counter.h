/* SPDX-License-Identifier: GPL-2.0 */
/* The map every test program counts into: "counter", an array of N u64, which the tests read from its
 * pin; count(key) adds one atomically. */
#pragma once

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define COUNTER_MAP(entries)                                                   \
	struct {                                                               \
		__uint(type, BPF_MAP_TYPE_ARRAY);                              \
		__uint(max_entries, entries);                                  \
		__type(key, __u32);                                            \
		__type(value, __u64);                                          \
	} counter SEC(".maps");                                                \
									       \
	static __always_inline void count(__u32 key)                          \
	{                                                                      \
		__u64 *value = bpf_map_lookup_elem(&counter, &key);            \
									       \
		if (value)                                                     \
			__sync_fetch_and_add(value, 1);                        \
	}
