// SPDX-License-Identifier: GPL-2.0
/* A cgroup/connect4 program (it could redirect every connection of a cgroup; this one lets each through):
 * for tests that polkit rules tell it from a cgroup_skb/egress counter by the detail "attach_type". */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup/connect4")
int allow_connect4(struct bpf_sock_addr *ctx)
{
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
