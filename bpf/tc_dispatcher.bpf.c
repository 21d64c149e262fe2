// SPDX-License-Identifier: GPL-2.0
/* bpfd's TC dispatcher: one program on a clsact hook that runs up to 10 component programs in order.
 *
 * Components are BPF_PROG_TYPE_EXT programs that replace the stubs prog0..prog9 (freplace). The
 * configuration lives in .rodata, which libbpf freezes at load, so the verifier knows it and drops the
 * calls of the slots that are not enabled. Slot i runs only if i < num_progs_enabled; after it, the next
 * slot runs if bit (ret + 1) of chain_call_actions[i] is set (+1 because TC_ACT_UNSPEC is -1), otherwise
 * the dispatcher returns ret. When no slot is left it returns TC_ACT_OK.
 *
 * Same idea as libxdp's XDP dispatcher (and bpfman's TC dispatcher); written for bpfd. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TC_DISPATCHER_MAX_PROGS 10
/* What a stub returns; a slot whose component was not linked (never the case once attached) is skipped,
 * because service/kernel/tc-dispatcher.c always sets this action's bit. */
#define TC_DISPATCHER_RETVAL 30
#define TC_ACT_OK 0

struct tc_dispatcher_config {
	__u8 num_progs_enabled;
	__u32 chain_call_actions[TC_DISPATCHER_MAX_PROGS];
	__u32 run_prios[TC_DISPATCHER_MAX_PROGS];
};

/* const: in .rodata, frozen at load, so the verifier prunes disabled slots; volatile: the compiler must
 * not fold the zero it sees here, the loader sets the real values. */
static volatile const struct tc_dispatcher_config conf = {};

/* The stubs must stay real, global (non-static: freplace cannot replace static functions) functions with
 * a return value the compiler cannot predict, hence noinline and the volatile. The no-op
 * bpf_skb_pull_data() marks them as changing packet data, so that kernels that check it accept
 * components that do (e.g. bpf_skb_pull_data, bpf_skb_change_tail). */
#define STUB(n)                                                                \
	__attribute__((noinline)) int prog##n(struct __sk_buff *skb)          \
	{                                                                      \
		volatile int ret = TC_DISPATCHER_RETVAL;                       \
									       \
		if (!skb)                                                      \
			return TC_ACT_OK;                                      \
		bpf_skb_pull_data(skb, 0);                                     \
		return ret;                                                    \
	}

STUB(0) STUB(1) STUB(2) STUB(3) STUB(4) STUB(5) STUB(6) STUB(7) STUB(8) STUB(9)

#define SLOT(n)                                                                \
	if (num_progs_enabled < (n) + 1)                                       \
		goto out;                                                      \
	ret = prog##n(skb);                                                    \
	if (!((1U << (ret + 1)) & conf.chain_call_actions[n]))                 \
		return ret;

SEC("tc")
int tc_dispatcher(struct __sk_buff *skb)
{
	__u8 num_progs_enabled = conf.num_progs_enabled;
	int ret;

	SLOT(0) SLOT(1) SLOT(2) SLOT(3) SLOT(4) SLOT(5) SLOT(6) SLOT(7) SLOT(8) SLOT(9)
out:
	return TC_ACT_OK;
}

/* The extension service/kernel/tc-dispatcher.c loads in place of prog0 once, to learn whether the kernel loads
 * extensions at all. */
SEC("tc")
int tc_compat_ext(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
