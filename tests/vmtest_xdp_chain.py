# SPDX-License-Identifier: LGPL-2.1-or-later
"""Several XDP programs on one interface through libxdp's dispatcher (service/kernel/xdp-chain.c, driven by
build/tests/xdp-chain-check), on Debian's kernel in the VM, which has freplace: the chain runs in
run_prio order, a program's chain actions decide whether the next runs, removing one keeps the others,
ten fill it, and someone else's program is never replaced. Each checker call is a new process, so the
chain also outlives the process that built it (libxdp's pins under BPFD_XDP_BPFFS)."""

import contextlib
import errno
import os
import shutil
import tempfile

import lib

CHECK = os.path.join(lib.BUILD_DIR, "tests", "xdp-chain-check")
OBJ = lib.bpf_obj("xdp_counter")
NS_XDP, NS_PEER = "bpfd-xc-a", "bpfd-xc-b"
IFACE, PEER = "xc0", "xc1"
# TEST-NET-1, only inside the two private namespaces made here.
ADDR_XDP, ADDR_PEER = "192.0.2.1", "192.0.2.2"
KEY = {"xdp_count_a": 0, "xdp_count_b": 1, "xdp_count_c": 2, "xdp_count_drop": 3}
PASS = 1 << 2


class Chain:
    """A veth pair between two fresh network namespaces, libxdp's pins in a directory of their own and
    a pinned "counter" map that every added program shares (map reuse), so its keys show who ran."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="xdp-chain-", dir="/sys/fs/bpf")
        self.map_pin = os.path.join(self.dir, "counter")
        lib.run(["bpftool", "map", "create", self.map_pin, "type", "array", "key", "4", "value", "8",
                 "entries", "4", "name", "counter"])
        for ns in (NS_XDP, NS_PEER):
            lib.run(["ip", "netns", "add", ns])
        lib.run(["ip", "link", "add", IFACE, "netns", NS_XDP, "type", "veth", "peer", "name", PEER,
                 "netns", NS_PEER])
        for ns, dev, addr in ((NS_XDP, IFACE, ADDR_XDP), (NS_PEER, PEER, ADDR_PEER)):
            lib.run(["ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev])
            lib.run(["ip", "-n", ns, "link", "set", dev, "up"])
            lib.run(["ip", "-n", ns, "link", "set", "lo", "up"])

    def check(self, *args, check=True):
        # nsenter, not "ip netns exec", which remounts /sys and so would hide /sys/fs/bpf.
        env = dict(os.environ, BPFD_XDP_BPFFS=os.path.join(self.dir, "fs"))
        return lib.run(["nsenter", f"--net=/run/netns/{NS_XDP}", CHECK, *args], check=check, env=env)

    def add(self, prog, prio, *extra, check=True):
        p = self.check("--reuse-pinned-map", f"counter={self.map_pin}", "add", IFACE, OBJ, prog, str(prio),
                       *extra, check=check)
        if check:
            fields = dict(f.split("=") for f in p.stdout.split())
            assert fields["dispatcher"] == "yes", p.stdout
            return int(fields["id"])
        return p

    def remove(self, prog_id, check=True):
        return self.check("remove", IFACE, str(prog_id), check=check)

    def list(self):
        """(header dict, [(id, name, run_prio, chain_actions)])"""
        lines = self.check("list", IFACE).stdout.splitlines()
        header = dict(f.split("=") for f in lines[0].split())
        entries = []
        for line in lines[1:]:
            i, name, prio, actions = line.split()
            entries.append((int(i), name, int(prio), int(actions)))
        return header, entries

    def counts(self):
        values = dict(lib.map_dump(self.map_pin))
        return {name: values[key] for name, key in KEY.items()}

    def ping(self, n=5):
        """N pings from the peer namespace to the XDP side; True if they were answered."""
        p = lib.run(["ip", "netns", "exec", NS_PEER, "ping", "-c", str(n), "-i", "0.2", "-W", "1", ADDR_XDP],
                    check=False, timeout=60)
        return p.returncode == 0

    def kernel_prog_id(self):
        """The id of the program the kernel runs on IFACE (0 for none)."""
        p = lib.run(["ip", "-n", NS_XDP, "-d", "link", "show", IFACE])
        words = p.stdout.split()
        for i, w in enumerate(words):
            if w.startswith("prog/xdp") and words[i + 1] == "id":
                return int(words[i + 2])
        return 0

    def close(self):
        try:
            if self.kernel_prog_id():
                _, entries = self.list()
                for e in entries:
                    self.remove(e[0], check=False)
        finally:
            for ns in (NS_XDP, NS_PEER):
                lib.run(["ip", "netns", "del", ns], check=False)
            shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def chain():
    c = Chain()
    try:
        yield c
    finally:
        c.close()


def delta(before, after):
    return {k: after[k] - before[k] for k in before}


def counted(c, before, at_least):
    """The counts since BEFORE once every program named in AT_LEAST ({name: n}) has counted n packets more.
    A dropped ping gives ping nothing to wait for: the packet may still be on its way through the softirq
    (late on a loaded machine) when ping exits, so the counts are awaited, not read once."""
    return lib.wait_for(lambda: (lambda d: d if all(d[k] >= n for k, n in at_least.items()) else None)(
        delta(before, c.counts())), timeout=60, what=f"counts {at_least}")


def assert_error(p, err):
    assert p.returncode == err, (p.returncode, p.stdout, p.stderr)
    name = p.stderr.split(":")[1].strip()
    assert getattr(errno, name, None) == err, p.stderr    # EOPNOTSUPP is ENOTSUP to Python


def test_three_programs_run_in_run_prio_order():
    with chain() as c:
        # Added out of order: the dispatcher sorts by run_prio.
        ids = {name: c.add(name, prio) for name, prio in (("xdp_count_c", 30), ("xdp_count_a", 10),
                                                          ("xdp_count_b", 20))}
        header, entries = c.list()
        assert header["dispatcher"] == "yes", header
        assert [(e[1], e[2], e[3]) for e in entries] == [("xdp_count_a", 10, PASS), ("xdp_count_b", 20, PASS),
                                                         ("xdp_count_c", 30, PASS)], entries
        assert [e[0] for e in entries] == [ids["xdp_count_a"], ids["xdp_count_b"], ids["xdp_count_c"]]
        main = int(header["main"])
        assert c.kernel_prog_id() == main
        # libxdp's pins, under our directory: the dispatcher's components and their links.
        ifindex = int(lib.run(["ip", "netns", "exec", NS_XDP, "cat", f"/sys/class/net/{IFACE}/ifindex"]).stdout)
        pins = sorted(os.listdir(os.path.join(c.dir, "fs", "xdp", f"dispatch-{ifindex}-{main}")))
        assert pins == ["prog0-link", "prog0-prog", "prog1-link", "prog1-prog", "prog2-link", "prog2-prog"], pins

        before = c.counts()
        assert c.ping(5)
        d = delta(before, c.counts())
        for name in ("xdp_count_a", "xdp_count_b", "xdp_count_c"):
            assert d[name] >= 5, d
        # (give or take a packet that came while we read)
        assert max(d.values()) - min(d["xdp_count_a"], d["xdp_count_b"], d["xdp_count_c"]) <= 2, d
        assert d["xdp_count_drop"] == 0, d


def test_drop_stops_the_chain_unless_its_actions_say_go_on():
    with chain() as c:
        c.add("xdp_count_a", 10)
        drop = c.add("xdp_count_drop", 20)           # chain actions: pass only
        c.add("xdp_count_c", 30)
        before = c.counts()
        assert not c.ping(3)
        d = counted(c, before, {"xdp_count_a": 3, "xdp_count_drop": 3})
        assert d["xdp_count_c"] == 0, d

        # Again with XDP_DROP among its chain actions: the next program runs and decides (pass).
        c.remove(drop)
        drop = c.add("xdp_count_drop", 20, "pass,drop")
        _, entries = c.list()
        assert [(e[1], e[3]) for e in entries] == [("xdp_count_a", PASS), ("xdp_count_drop", PASS | 2),
                                                   ("xdp_count_c", PASS)], entries
        before = c.counts()
        assert c.ping(3)
        counted(c, before, {"xdp_count_drop": 3, "xdp_count_c": 3})


def test_removing_the_middle_program_keeps_the_others():
    with chain() as c:
        ids = [c.add(name, prio) for name, prio in (("xdp_count_a", 10), ("xdp_count_b", 20),
                                                   ("xdp_count_c", 30))]
        old_main = int(c.list()[0]["main"])
        c.remove(ids[1])
        header, entries = c.list()
        # A new dispatcher, with the same component programs (ids) in the same order.
        assert int(header["main"]) != old_main and c.kernel_prog_id() == int(header["main"])
        assert [(e[0], e[1]) for e in entries] == [(ids[0], "xdp_count_a"), (ids[2], "xdp_count_c")], entries
        assert_error(c.remove(ids[1], check=False), errno.ENOENT)

        before = c.counts()
        assert c.ping(3)
        d = delta(before, c.counts())
        assert d["xdp_count_a"] >= 3 and d["xdp_count_c"] >= 3 and d["xdp_count_b"] == 0, d

        # The last one takes the dispatcher (and its pins) with it.
        c.remove(ids[0])
        c.remove(ids[2])
        header, entries = c.list()
        assert entries == [] and c.kernel_prog_id() == 0, (header, entries)
        assert os.listdir(os.path.join(c.dir, "fs", "xdp")) == []


def test_ten_programs_fill_the_chain():
    with chain() as c:
        names = list(KEY)[:3]
        ids = [c.add(names[i % 3], 10 + i) for i in range(10)]
        assert_error(c.add("xdp_count_a", 100, check=False), errno.E2BIG)
        _, entries = c.list()
        assert [e[0] for e in entries] == ids, entries
        before = c.counts()
        assert c.ping(2)
        d = delta(before, c.counts())
        # Each key is counted by every program of that name: 4, 3 and 3 of them.
        assert d["xdp_count_a"] >= 8 and d["xdp_count_b"] >= 6 and d["xdp_count_c"] >= 6, d
        assert d["xdp_count_a"] > d["xdp_count_b"], d


def test_modes():
    with chain() as c:
        c.add("xdp_count_a", 10, "pass", "skb")
        c.add("xdp_count_b", 20)                     # unspec joins the chain's mode
        header, entries = c.list()
        assert header["mode"] == "skb" and len(entries) == 2, (header, entries)
        assert_error(c.add("xdp_count_c", 30, "pass", "native", check=False), errno.EINVAL)
        assert_error(c.add("xdp_count_c", 30, "pass", "hw", check=False), errno.EINVAL)
        assert len(c.list()[1]) == 2


def test_someone_elses_program_is_never_replaced():
    with chain() as c:
        p = lib.run(["ip", "-n", NS_XDP, "link", "set", "dev", IFACE, "xdp", "obj", lib.bpf_obj("xdp_pass"),
                     "sec", "xdp"], check=False)
        if p.returncode != 0:
            # iproute2 without libbpf: load and attach with bpftool instead.
            pin = os.path.join(c.dir, "xdp_pass")
            lib.run(["bpftool", "prog", "load", lib.bpf_obj("xdp_pass"), pin])
            lib.run(["nsenter", f"--net=/run/netns/{NS_XDP}", "bpftool", "net", "attach", "xdp", "pinned", pin,
                     "dev", IFACE])
        foreign = c.kernel_prog_id()
        assert foreign
        assert_error(c.add("xdp_count_a", 10, check=False), errno.EBUSY)
        assert c.kernel_prog_id() == foreign
        header, entries = c.list()
        assert header["dispatcher"] == "no" and [e[0] for e in entries] == [foreign], (header, entries)
        assert c.ping(2)
        lib.run(["ip", "-n", NS_XDP, "link", "set", "dev", IFACE, "xdp", "off"])
