# SPDX-License-Identifier: LGPL-2.1-or-later
"""bpfctl list interfaces and bpfctl get interface NAME (alias bpfctl interface NAME): the table of interfaces, the
chains of one interface in the order they run, their JSON as Manager.ListInterfaces reports it, and the errors."""

import os
import re
import socket

import lib
from lib import load, unload

OBJ = "tcx_counter"
A, B = "tcx_count_a", "tcx_count_b"


def daemon_interfaces():
    """Manager.ListInterfaces, as plain dicts (busctl's {"type", "data"} unwrapped)."""
    out = lib.busctl_json("call", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE, "ListInterfaces", "a{sv}", "0")
    return [{k: v["data"] for k, v in d.items()} for d in out["data"][0]]


def daemon_interface(name):
    for d in daemon_interfaces():
        if d["name"] == name and d["netns"] == "":
            return d
    return None


def table_rows(text):
    """A bpfctl table as lists of cells (columns are at least two spaces apart; a cell like "skb 1" has one)."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines() if line.strip()]


class Veth:
    """A veth pair NAMEa/NAMEb in the daemon's own network namespace, unique per test run."""

    def __init__(self, tag):
        self.name = f"{tag}{os.getpid() % 100000}"
        self.a, self.b = self.name + "a", self.name + "b"

    def __enter__(self):
        lib.run(["ip", "link", "add", self.a, "type", "veth", "peer", "name", self.b])
        return self

    def __exit__(self, *exc):
        lib.run(["ip", "link", "del", self.a], check=False)    # takes the peer along


def attach(prog_id, iface, prio):
    return lib.bpfctl("--json", "attach", str(prog_id), "tcx", "--iface", iface, "--direction", "ingress",
                      "--priority", str(prio)).json


def test_list_and_get_interface():
    lib.ensure_daemon()
    with Veth("bi") as veth:
        progs, _ = load(OBJ, "-p", A, "-p", B)
        progs = {p["name"]: p for p in progs}
        try:
            link_a = attach(progs[A]["id"], veth.a, 20)
            link_b = attach(progs[B]["id"], veth.a, 10)
            entry = lib.wait_for(lambda: (d := daemon_interface(veth.a)) and len(d["tc_ingress"]) == 2 and d,
                                 what=f"{veth.a} with two ingress programs")
            ifindex = socket.if_nametoindex(veth.a)
            assert entry["ifindex"] == ifindex
            assert [c[:5] for c in entry["tc_ingress"]] == [
                [progs[B]["id"], B, True, 10, link_b["id"]], [progs[A]["id"], A, True, 20, link_a["id"]]], entry

            # list interfaces: the table
            rows = table_rows(lib.bpfctl("list", "interfaces").stdout)
            assert rows[0] == ["IFACE", "IFINDEX", "NETNS", "XDP", "INGRESS", "EGRESS"], rows[0]
            mine = [r for r in rows[1:] if r[0] == veth.a]
            assert mine == [[veth.a, str(ifindex), "-", "0", "2", "0"]], rows
            peer = [r for r in rows[1:] if r[0] == veth.b]
            assert peer == [[veth.b, str(socket.if_nametoindex(veth.b)), "-", "0", "0", "0"]], rows

            # list interfaces --json: the daemon's dicts, in the daemon's order
            listed = lib.bpfctl("--json", "list", "interfaces").json
            assert [d["name"] for d in listed] == [d["name"] for d in daemon_interfaces()]
            assert [d for d in listed if d["name"] == veth.a] == [entry]

            # get interface NAME: the chains in the order they run
            text = lib.bpfctl("get", "interface", veth.a).stdout
            lines = text.splitlines()
            assert lines[0] == f"Interface {veth.a} (ifindex {ifindex})", text
            assert lines[1] == "XDP: (none)", text
            assert lines[2] == "TC ingress:", text
            assert table_rows("\n".join(lines[3:6])) == [
                ["POS", "PROGRAM", "NAME", "MANAGED", "PRIORITY", "LINK"],
                ["0", str(progs[B]["id"]), B, "yes", "10", str(link_b["id"])],
                ["1", str(progs[A]["id"]), A, "yes", "20", str(link_a["id"])],
            ], text
            assert all(line.startswith("  ") for line in lines[3:6]), text
            assert lines[6:] == ["TC egress: (none)"], text

            # the short form, and --netns naming bpfd's namespace by path or by ""
            assert lib.bpfctl("interface", veth.a).stdout == text
            assert lib.bpfctl("get", "interface", veth.a, "--netns", "/proc/self/ns/net").stdout == text
            assert lib.bpfctl("get", "interface", "--netns", "", veth.a).stdout == text

            # --json: the daemon's dict
            assert lib.bpfctl("--json", "get", "interface", veth.a).json == entry
            assert lib.bpfctl("interface", veth.a, "--json").json == entry
        finally:
            unload(*[p["id"] for p in progs.values()])


def test_xdp_program_of_someone_else():
    """An XDP program bpfd did not attach shows its mode in the table and has no priority or link."""
    lib.ensure_daemon()
    with Veth("bx") as veth:
        lib.run(["ip", "link", "set", "dev", veth.b, "xdpgeneric", "obj", lib.bpf_obj("xdp_pass"), "sec", "xdp"])
        # The kernel announces XDP changes only for interfaces that are up; "up" itself is announced, and
        # bpfd scans again then.
        lib.run(["ip", "link", "set", veth.b, "up"])
        entry = lib.wait_for(lambda: (d := daemon_interface(veth.b)) and d["xdp_programs"] and d,
                             what=f"{veth.b} with its XDP program")
        assert entry["xdp_mode"] == "skb", entry
        (xdp,) = entry["xdp_programs"]
        rows = table_rows(lib.bpfctl("list", "interfaces").stdout)
        assert [r for r in rows if r[0] == veth.b] == [
            [veth.b, str(entry["ifindex"]), "-", "skb 1", "0", "0"]], rows
        lines = lib.bpfctl("get", "interface", veth.b).stdout.splitlines()
        assert lines[1] == "XDP (skb):", lines
        assert table_rows(lines[3]) == [["0", str(xdp[0]), "xdp_pass_prog", "no", "-", "-"]], lines
        assert lines[4:] == ["TC ingress: (none)", "TC egress: (none)"], lines


def test_unknown_interface():
    lib.ensure_daemon()
    name = f"bn{os.getpid() % 100000}x"
    for args in (["get", "interface", name], ["interface", name], ["--json", "get", "interface", name]):
        p = lib.bpfctl(*args, check=False)
        assert p.returncode == 4, (args, p.returncode, p.stderr)
        assert f"no interface {name}" in p.stderr, p.stderr
        assert p.stdout == "", p.stdout
        # where it looked, and where to see what there is
        assert "bpfd's network namespace" in p.stderr and "bpfctl list interfaces" in p.stderr, p.stderr
    # "lo" exists, but not in that namespace: a path that is not there says so
    p = lib.bpfctl("get", "interface", "lo", "--netns", "/nonexistent/ns", check=False)
    assert p.returncode == 4 and "no interface lo" in p.stderr, (p.returncode, p.stderr)
    assert "/nonexistent/ns: No such file or directory" in p.stderr, p.stderr
    # a namespace bpfd attached nothing in
    ns = f"bpfctl-unknown-{os.getpid()}"
    lib.run(["ip", "netns", "add", ns])
    try:
        p = lib.bpfctl("get", "interface", "lo", "--netns", f"/run/netns/{ns}", check=False)
        assert p.returncode == 4 and "where it attached programs" in p.stderr, (p.returncode, p.stderr)
    finally:
        lib.run(["ip", "netns", "delete", ns])
    assert lib.bpfctl("get", "interface", "lo").stdout.startswith("Interface lo (ifindex 1)")


def test_usage_errors():
    for args in (["get", "interface"], ["interface"], ["get", "link", "1", "--netns", "/proc/self/ns/net"],
                 ["get", "interface", "lo", "eth0"], ["list", "interfaces", "--all"],
                 ["list", "interfaces", "--program", "1"], ["list", "nothing"]):
        p = lib.bpfctl(*args, check=False)
        assert p.returncode == 2, (args, p.returncode, p.stderr)


def test_help_describes_interfaces():
    top = lib.bpfctl("--help").stdout
    commands = top[top.index("COMMANDS"):top.index("LOAD OPTIONS")]
    for text in ("list interfaces", "get interface NAME [--netns PATH]", "interface NAME [--netns PATH]"):
        assert text in commands, text
    assert "list interfaces" in lib.bpfctl("list", "--help").stdout
    assert "IFACE, IFINDEX, NETNS" in lib.bpfctl("list", "--help").stdout
    assert "get interface NAME [--netns PATH]" in lib.bpfctl("get", "--help").stdout
    assert "--netns PATH" in lib.bpfctl("interface", "--help").stdout
