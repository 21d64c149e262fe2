// SPDX-License-Identifier: GPL-2.0
/*
 * bpfd example: count the bytes of an interface's traffic in one direction,
 * and let every packet go on.
 *
 *     bpfctl load tc_count.bpf.o tcx --iface eth0 --direction ingress
 *     bpfctl load tc_count.bpf.o tc --iface eth0 --direction egress
 *
 * tcx uses the kernel's TCX links (Linux 6.6 and later); tc uses bpfd's
 * dispatcher on the clsact qdisc. The program is the same.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bytes SEC(".maps");

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&bytes, &key);

	if (value)
		*value += skb->len;
	return TC_ACT_UNSPEC;	/* no verdict of ours: the next program or the stack decides */
}

char LICENSE[] SEC("license") = "GPL";
