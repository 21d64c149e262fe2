// SPDX-License-Identifier: GPL-2.0
/* fentry/fexit counters: count_fentry and count_fexit trace do_nanosleep() as their sections say (keys 0
 * and 1); count_fentry_any names no function, so its loader must bind it to one (key 2). */
#include "counter.h"

COUNTER_MAP(3)

SEC("fentry/do_nanosleep")
int count_fentry(void *ctx)
{
	count(0);
	return 0;
}

SEC("fexit/do_nanosleep")
int count_fexit(void *ctx)
{
	count(1);
	return 0;
}

SEC("fentry")
int count_fentry_any(void *ctx)
{
	count(2);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
