# SPDX-License-Identifier: LGPL-2.1-or-later
"""XDP on this machine's kernel (no freplace, so no dispatcher), as the kernel sees it:
the program on the interface is the program bpfd reports, bpfd holds no
descriptor it does not need (across link flaps, refused attaches, someone
else's program going, its own program unloaded), and an occupied interface or
a mode the driver lacks gets an error that says what is the matter."""

import json
import os

import lib
from lib import load, unload
from test_tcx import Pair

OBJ = "xdp_counter"


def xdp(pair, prio, *extra):
    return ["xdp", "--iface", "veth0", "--priority", str(prio), "--netns", pair.inside, *extra]


def fd_count():
    return len(os.listdir(f"/proc/{lib.daemon.pid}/fd"))


def xdp_prog_on(pair, dev="veth0"):
    """The id of the XDP program the kernel runs on DEV inside the pair (0 if none)."""
    (link,) = json.loads(Pair.ns(pair.procs[0], ["ip", "-j", "-d", "link", "show", "dev", dev]).stdout)
    xdp_info = link.get("xdp") or {}
    prog = xdp_info.get("prog") or {}
    if prog.get("id"):
        return prog["id"]
    for a in xdp_info.get("attached", []):
        if a.get("prog", {}).get("id"):
            return a["prog"]["id"]
    return 0


def foreign_program(pair):
    Pair.ns(pair.procs[0], ["ip", "link", "set", "dev", "veth0", "xdpgeneric", "obj", lib.bpf_obj("xdp_pass"),
                            "sec", "xdp"])
    return xdp_prog_on(pair)


def test_the_program_on_the_interface_is_the_one_bpfd_reports():
    with Pair() as pair:
        progs, _ = load(OBJ, "-p", "xdp_count_a")
        a = progs[0]
        try:
            before = set(lib.kernel_progs())
            link = lib.bpfctl("--json", "attach", str(a["id"]), *xdp(pair, 10)).json
            assert xdp_prog_on(pair) == a["id"], (xdp_prog_on(pair), a["id"])
            # No second copy of it in the kernel, and nothing on the interface that list --all calls unmanaged.
            # (a copy loaded on the way, if any, leaves the kernel once its last descriptor is closed)
            def copies():
                return {i: p for i, p in lib.kernel_progs().items()
                        if i not in before and i != a["id"] and p.get("name") == "xdp_count_a"}
            lib.wait_for(lambda: not copies(), timeout=20, what="no second copy of the program")
            unmanaged = [p for p in lib.bpfctl("--json", "list", "--all").json
                         if p["id"] == xdp_prog_on(pair) and not p.get("managed", True)]
            assert unmanaged == [], unmanaged
            lib.bpfctl("detach", str(link["id"]))
            assert xdp_prog_on(pair) == 0
        finally:
            unload(a["id"])


def test_link_flaps_leak_no_descriptors():
    """bpfd rescans the interfaces of its own namespace on every link change."""
    name = f"bf{os.getpid() % 100000}"
    lib.run(["ip", "link", "add", name + "a", "type", "veth", "peer", "name", name + "b"])
    progs = []
    try:
        for dev in (name + "a", name + "b"):
            lib.run(["ip", "link", "set", dev, "up"])
        progs, _ = load(OBJ, "-p", "xdp_count_a")
        lib.bpfctl("attach", str(progs[0]["id"]), "xdp", "--iface", name + "a", "--priority", "10")
        lib.bpfctl("list", "interfaces")
        before = fd_count()
        for _ in range(20):
            lib.run(["ip", "link", "set", name + "a", "down"])
            lib.bpfctl("list", "interfaces")
            lib.run(["ip", "link", "set", name + "a", "up"])
            lib.bpfctl("list", "interfaces")
        after = fd_count()
        assert after <= before, f"bpfd held {before} descriptors before 20 link flaps, {after} after"
    finally:
        if progs:
            unload(progs[0]["id"])
        lib.run(["ip", "link", "del", name + "a"], check=False)


def test_refused_attaches_leak_nothing_and_name_the_program():
    with Pair() as pair:
        foreign = foreign_program(pair)
        assert foreign
        progs, _ = load(OBJ, "-p", "xdp_count_a")
        try:
            before = fd_count()
            for _ in range(10):
                p = lib.bpfctl("attach", str(progs[0]["id"]), *xdp(pair, 10), check=False)
                assert p.returncode == 7 and "org.bpfd.Error.AttachFailed" in p.stderr, p.stderr
                assert f"already runs program {foreign} (xdp_pass_prog), not loaded by bpfd" in p.stderr, p.stderr
            # A caller's remembered credentials (a pidfd) go when the bus says its connection went: await that.
            lib.wait_for(lambda: fd_count() <= before, what=f"{before} descriptors as before 10 refused attaches")
            # Its owner removes it: nothing of bpfd's keeps it in the kernel.
            Pair.ns(pair.procs[0], ["ip", "link", "set", "dev", "veth0", "xdpgeneric", "off"])
            lib.wait_prog_gone(foreign)
        finally:
            unload(progs[0]["id"])


def test_unloaded_xdp_program_leaves_the_kernel():
    with Pair() as pair:
        progs, _ = load(OBJ, "-p", "xdp_count_a")
        a = progs[0]
        lib.bpfctl("attach", str(a["id"]), *xdp(pair, 10))
        on_iface = xdp_prog_on(pair)
        lib.bpfctl("unload", str(a["id"]))
        assert xdp_prog_on(pair) == 0
        lib.wait_prog_gone(a["id"])
        lib.wait_prog_gone(on_iface)


def test_native_mode_on_lo_says_it_has_no_native_support():
    with Pair() as pair:
        progs, _ = load(OBJ, "-p", "xdp_count_a")
        try:
            p = lib.bpfctl("attach", str(progs[0]["id"]), "xdp", "--iface", "lo", "--priority", "10",
                           "--netns", pair.inside, "--mode", "native", check=False)
            assert "org.bpfd.Error.NotSupported" in p.stderr and "no native XDP support" in p.stderr, p.stderr
            assert "has one already" not in p.stderr, p.stderr
            assert lib.bpfctl("--json", "list", "links").json == []
        finally:
            unload(progs[0]["id"])
