# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every network hook bpfd offers, natively, on one interface of a kernel that has both TCX (6.6+) and freplace
(backports' 6.12 in the VM): libxdp's dispatcher for XDP, TCX links, and bpfd's own TC dispatcher behind them,
all on veth0's ingress at once; a packet passes through every chain, in the kernel's order. Debian 12's 6.1
has no TCX: there vmtest_tcx_fallback tests the cls_bpf fallback instead, and these tests say so."""

import lib
from lib import counter_pin, load, unload
from test_tcx import TCX_QUERY, Pair, chain_of, interfaces, value

GO_ON = "unspec,ok,pipe,dispatcher_return"   # the TC counters return TC_ACT_UNSPEC to let the next one run


def kernel_has_tcx():
    return lib.run(["python3", "-c", TCX_QUERY, "lo"], check=False).returncode == 0


def require_tcx():
    if not kernel_has_tcx():
        raise lib.Skip(f"kernel {lib.run(['uname', '-r']).stdout.strip()} has no TCX (6.6+): "
                       "vmtest_tcx_fallback tests bpfd's cls_bpf fallback on it")


def hook(pair, kind, prio, *extra):
    where = ["--iface", "veth0", "--priority", str(prio), "--netns", pair.inside]
    if kind != "xdp":
        where += ["--direction", "ingress"]
    return [kind, *where, *extra]


def attach(prog, pair, kind, prio, *extra):
    return lib.bpfctl("--json", "attach", str(prog["id"]), *hook(pair, kind, prio, *extra)).json


def chains(pair):
    for i in interfaces():
        if value(i, "name") == "veth0" and value(i, "netns") == pair.inside:
            return {k: [c[0] for c in value(i, k)] for k in ("xdp_programs", "tc_ingress")}
    return None


def test_kernel_has_tcx_and_freplace():
    require_tcx()
    kinds = lib.bpfctl("--json", "status").json["SupportedKinds"]
    assert {"xdp", "tc", "tcx", "fentry", "kprobe"} <= set(kinds), kinds


def test_xdp_dispatcher_tcx_and_tc_dispatcher_together():
    require_tcx()
    with Pair() as pair:
        xdp, _ = load("xdp_counter", "-p", "xdp_count_a", "-p", "xdp_count_b")
        tcx, _ = load("tcx_counter", "-p", "tcx_count_a", "-p", "tcx_count_b")
        tc, _ = load("tcx_counter", "-p", "tcx_count_c")
        ids = [p["id"] for p in xdp + tcx + tc]
        try:
            attach(xdp[1], pair, "xdp", 20)
            attach(xdp[0], pair, "xdp", 10)
            attach(tcx[1], pair, "tcx", 20)
            attach(tcx[0], pair, "tcx", 10)
            attach(tc[0], pair, "tc", 10, "--proceed-on", GO_ON)
            # two XDP programs: libxdp's dispatcher really runs here (the host's kernel falls back to one)
            ch = chains(pair)
            assert ch["xdp_programs"] == [xdp[0]["id"], xdp[1]["id"]], ch
            # the TCX links in priority order as the kernel runs them, bpfd's TC dispatcher's entry listed too
            kernel_tcx = chain_of(pair)
            assert kernel_tcx[:2] == [tcx[0]["id"], tcx[1]["id"]], kernel_tcx
            assert ch["tc_ingress"][:2] == [tcx[0]["id"], tcx[1]["id"]] and tc[0]["id"] in ch["tc_ingress"], ch
            pins = (counter_pin(xdp[0]), counter_pin(tcx[0]), counter_pin(tc[0]))
            keys = ((0, 1), (0, 1), (2,))
            before = [[lib.counter(p, k) for k in ks] for p, ks in zip(pins, keys)]
            assert pair.ping(10)
            after = [[lib.counter(p, k) for k in ks] for p, ks in zip(pins, keys)]
            seen = [[a - b for a, b in zip(x, y)] for x, y in zip(after, before)]
            # every packet went through the XDP chain, then the TCX chain, then the TC dispatcher
            assert all(min(s) >= 10 for s in seen), seen
        finally:
            unload(*ids)
        out = Pair.ns(pair.procs[0], ["tc", "filter", "show", "dev", "veth0", "ingress"], check=False).stdout
        assert "bpf" not in out, f"filters left after unload:\n{out}"
