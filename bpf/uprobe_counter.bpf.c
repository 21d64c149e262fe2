// SPDX-License-Identifier: GPL-2.0
/*
 * Counts entries (key 0) and returns (key 1) of a user-space function.
 * The sections carry no target: the loader names the binary and function
 * (bpfd: Attach target {"kind": "uprobe", "target": PATH, "function": NAME}).
 */
#include "counter.h"

COUNTER_MAP(2)

SEC("uprobe")
int count_uprobe(void *ctx)
{
	count(0);
	return 0;
}

SEC("uretprobe")
int count_uretprobe(void *ctx)
{
	count(1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
