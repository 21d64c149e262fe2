# SPDX-License-Identifier: LGPL-2.1-or-later
"""TCX chains (kernel 6.6+) on a veth pair between two network namespaces: programs run in priority order
(equal priorities in attach order), a program continues the chain with TCX_NEXT, one that drops stops the
later ones, the order survives a daemon restart, and bad input gets its error."""

import json
import os
import subprocess

import lib
from lib import counter_pin, load, unload

OBJ = "tcx_counter"
A, B, C, DROP = "tcx_count_a", "tcx_count_b", "tcx_count_c", "tcx_count_drop"


class Pair:
    """veth0 (192.0.2.1) in namespace `inside`, veth1 (192.0.2.2) in `outside`: two processes each holding a
    new network namespace, named to bpfd by /proc/PID/ns/net."""

    def __enter__(self):
        self.procs = [subprocess.Popen(["unshare", "-n", "sleep", "600"]) for _ in range(2)]
        self.inside, self.outside = (f"/proc/{p.pid}/ns/net" for p in self.procs)
        lib.wait_for(lambda: all(os.readlink(f"/proc/{p.pid}/ns/net") != os.readlink("/proc/self/ns/net")
                                 for p in self.procs), what="the namespaces")
        name = f"bt{os.getpid() % 100000}"
        lib.run(["ip", "link", "add", name + "a", "type", "veth", "peer", "name", name + "b"])
        for veth, proc, new, addr in ((name + "a", self.procs[0], "veth0", "192.0.2.1/24"),
                                      (name + "b", self.procs[1], "veth1", "192.0.2.2/24")):
            lib.run(["ip", "link", "set", veth, "netns", str(proc.pid)])
            self.ns(proc, ["ip", "link", "set", veth, "name", new])
            self.ns(proc, ["ip", "addr", "add", addr, "dev", new])
            # no IPv6 and static neighbours: only the test's own packets cross, so counts are exact
            self.ns(proc, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
            self.ns(proc, ["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"])
            self.ns(proc, ["sysctl", "-qw", f"net.ipv6.conf.{new}.disable_ipv6=1"])
            self.ns(proc, ["ip", "link", "set", new, "up"])
            self.ns(proc, ["ip", "link", "set", "lo", "up"])
        macs = [json.loads(self.ns(p, ["ip", "-j", "link", "show", "dev", dev]).stdout)[0]["address"]
                for p, dev in ((self.procs[0], "veth0"), (self.procs[1], "veth1"))]
        self.ns(self.procs[0], ["ip", "neigh", "replace", "192.0.2.2", "lladdr", macs[1], "dev", "veth0", "nud", "permanent"])
        self.ns(self.procs[1], ["ip", "neigh", "replace", "192.0.2.1", "lladdr", macs[0], "dev", "veth1", "nud", "permanent"])
        return self

    @staticmethod
    def ns(proc, cmd, check=True):
        return lib.run(["nsenter", "-t", str(proc.pid), "-n", *cmd], check=check)

    def ping(self, n):
        """n pings from outside to inside; True if all were answered."""
        p = self.ns(self.procs[1], ["ping", "-q", "-c", str(n), "-i", "0.01", "-W", "1", "192.0.2.1"], check=False)
        return p.returncode == 0

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()


def tcx(pair, prio, *extra):
    return ["tcx", "--iface", "veth0", "--direction", "ingress", "--priority", str(prio), "--netns", pair.inside,
            *extra]


def attach(prog_id, pair, prio):
    return lib.bpfctl("--json", "attach", str(prog_id), *tcx(pair, prio)).json


TCX_QUERY = r"""
import ctypes, json, socket, struct, sys
# BPF_PROG_QUERY (cmd 16) for BPF_TCX_INGRESS (46): program ids in the order they run.
libc = ctypes.CDLL(None, use_errno=True)
ids = (ctypes.c_uint32 * 64)()
attr = ctypes.create_string_buffer(64)
struct.pack_into("=IIIIQI", attr, 0, socket.if_nametoindex(sys.argv[1]), 46, 0, 0, ctypes.addressof(ids), 64)
if libc.syscall(321, 16, attr, 64) < 0:
    sys.exit(f"query failed: errno {ctypes.get_errno()}")
count = struct.unpack_from("=I", attr, 24)[0]
print(json.dumps(list(ids[:count])))
"""


def chain_of(pair):
    """The kernel's TCX ingress chain of veth0 in order, as program ids, asked in the namespace itself."""
    out = Pair.ns(pair.procs[0], ["python3", "-c", TCX_QUERY, "veth0"]).stdout
    return json.loads(out)


def load_all():
    progs, _ = load(OBJ, "-p", A, "-p", B, "-p", C, "-p", DROP)
    return {p["name"]: p for p in progs}


def test_tcx_is_supported_here():
    lib.ensure_daemon()
    assert "tcx" in lib.bpfctl("--json", "status").json["SupportedKinds"]


def test_priority_order_and_continuation():
    with Pair() as pair:
        progs = load_all()
        ids = [p["id"] for p in progs.values()]
        try:
            pin = counter_pin(progs[A])
            # attached out of order: c (30), a (10), b (20)
            links = {name: attach(progs[name]["id"], pair, prio) for name, prio in ((C, 30), (A, 10), (B, 20))}
            assert links[A]["attach_point"].startswith("tcx veth0 ingress priority 10"), links[A]
            assert chain_of(pair) == [progs[A]["id"], progs[B]["id"], progs[C]["id"]]
            before = [lib.counter(pin, k) for k in range(6)]
            assert pair.ping(20)
            after = [lib.counter(pin, k) for k in range(6)]
            seen = [a - b for a, b in zip(after, before)]
            assert seen[0] >= 20 and seen[1] == seen[0] and seen[2] == seen[0], seen
            assert seen[4] == seen[1] and seen[5] == seen[2], f"not in priority order: {seen}"
            # a dropping program at 15 stops b and c, and the pings
            attach(progs[DROP]["id"], pair, 15)
            before = [lib.counter(pin, k) for k in range(6)]
            assert not pair.ping(5)
            # dropped pings give no sign that they went through: await their counts
            lib.wait_for(lambda: all(lib.counter(pin, k) - before[k] >= 5 for k in (0, 3)), timeout=60,
                         what="the dropped pings to be counted")
            after = [lib.counter(pin, k) for k in range(6)]
            seen = [a - b for a, b in zip(after, before)]
            assert seen[0] >= 5 and seen[3] == seen[0] and seen[1] == 0 and seen[2] == 0, seen
        finally:
            unload(*ids)


def test_equal_priority_runs_in_attach_order():
    with Pair() as pair:
        progs = load_all()
        try:
            attach(progs[A]["id"], pair, 40)
            attach(progs[B]["id"], pair, 40)
            attach(progs[C]["id"], pair, 40)
            assert chain_of(pair) == [progs[A]["id"], progs[B]["id"], progs[C]["id"]]
            pin = counter_pin(progs[A])
            assert pair.ping(5)
            assert lib.counter(pin, 5) >= 5 and lib.counter(pin, 4) == lib.counter(pin, 0)
        finally:
            unload(*[p["id"] for p in progs.values()])


def test_order_survives_restart():
    with Pair() as pair:
        progs = load_all()
        try:
            attach(progs[A]["id"], pair, 10)
            attach(progs[C]["id"], pair, 30)
            links = lib.bpfctl("--json", "list", "links").json
            lib.daemon.kill()
            lib.daemon.start()
            assert lib.bpfctl("--json", "list", "links").json == links
            # the recovered priorities still order new links: b (20) goes between a and c
            attach(progs[B]["id"], pair, 20)
            assert chain_of(pair) == [progs[A]["id"], progs[B]["id"], progs[C]["id"]]
            assert pair.ping(3)
        finally:
            unload(*[p["id"] for p in progs.values()])


def test_bad_tcx_targets():
    with Pair() as pair:
        progs = load_all()
        prog = str(progs[A]["id"])
        try:
            cases = [
                (tcx(pair, 10)[:2] + ["nosuch0", "--direction", "ingress", "--netns", pair.inside],
                 "AttachTargetNotFound"),
                (tcx(pair, 0), "InvalidArgument"),
                (tcx(pair, 1001), "InvalidArgument"),
                (tcx(pair, 10, "--proceed-on", "ok"), "InvalidArgument"),
                (["tcx", "--iface", "veth0", "--direction", "ingress", "--netns", "/nonexistent/ns"],
                 "AttachTargetNotFound"),
                (["tcx", "--iface", "veth0", "--direction", "ingress", "--netns", "/etc/hostname"],
                 "InvalidArgument"),
            ]
            for args, error in cases:
                p = lib.bpfctl("attach", prog, *args, check=False)
                assert p.returncode != 0 and f"org.bpfd.Error.{error}" in p.stderr, (args, p.stderr)
            # bpfctl checks the direction itself; the daemon does too
            p = lib.run(["gdbus", "call", "--system", "--dest", lib.BUS_NAME, "--object-path", lib.MANAGER_PATH,
                         "--method", "org.bpfd.Manager.Attach", prog,
                         "{'kind': <'tcx'>, 'interface': <'veth0'>, 'direction': <'sideways'>}"], check=False)
            assert "org.bpfd.Error.InvalidArgument" in p.stderr, p.stderr
            p = lib.bpfctl("load", lib.bpf_obj("tracepoint_counter"), "-p", "count_getpid", *tcx(pair, 10),
                           check=False)
            assert "org.bpfd.Error.InvalidArgument" in p.stderr, p.stderr
            assert lib.bpfctl("--json", "list", "links").json == []
            assert chain_of(pair) == []
        finally:
            unload(*[p["id"] for p in progs.values()])


def interfaces():
    return lib.busctl_json("call", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE, "ListInterfaces", "a{sv}",
                           "0")["data"][0]


def value(d, key):
    return d[key]["data"]


def test_interface_objects_show_the_chains():
    """The interface of another namespace gets an object (name@netnsINODE) once bpfd attaches there; it lists
    the TCX chain in order with priorities and links, and an XDP program someone else attached."""
    with Pair() as pair:
        progs = load_all()
        try:
            # Someone else's XDP program first: in other namespaces bpfd looks again at its own changes.
            Pair.ns(pair.procs[0], ["ip", "link", "set", "dev", "veth0", "xdpgeneric", "obj",
                                    lib.bpf_obj("xdp_pass"), "sec", "xdp"])
            links = {name: attach(progs[name]["id"], pair, prio) for name, prio in ((A, 10), (C, 30), (B, 20))}

            def veth0():
                for i in interfaces():
                    if value(i, "name") == "veth0" and value(i, "netns") == pair.inside:
                        return i
                return None

            entry = lib.wait_for(lambda: veth0() if veth0() and value(veth0(), "xdp_mode") else None,
                                 what="veth0's object with its XDP program")
            ino = os.stat(pair.inside).st_ino
            assert value(entry, "netns_inode") == ino
            assert value(entry, "object_path") == f"/org/bpfd/Manager/interface/veth0_40netns{ino}", entry
            chain = value(entry, "tc_ingress")
            assert [(c[0], c[1], c[2], c[3], c[4]) for c in chain] == [
                (progs[n]["id"], n, True, prio, links[n]["id"]) for n, prio in ((A, 10), (B, 20), (C, 30))], chain
            assert chain[0][5] == f"/org/bpfd/Manager/link/{links[A]['id']}"
            assert value(entry, "xdp_mode") == "skb"
            (xdp,) = value(entry, "xdp_programs")
            assert xdp[1] == "xdp_pass_prog" and xdp[2] is False and xdp[5] == "/", xdp
            # the same through the object's properties
            path = value(entry, "object_path")
            assert lib.busctl_json("get-property", lib.BUS_NAME, path, "org.bpfd.Interface", "Name")["data"] == "veth0"
        finally:
            unload(*[p["id"] for p in progs.values()])


def test_vanished_interface_drops_its_links():
    """An interface that goes away takes its object along, and bpfd forgets the links that were on it."""
    lib.ensure_daemon()
    name = f"bv{os.getpid() % 100000}"
    lib.run(["ip", "link", "add", name + "a", "type", "veth", "peer", "name", name + "b"])
    progs = load_all()
    try:
        link = lib.bpfctl("--json", "attach", str(progs[A]["id"]), "tcx", "--iface", name + "a", "--direction",
                          "egress").json
        path = f"/org/bpfd/Manager/interface/{name}a"
        lib.wait_for(lambda: any(value(i, "object_path") == path and value(i, "tc_egress") for i in interfaces()),
                     what="the interface object with the link")
        assert os.path.exists(link["pin_path"])
        lib.run(["ip", "link", "del", name + "a"])
        lib.wait_for(lambda: all(value(i, "object_path") != path for i in interfaces()),
                     what="the interface object to go")
        lib.wait_for(lambda: lib.bpfctl("--json", "list", "links").json == [], what="the link to be dropped")
        assert not os.path.exists(link["pin_path"])
        assert lib.bpfctl("--json", "get", str(progs[A]["id"])).json["links"] == []
    finally:
        lib.run(["ip", "link", "del", name + "a"], check=False)
        unload(*[p["id"] for p in progs.values()])


def test_interface_signals_chain_changes():
    """A client watching an interface object sees PropertiesChanged with the new chain when bpfd changes it."""
    from test_lifecycle import bus_signals
    lib.ensure_daemon()
    name = f"bs{os.getpid() % 100000}"
    lib.run(["ip", "link", "add", name + "a", "type", "veth", "peer", "name", name + "b"])
    progs = load_all()
    path = f"/org/bpfd/Manager/interface/{name}a"
    try:
        lib.wait_for(lambda: any(value(i, "object_path") == path for i in interfaces()), what="the interface object")

        def change():
            lib.bpfctl("attach", str(progs[A]["id"]), "tcx", "--iface", name + "a", "--direction", "ingress")
            lib.wait_for(lambda: any(value(i, "object_path") == path and value(i, "tc_ingress") for i in interfaces()),
                         what="the chain to show")

        signals = bus_signals(change)
        changed = [data[1] for member, p, iface, data in signals
                   if member == "PropertiesChanged" and p == path and data[0] == "org.bpfd.Interface"]
        assert any([c[0] for c in props["TcIngress"]["data"]] == [progs[A]["id"]]
                   for props in changed if "TcIngress" in props), signals
    finally:
        unload(*[p["id"] for p in progs.values()])
        lib.run(["ip", "link", "del", name + "a"], check=False)
