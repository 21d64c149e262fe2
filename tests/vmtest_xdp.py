# SPDX-License-Identifier: LGPL-2.1-or-later
"""Several XDP programs on one interface through bpfd and libxdp's dispatcher, on Debian's kernel in the VM
(it has freplace): priority order, proceed-on, removal from the middle, the 11th refused, the chain after a
daemon restart, and the interface object showing it all."""

import os
import socket

import lib
from lib import counter_pin, load, unload
from test_tcx import Pair, interfaces, value

OBJ = "xdp_counter"


def xdp(pair, prio, *extra):
    return ["xdp", "--iface", "veth0", "--priority", str(prio), "--netns", pair.inside, *extra]


def attach(prog, pair, prio, *extra):
    return lib.bpfctl("--json", "attach", str(prog["id"]), *xdp(pair, prio, *extra)).json


def chain(pair):
    """The XDP chain of veth0 as bpfd's interface object shows it: (program id, managed, priority, link)."""
    for i in interfaces():
        if value(i, "name") == "veth0" and value(i, "netns") == pair.inside:
            return [(c[0], c[2], c[3], c[4]) for c in value(i, "xdp_programs")]
    return None


def seen(pin, keys, pair, n, answered=True, settle=None):
    """Counts of KEYS after N pings. Unanswered pings give no sign that their packets went through XDP yet
    (on a loaded machine the softirq may run after ping exits): then the counts of the keys in SETTLE are
    awaited until they reach N."""
    before = [lib.counter(pin, k) for k in keys]
    assert pair.ping(n) == answered
    if settle:
        lib.wait_for(lambda: all(lib.counter(pin, k) - before[keys.index(k)] >= n for k in settle), timeout=60,
                     what=f"counts of {settle}")
    return [lib.counter(pin, k) - b for k, b in zip(keys, before)]


def test_chain_in_priority_order_with_proceed_on():
    with Pair() as pair:
        progs, _ = load(OBJ, "-p", "xdp_count_a", "-p", "xdp_count_b", "-p", "xdp_count_c", "-p", "xdp_count_drop")
        a, b, c, drop = progs
        try:
            links = [attach(c, pair, 30), attach(a, pair, 10), attach(b, pair, 20)]
            assert chain(pair) == [(a["id"], True, 10, links[1]["id"]), (b["id"], True, 20, links[2]["id"]),
                                   (c["id"], True, 30, links[0]["id"])]
            pin = counter_pin(a)
            counts = seen(pin, (0, 1, 2), pair, 10)
            assert min(counts) >= 10, counts
            # a dropping program at 15: its default proceed-on (pass) does not go on after a drop
            d = attach(drop, pair, 15)
            counts = seen(pin, (0, 3, 1, 2), pair, 5, answered=False, settle=(0, 3))
            assert counts[0] >= 5 and counts[1] >= 5 and counts[2] == 0 and counts[3] == 0, counts
            # removing it from the middle: the others run again, in the same order
            lib.bpfctl("detach", str(d["id"]))
            assert [e[0] for e in chain(pair)] == [a["id"], b["id"], c["id"]]
            assert min(seen(pin, (0, 1, 2), pair, 5)) >= 5
        finally:
            unload(*[p["id"] for p in progs])


def test_proceed_on_drop_lets_the_chain_go_on():
    with Pair() as pair:
        progs, _ = load(OBJ, "-p", "xdp_count_drop", "-p", "xdp_count_b")
        drop, b = progs
        try:
            attach(drop, pair, 10, "--proceed-on", "pass,drop")
            attach(b, pair, 20)
            counts = seen(counter_pin(b), (3, 1), pair, 5)  # the last one passes, so the pings get answers
            assert counts[0] >= 5 and counts[1] >= 5, counts
        finally:
            unload(*[p["id"] for p in progs])


def test_ten_programs_and_the_eleventh_refused():
    with Pair() as pair:
        loaded = [load(OBJ, "-p", "xdp_count_a")[0][0] for _ in range(11)]
        try:
            for i, p in enumerate(loaded[:10]):
                attach(p, pair, 100 + i)
            r = lib.bpfctl("attach", str(loaded[10]["id"]), *xdp(pair, 50), check=False)
            assert "org.bpfd.Error.AttachFailed" in r.stderr and "full" in r.stderr, r.stderr
            assert [e[0] for e in chain(pair)] == [p["id"] for p in loaded[:10]]
            assert pair.ping(2)
        finally:
            unload(*[p["id"] for p in loaded])


def test_chain_survives_restart():
    with Pair() as pair:
        progs, _ = load(OBJ, "-p", "xdp_count_a", "-p", "xdp_count_c")
        a, c = progs
        try:
            attach(a, pair, 10)
            attach(c, pair, 30)
            links = lib.bpfctl("--json", "list", "links").json
            lib.daemon.kill()
            assert min(seen(counter_pin(a), (0, 2), pair, 3)) >= 3, "the chain stopped with the daemon"
            lib.daemon.start()
            assert lib.bpfctl("--json", "list", "links").json == links
            # the recovered priorities still place a new program: b (20) between a and c
            b = load(OBJ, "-p", "xdp_count_b")[0][0]
            progs.append(b)
            attach(b, pair, 20)
            assert [e[0] for e in chain(pair)] == [a["id"], b["id"], c["id"]]
        finally:
            unload(*[p["id"] for p in progs])


def test_vanished_interface_takes_its_chain_and_pins():
    """When the interface goes, bpfd forgets its slots and removes libxdp's dispatcher pins for it."""
    lib.ensure_daemon()
    name = "xv0"
    lib.run(["ip", "link", "add", name, "type", "veth", "peer", "name", name + "p"])
    progs, _ = load(OBJ, "-p", "xdp_count_a", "-p", "xdp_count_b")
    try:
        for p, prio in zip(progs, (10, 20)):
            lib.bpfctl("attach", str(p["id"]), "xdp", "--iface", name, "--priority", str(prio))
        xdp_dir = "/run/bpfd/fs/xdp"
        ifindex = socket.if_nametoindex(name)   # /sys is the VM's init namespace, not with-env's
        dirs = [d for d in os.listdir(xdp_dir) if d.startswith(f"dispatch-{ifindex}-")]
        assert len(dirs) == 1, os.listdir(xdp_dir)
        lib.run(["ip", "link", "del", name])
        lib.wait_for(lambda: lib.bpfctl("--json", "list", "links").json == [], what="the slots to be dropped")
        lib.wait_for(lambda: not any(d.startswith(f"dispatch-{ifindex}-") for d in os.listdir(xdp_dir)),
                     what="libxdp's pins of the vanished interface to go")
    finally:
        lib.run(["ip", "link", "del", name], check=False)
        unload(*[p["id"] for p in progs])


def test_extensions_the_dispatcher_runs_are_listed_as_bpfds():
    """The dispatcher runs, for each managed program, an extension loaded from its object: another kernel
    program. list --all names it as bpfd's, with the program it runs for, not as someone else's."""
    with Pair() as pair:
        progs, _ = load(OBJ, "-p", "xdp_count_a", "-p", "xdp_count_b")
        a, b = progs
        try:
            before = {p["id"] for p in lib.bpfctl("--json", "list", "--all").json}
            links = [attach(a, pair, 10), attach(b, pair, 20)]
            everything = lib.bpfctl("--json", "list", "--all").json
            # the extensions loaded for this chain (libxdp keeps a component's program across rebuilds)
            running = {p["id"] for p in everything if p["id"] not in before and p.get("kernel_type") == "ext"}
            ext = [p for p in everything if p["id"] in running and p["name"] in ("xdp_count_a", "xdp_count_b")]
            assert len(ext) == 2, everything
            for p in ext:
                assert p["managed"] is True, p
                assert p["component_of"] == {"xdp_count_a": a["id"], "xdp_count_b": b["id"]}[p["name"]], p
                assert p["owner_uid"] == 0, p
            assert {p["link"].rsplit("/", 1)[1] for p in ext} == {str(link["id"]) for link in links}
        finally:
            unload(a["id"], b["id"])
