# SPDX-License-Identifier: LGPL-2.1-or-later
"""TC programs through bpfd's own dispatcher on Debian's kernel in the VM (it has freplace): priority order,
proceed-on with any TC action, a dropping program stopping the rest, removal from the middle, the 11th
refused, and the chain after a daemon restart."""

import lib
from lib import counter_pin, load, unload
from test_tcx import Pair, interfaces, value

OBJ = "tcx_counter"
A, B, C, DROP = "tcx_count_a", "tcx_count_b", "tcx_count_c", "tcx_count_drop"
GO_ON = "unspec,ok,pipe,dispatcher_return"   # the counters return TC_ACT_UNSPEC to let the next one run


def tc(pair, prio, *extra):
    return ["tc", "--iface", "veth0", "--direction", "ingress", "--priority", str(prio), "--netns", pair.inside,
            *extra]


def attach(prog, pair, prio, *extra):
    return lib.bpfctl("--json", "attach", str(prog["id"]), *tc(pair, prio, *extra)).json


def chain(pair):
    for i in interfaces():
        if value(i, "name") == "veth0" and value(i, "netns") == pair.inside:
            return [(c[0], c[2], c[3], c[4]) for c in value(i, "tc_ingress")]
    return None


def load_all():
    progs, _ = load(OBJ, "-p", A, "-p", B, "-p", C, "-p", DROP)
    return {p["name"]: p for p in progs}


def test_tc_is_supported_in_the_vm():
    lib.ensure_daemon()
    assert "tc" in lib.bpfctl("--json", "status").json["SupportedKinds"]


def test_chain_order_proceed_on_drop_and_removal():
    with Pair() as pair:
        progs = load_all()
        try:
            pin = counter_pin(progs[A])
            links = {n: attach(progs[n], pair, prio, "--proceed-on", GO_ON) for n, prio in ((C, 30), (A, 10), (B, 20))}
            assert chain(pair) == [(progs[n]["id"], True, prio, links[n]["id"]) for n, prio in ((A, 10), (B, 20), (C, 30))]
            before = [lib.counter(pin, k) for k in range(6)]
            assert pair.ping(10)
            seen = [lib.counter(pin, k) - b for k, b in enumerate(before)]
            assert seen[0] >= 10 and seen[4] == seen[1] == seen[0] and seen[5] == seen[2] == seen[0], seen
            # the dropper at 15 stops b and c and the pings
            drop = attach(progs[DROP], pair, 15)
            before = [lib.counter(pin, k) for k in range(6)]
            assert not pair.ping(5)
            # dropped pings give no sign that they went through: await their counts
            lib.wait_for(lambda: all(lib.counter(pin, k) - before[k] >= 5 for k in (0, 3)), timeout=60,
                         what="the dropped pings to be counted")
            seen = [lib.counter(pin, k) - b for k, b in enumerate(before)]
            assert seen[0] >= 5 and seen[3] == seen[0] and seen[1] == seen[2] == 0, seen
            lib.bpfctl("detach", str(drop["id"]))
            assert [e[0] for e in chain(pair)] == [progs[n]["id"] for n in (A, B, C)]
            assert pair.ping(3)
        finally:
            unload(*[p["id"] for p in progs.values()])


def test_eleventh_refused_and_restart():
    with Pair() as pair:
        loaded = [load(OBJ, "-p", A)[0][0] for _ in range(11)]
        try:
            for i, p in enumerate(loaded[:10]):
                attach(p, pair, 100 + i, "--proceed-on", GO_ON)
            r = lib.bpfctl("attach", str(loaded[10]["id"]), *tc(pair, 50), check=False)
            assert "org.bpfd.Error.AttachFailed" in r.stderr and "full" in r.stderr, r.stderr
            links = lib.bpfctl("--json", "list", "links").json
            lib.daemon.kill()
            lib.daemon.start()
            assert lib.bpfctl("--json", "list", "links").json == links
            assert [e[0] for e in chain(pair)] == [p["id"] for p in loaded[:10]]
            # a slot removed after the restart: the dispatcher is rebuilt from the recovered slots
            lib.bpfctl("detach", str(links[4]["id"]))
            assert [e[0] for e in chain(pair)] == [p["id"] for i, p in enumerate(loaded[:10]) if i != 4]
            assert pair.ping(2)
        finally:
            unload(*[p["id"] for p in loaded])
