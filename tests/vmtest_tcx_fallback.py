# SPDX-License-Identifier: LGPL-2.1-or-later
"""tcx on a kernel without TCX (Debian's 6.1 in the VM): the same chains made of ordered cls_bpf filters, with
the same semantics: priority then attach order, TCX_NEXT (TC_ACT_UNSPEC) goes on, a drop stops the rest, and
the chain survives a daemon restart."""

import lib
from lib import counter_pin, unload
from test_tcx import A, B, C, DROP, TCX_QUERY, Pair, attach, interfaces, load_all, value


def chain(pair):
    for i in interfaces():
        if value(i, "name") == "veth0" and value(i, "netns") == pair.inside:
            return [(c[0], c[2], c[3], c[4]) for c in value(i, "tc_ingress")]
    return None


def counts(pin, pair, n, answered=True):
    before = [lib.counter(pin, k) for k in range(6)]
    assert pair.ping(n) == answered
    return [lib.counter(pin, k) - b for k, b in enumerate(before)]


def require_no_tcx():
    p = lib.run(["python3", "-c", TCX_QUERY, "lo"], check=False)
    if p.returncode == 0:
        raise lib.Skip(f"kernel {lib.run(['uname', '-r']).stdout.strip()} has TCX: the fallback is for kernels "
                       "without it (6.1); vmtest_tcx_native tests TCX itself here")


def test_kernel_lacks_tcx_and_bpfd_still_offers_it():
    require_no_tcx()
    lib.ensure_daemon()
    assert "tcx" in lib.bpfctl("--json", "status").json["SupportedKinds"]
    # the kernel itself has no TCX: querying a TCX hook fails
    p = lib.run(["python3", "-c", TCX_QUERY, "lo"], check=False)
    assert p.returncode != 0, p.stdout


def test_filters_in_priority_order_and_continuation():
    require_no_tcx()
    with Pair() as pair:
        progs = load_all()
        try:
            links = {n: attach(progs[n]["id"], pair, prio) for n, prio in ((C, 30), (A, 10), (B, 20))}
            assert chain(pair) == [(progs[n]["id"], True, prio, links[n]["id"]) for n, prio in ((A, 10), (B, 20), (C, 30))]
            assert all(l["id"] >= 0x80000000 for l in links.values()), links
            pin = counter_pin(progs[A])
            seen = counts(pin, pair, 10)
            assert seen[0] >= 10 and seen[4] == seen[1] == seen[0] and seen[5] == seen[2] == seen[0], seen
            drop = attach(progs[DROP]["id"], pair, 15)
            seen = counts(pin, pair, 5, answered=False)
            assert seen[0] >= 5 and seen[3] == seen[0] and seen[1] == seen[2] == 0, seen
            lib.bpfctl("detach", str(drop["id"]))
            assert [e[0] for e in chain(pair)] == [progs[n]["id"] for n in (A, B, C)]
            links_before = lib.bpfctl("--json", "list", "links").json
            lib.daemon.kill()
            lib.daemon.start()
            assert lib.bpfctl("--json", "list", "links").json == links_before
            assert counts(pin, pair, 3)[2] >= 3
        finally:
            unload(*[p["id"] for p in progs.values()])
        out = Pair.ns(pair.procs[0], ["tc", "filter", "show", "dev", "veth0", "ingress"]).stdout
        assert "bpf" not in out, f"filters left after unload:\n{out}"
