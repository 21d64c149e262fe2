// SPDX-License-Identifier: GPL-2.0
/* Lets every packet through (TC_ACT_OK). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TC_ACT_OK 0

SEC("tc")
int tc_pass_prog(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
