# SPDX-License-Identifier: LGPL-2.1-or-later
"""What bpfd keeps in indexes and updates piece by piece (README: "Scale") shows the same as a full look would:
interface objects follow rtnetlink events for that interface (new, renamed, gone, programs others attach), a
program's links and its map group's users come from indexes, and bpfctl starts without libbpf."""

import json
import os
import subprocess

import lib
from lib import load, unload

TP_GETPID = "syscalls/sys_enter_getpid"
TP_GETPPID = "syscalls/sys_enter_getppid"
TP_GETUID = "syscalls/sys_enter_getuid"
IFACE_PREFIX = "/org/bpfd/Manager/interface/"


def interfaces():
    return lib.busctl_json("call", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE, "ListInterfaces", "a{sv}",
                           "0")["data"][0]


def value(d, key):
    return d[key]["data"]


def by_name(name):
    for i in interfaces():
        if value(i, "name") == name and value(i, "netns") == "":
            return i
    return None


def ifindex(name):
    return json.loads(lib.run(["ip", "-j", "link", "show", "dev", name]).stdout)[0]["ifindex"]


class Veth:
    """A veth pair in bpfd's namespace, removed on exit."""

    def __init__(self, tag):
        self.a = f"{tag}{os.getpid() % 10000}a"
        self.b = f"{tag}{os.getpid() % 10000}b"

    def __enter__(self):
        lib.ensure_daemon()
        lib.run(["ip", "link", "add", self.a, "type", "veth", "peer", "name", self.b])
        return self

    def __exit__(self, *exc):
        lib.run(["ip", "link", "del", self.a], check=False)
        lib.run(["ip", "link", "del", self.b], check=False)


def test_bpfctl_starts_without_libbpf():
    """libbpf, libelf and libz are opened by the map formatting only (dlopen), not by every command."""
    needed = subprocess.run(["readelf", "-d", lib.BPFCTL], check=True, capture_output=True, text=True).stdout
    libs = [line.split("[")[1].split("]")[0] for line in needed.splitlines() if "(NEEDED)" in line]
    assert libs, needed
    assert not [n for n in libs if n.startswith(("libbpf.", "libelf", "libz."))], libs
    # and bpfctl still works without them
    lib.ensure_daemon()
    assert lib.bpfctl("--version").stdout


def test_interface_objects_follow_events():
    """A new interface gets its object, a renamed one moves to its new name with the same index, and a removed
    one loses it: each from the rtnetlink events about that interface."""
    with Veth("sc") as veth:
        entry = lib.wait_for(lambda: by_name(veth.a), what="the new interface's object")
        assert value(entry, "ifindex") == ifindex(veth.a)
        assert value(entry, "object_path") == IFACE_PREFIX + veth.a
        index = ifindex(veth.a)
        renamed = veth.a[:-1] + "r"
        lib.run(["ip", "link", "set", "dev", veth.a, "name", renamed])
        veth.a = renamed
        entry = lib.wait_for(lambda: by_name(renamed), what="the renamed interface's object")
        assert value(entry, "ifindex") == index
        assert value(entry, "object_path") == IFACE_PREFIX + renamed
        lib.wait_for(lambda: by_name(renamed[:-1] + "a") is None, what="the old name's object to go")
        lib.run(["ip", "link", "del", renamed])
        lib.wait_for(lambda: by_name(renamed) is None and by_name(veth.b) is None,
                     what="both ends of the pair to lose their objects")
        assert all(value(i, "ifindex") != index for i in interfaces())


def test_programs_others_attach_show_up():
    """Someone else's XDP program and a TC filter on a clsact qdisc appear on the interface's object (read from
    one link and one qdisc dump, then per hook) and disappear again."""
    with Veth("so") as veth:
        lib.wait_for(lambda: by_name(veth.a), what="the interface object")
        # The kernel announces XDP changes only for interfaces that are up.
        lib.run(["ip", "link", "set", veth.a, "up"])
        lib.run(["ip", "link", "set", "dev", veth.a, "xdpgeneric", "obj", lib.bpf_obj("xdp_pass"), "sec", "xdp"])
        entry = lib.wait_for(lambda: by_name(veth.a) if value(by_name(veth.a), "xdp_programs") else None,
                             what="the XDP program on the object")
        (xdp,) = value(entry, "xdp_programs")
        assert xdp[1] == "xdp_pass_prog" and xdp[2] is False, xdp
        assert value(entry, "xdp_mode") == "skb"
        # Filters are not link events: bpfd sees them when it next reads the interface (here: the XDP detach).
        lib.run(["tc", "qdisc", "add", "dev", veth.a, "clsact"])
        lib.run(["tc", "filter", "add", "dev", veth.a, "ingress", "bpf", "da", "obj", lib.bpf_obj("tc_pass"),
                 "sec", "tc"])
        lib.run(["ip", "link", "set", "dev", veth.a, "xdpgeneric", "off"])
        entry = lib.wait_for(lambda: by_name(veth.a) if not value(by_name(veth.a), "xdp_programs") else None,
                             what="the XDP program to go")
        assert value(entry, "xdp_mode") == ""
        (tc,) = value(entry, "tc_ingress")
        assert tc[1] == "tc_pass_prog" and tc[2] is False, tc
        assert value(entry, "tc_egress") == []
        # Another interface's object is unaffected.
        other = by_name(veth.b)
        assert other and value(other, "xdp_programs") == [] and value(other, "tc_ingress") == []


def test_links_and_map_users_follow_changes():
    """A program's links (in id order) and the users of its maps, as the dictionary and the properties show
    them, follow attaches, detaches and unloads."""
    progs, links = load("tracepoint_counter", "-p", "count_getpid", "-p", "count_getppid",
                        "tracepoint", "--tracepoint", TP_GETPID, "--attach-program", "count_getpid")
    ids = sorted(p["id"] for p in progs)
    a = next(p for p in progs if p["name"] == "count_getpid")
    b = next(p for p in progs if p["name"] == "count_getppid")
    try:
        extra = [lib.bpfctl("--json", "attach", str(a["id"]), "tracepoint", "--tracepoint", tp).json["id"]
                 for tp in (TP_GETPPID, TP_GETUID)]
        want = sorted([links[0]["id"]] + extra)

        def paths(ids):
            return [f"/org/bpfd/Manager/link/{i}" for i in ids]

        got = lib.bpfctl("--json", "get", str(a["id"])).json
        assert got["links"] == paths(want), got
        assert got["map_used_by"] == ids, got
        path = f"/org/bpfd/Manager/program/{a['id']}"
        prop = lib.busctl_json("get-property", lib.BUS_NAME, path, "org.bpfd.Program", "Links")["data"]
        assert prop == paths(want), prop

        lib.bpfctl("detach", str(want[1]))
        assert lib.bpfctl("--json", "get", str(a["id"])).json["links"] == paths([want[0], want[2]])
        assert lib.bpfctl("--json", "get", str(b["id"])).json["links"] == []

        lib.bpfctl("unload", str(b["id"]))
        got = lib.bpfctl("--json", "get", str(a["id"])).json
        assert got["map_used_by"] == [a["id"]], got
        assert got["links"] == paths([want[0], want[2]]), got
        listed = [p for p in lib.bpfctl("--json", "list").json if p["id"] == a["id"]]
        assert listed and listed[0]["map_used_by"] == [a["id"]], listed
        assert listed[0]["links"] == paths([want[0], want[2]]), listed
    finally:
        unload(a["id"], b["id"])


def test_no_polkit_agent_unless_polkit_asks():
    """bpfctl on a terminal starts pkttyagent only when polkit would ask for a password: a load polkit allows
    outright (alice, group bpfd) runs none. pkttyagent is replaced, in the test's mount namespace, by a script
    that notes each start."""
    lib.ensure_daemon()
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    d = os.path.dirname(obj)
    real, wrapper, starts = os.path.join(d, "pkttyagent.real"), os.path.join(d, "pkttyagent"), \
        os.path.join(d, "agent-starts")
    with open("/usr/bin/pkttyagent", "rb") as src, open(real, "wb") as out:
        out.write(src.read())
    os.chmod(real, 0o755)
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\necho started >> {starts}\nexec {real} \"$@\"\n")
    os.chmod(wrapper, 0o755)
    open(starts, "w").close()
    os.chmod(starts, 0o666)
    lib.run(["mount", "--bind", wrapper, "/usr/bin/pkttyagent"])
    prog = None
    try:
        # script(1) gives bpfctl a terminal, where it would start an agent before every change.
        p = lib.run(["script", "-qec", f"{lib.BPFCTL} load {obj} -p count_getpid tracepoint", "/dev/null"],
                    user=lib.ALICE)
        words = p.stdout.replace("\r", "").split()
        assert "Loaded" in words, p.stdout
        prog = int(words[words.index("program") + 1].strip(":,()"))
        with open(starts) as f:
            assert f.read() == "", "bpfctl started a polkit agent that nobody needed"
    finally:
        lib.run(["umount", "/usr/bin/pkttyagent"], check=False)
        if prog:
            unload(prog)
