// SPDX-License-Identifier: GPL-2.0
/* Counts entries (key 0) and returns (key 1) of the kernel function do_nanosleep(), which nanosleep(2)
 * and clock_nanosleep(2) reach. */
#include "counter.h"

COUNTER_MAP(2)

SEC("kprobe/do_nanosleep")
int count_kprobe(void *ctx)
{
	count(0);
	return 0;
}

SEC("kretprobe/do_nanosleep")
int count_kretprobe(void *ctx)
{
	count(1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
