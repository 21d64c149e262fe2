# SPDX-License-Identifier: LGPL-2.1-or-later
"""bpfd's TC dispatcher (service/kernel/tc-dispatcher.c through build/tests/tc-dispatcher-check) on Debian's
kernel in the VM, which loads extensions: chains of counting programs (bpf/tc_counter.bpf.c) on a veth
between two network namespaces made here, pinged from the peer. tc_counter counts per program and per
step "program X ran right after program Y", so the tests see the order, not only who ran.

Proceed-on ("continue" = run the next slot) defaults to bpfman's ok,pipe,dispatcher_return."""

import contextlib
import os
import shutil
import subprocess
import tempfile

import lib

CHECK = os.path.join(lib.BUILD_DIR, "tests", "tc-dispatcher-check")
COUNTER = lib.bpf_obj("tc_counter")
PASS = lib.bpf_obj("tc_pass")
KEYS = {"tc_count_a": 0, "tc_count_b": 1, "tc_count_c": 2, "tc_count_drop": 3, "tc_count_unspec": 4}
ADDR_A, ADDR_B = "192.0.2.1", "192.0.2.2"
PINGS = 5


def step_key(prev, prog):
    """counter index of "prog ran right after prev" (prev None: first)."""
    return 8 + 8 * (0 if prev is None else KEYS[prev] + 1) + KEYS[prog]


class Net:
    """Namespaces A and B (each held by a sleep of ours), veth-a in A (192.0.2.1) and veth-b in B."""

    def __init__(self):
        self.procs = []
        self.pindir = tempfile.mkdtemp(prefix="vmtest-tcd-", dir="/sys/fs/bpf")
        self.maps = os.path.join(self.pindir, "maps")
        os.mkdir(self.maps)
        self.a, self.b = self._netns(), self._netns()
        # No IPv6 (its autoconfiguration would send packets of its own into the counts).
        for ns in (self.a, self.b):
            self.run(ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                     "net.ipv6.conf.default.disable_ipv6=1")
        lib.run(["ip", "link", "add", "veth-a", "type", "veth", "peer", "name", "veth-b"])
        lib.run(["ip", "link", "set", "veth-a", "netns", str(self.procs[0].pid)])
        lib.run(["ip", "link", "set", "veth-b", "netns", str(self.procs[1].pid)])
        for ns, dev, addr in ((self.a, "veth-a", ADDR_A), (self.b, "veth-b", ADDR_B)):
            self.run(ns, "ip", "link", "set", "lo", "up")
            self.run(ns, "ip", "addr", "add", addr + "/24", "dev", dev)
            self.run(ns, "ip", "link", "set", dev, "up")
        # No ARP either: each ping is one packet each way, and the counts are exact.
        macs = {}
        for ns, dev in ((self.a, "veth-a"), (self.b, "veth-b")):
            out = self.run(ns, "ip", "-o", "link", "show", "dev", dev).stdout.split()
            macs[dev] = out[out.index("link/ether") + 1]
        self.run(self.a, "ip", "neigh", "replace", ADDR_B, "lladdr", macs["veth-b"], "dev", "veth-a", "nud", "permanent")
        self.run(self.b, "ip", "neigh", "replace", ADDR_A, "lladdr", macs["veth-a"], "dev", "veth-b", "nud", "permanent")
        self.ping(check=True)

    def _netns(self):
        p = subprocess.Popen(["unshare", "--net", "--", "sleep", "3600"])
        self.procs.append(p)
        path = f"/proc/{p.pid}/ns/net"
        lib.wait_for(lambda: os.readlink(path) != os.readlink("/proc/self/ns/net"), what="new netns")
        return path

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
        shutil.rmtree(self.pindir, ignore_errors=True)

    def run(self, ns, *cmd, check=True):
        return lib.run(["nsenter", f"--net={ns}", *cmd], check=check)

    def hook_dir(self, hook="ingress"):
        return os.path.join(self.pindir, f"tc-{hook}")

    def check(self, *args, check=True):
        """tc-dispatcher-check ARGS in namespace A, on veth-a."""
        return self.run(self.a, CHECK, *args, check=check)

    def set(self, hook, *components, check=True):
        """Makes veth-a's hook run COMPONENTS ("tc_count_a" or "tc_count_a:shot,ok" for tc_counter's
        programs, or full OBJ:PROG[:ACTIONS]); returns the per-slot lines."""
        specs = [c if c.startswith("/") else f"{COUNTER}:{c}" for c in components]
        p = self.check("--maps", self.maps, "set", "veth-a", hook, self.hook_dir(hook), *specs, check=check)
        if not check:
            return p
        return [line.split() for line in p.stdout.splitlines()]

    def list(self, hook="ingress"):
        return [tuple(line.split()) for line in self.check("list", "veth-a", hook).stdout.splitlines()]

    def ping(self, n=PINGS, check=False):
        p = self.run(self.b, "ping", "-n", "-q", "-c", str(n), "-i", "0.05", "-W", "1", ADDR_A, check=check)
        return p.returncode == 0

    def counts(self):
        return dict(lib.map_dump(os.path.join(self.maps, "counter")))


@contextlib.contextmanager
def net():
    n = Net()
    try:
        yield n
    finally:
        n.close()


def pinged(n, ok=True):
    """Counter deltas over one ping run, which must succeed (or fail with ok=False)."""
    before = n.counts()
    assert n.ping() == ok, "ping " + ("failed" if ok else "went through")
    after = n.counts()
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def chain_deltas(order, packets):
    """The deltas a chain running ORDER (all programs) over PACKETS packets gives."""
    d = {}
    prev = None
    for prog in order:
        d[KEYS[prog]] = d.get(KEYS[prog], 0) + packets
        k = step_key(prev, prog)
        d[k] = d.get(k, 0) + packets
        prev = prog
    return d


def revisions(n, hook="ingress"):
    d = n.hook_dir(hook)
    return {r: sorted(os.listdir(os.path.join(d, r))) for r in os.listdir(d) if r.startswith("rev-")}


def prog_exists(prog_id):
    return lib.run(["bpftool", "prog", "show", "id", str(prog_id)], check=False).returncode == 0


def link_exists(link_id):
    # bpftool 7.5 shows an freplace link of kernel 6.1 but then exits with 255 (it reads link info fields 6.1
    # lacks); a link that does not exist prints nothing on stdout ("Error: get link by id" on stderr).
    p = lib.run(["bpftool", "link", "show", "id", str(link_id)], check=False)
    return p.stdout.startswith(f"{link_id}: ")


def error_of(p):
    assert p.returncode != 0, p.stdout
    assert p.stderr.startswith("error: "), p.stderr
    return p.stderr.split()[1].rstrip(":")


def test_chain_of_three_runs_in_order():
    with net() as n:
        slots = n.set("ingress", "tc_count_a", "tc_count_b", "tc_count_c")
        assert [s[2] for s in slots] == ["tc_count_a", "tc_count_b", "tc_count_c"], slots
        # PINGS echo requests come in on veth-a.
        assert pinged(n) == chain_deltas(["tc_count_a", "tc_count_b", "tc_count_c"], PINGS)

        listed = n.list()
        assert listed[0][1:] == ("tc_dispatcher", "dispatcher"), listed
        assert listed[1:] == [(s[4], s[2], f"slot={i}") for i, s in enumerate(slots)], (listed, slots)

        # Another order, in one swap.
        n.set("ingress", "tc_count_c", "tc_count_a", "tc_count_b")
        assert pinged(n) == chain_deltas(["tc_count_c", "tc_count_a", "tc_count_b"], PINGS)


def test_shot_stops_the_chain_and_drops():
    with net() as n:
        n.set("ingress", "tc_count_a", "tc_count_drop", "tc_count_c")
        d = pinged(n, ok=False)
        # The drop program runs after a, c never runs; ARP may add packets, hence no exact counts.
        assert d.get(KEYS["tc_count_a"], 0) >= PINGS and d.get(KEYS["tc_count_drop"]) == d[KEYS["tc_count_a"]], d
        assert KEYS["tc_count_c"] not in d, d

        # With shot in its proceed-on, the chain goes on and c's TC_ACT_OK is the verdict.
        n.set("ingress", "tc_count_a", "tc_count_drop:shot,ok,pipe,dispatcher_return", "tc_count_c")
        # (ARP entries may have expired during the failed pings: no exact counts.)
        d = pinged(n)
        assert d[KEYS["tc_count_c"]] == d[KEYS["tc_count_drop"]] == d[KEYS["tc_count_a"]] >= PINGS, d
        assert d[step_key("tc_count_drop", "tc_count_c")] == d[KEYS["tc_count_c"]], d


def test_unspec_ends_the_chain_unless_in_proceed_on():
    with net() as n:
        # TC_ACT_UNSPEC is not in the default proceed-on: the dispatcher returns it, TC goes on with the
        # next filter (none): the packet passes, c does not run.
        n.set("ingress", "tc_count_a", "tc_count_unspec", "tc_count_c")
        assert pinged(n) == chain_deltas(["tc_count_a", "tc_count_unspec"], PINGS)
        # Bit 0 (unspec + 1) makes it continue.
        n.set("ingress", "tc_count_a", "tc_count_unspec:unspec", "tc_count_c")
        assert pinged(n) == chain_deltas(["tc_count_a", "tc_count_unspec", "tc_count_c"], PINGS)


def test_remove_from_the_middle_drops_the_old_revision():
    with net() as n:
        n.set("ingress", "tc_count_a", "tc_count_b", "tc_count_c")
        old = n.list()
        revs = revisions(n)
        assert list(revs.values()) == [["dispatcher", "link-0", "link-1", "link-2"]], revs

        slots = n.set("ingress", "tc_count_a", "tc_count_c")
        assert pinged(n) == chain_deltas(["tc_count_a", "tc_count_c"], PINGS)
        new = n.list()
        assert [x[1:] for x in new] == [("tc_dispatcher", "dispatcher"), ("tc_count_a", "slot=0"),
                                         ("tc_count_c", "slot=1")], new
        assert new[0][0] != old[0][0], (old, new)
        revs2 = revisions(n)
        assert list(revs2.values()) == [["dispatcher", "link-0", "link-1"]] and revs2.keys() != revs.keys(), revs2
        # The old dispatcher and its links are gone with their pins (the kernel frees them soon after).
        lib.wait_for(lambda: not prog_exists(old[0][0]), what="old dispatcher to go")
        for s in slots:
            assert link_exists(int(s[6])), s


def test_ten_slots_then_e2big():
    with net() as n:
        slots = n.set("ingress", *["tc_count_a"] * 10)
        assert len(slots) == 10
        d = pinged(n)
        assert d == {KEYS["tc_count_a"]: 10 * PINGS, step_key(None, "tc_count_a"): PINGS,
                     step_key("tc_count_a", "tc_count_a"): 9 * PINGS}, d
        before = n.list()
        p = n.set("ingress", *["tc_count_a"] * 11, check=False)
        assert error_of(p) == "E2BIG", p.stderr
        # Nothing changed.
        assert n.list() == before
        assert len(revisions(n)) == 1


def test_chain_survives_the_process_and_a_second_one_updates_it():
    with net() as n:
        n.set("ingress", "tc_count_a", "tc_count_b")
        # Each call is a new process that exits: only the pins keep the chain.
        listed = n.list()
        assert [x[2] for x in listed] == ["dispatcher", "slot=0", "slot=1"], listed
        assert pinged(n) == chain_deltas(["tc_count_a", "tc_count_b"], PINGS)
        n.set("ingress", "tc_count_b", "tc_count_a", "tc_count_c")
        assert pinged(n) == chain_deltas(["tc_count_b", "tc_count_a", "tc_count_c"], PINGS)
        assert len(revisions(n)) == 1


def test_egress():
    with net() as n:
        n.set("egress", "tc_count_a", "tc_count_b")
        # The echo replies leave through veth-a.
        assert pinged(n) == chain_deltas(["tc_count_a", "tc_count_b"], PINGS)
        assert n.list("ingress") == []
        assert [x[2] for x in n.list("egress")] == ["dispatcher", "slot=0", "slot=1"]
        n.set("egress", "tc_count_drop", "tc_count_b")
        d = pinged(n, ok=False)
        assert d.get(KEYS["tc_count_drop"], 0) >= PINGS and KEYS["tc_count_b"] not in d, d
        n.check("clear", "veth-a", "egress", n.hook_dir("egress"))
        assert n.list("egress") == []
        assert pinged(n) == {}


def test_other_filters_are_listed_and_kept():
    with net() as n:
        n.set("ingress", "tc_count_a")
        # A filter of someone else, after ours (priority 100 > 50).
        n.run(n.a, "tc", "filter", "add", "dev", "veth-a", "ingress", "prio", "100", "bpf", "da",
              "obj", PASS, "sec", "tc")
        listed = n.list()
        assert [x[1:] for x in listed] == [("tc_dispatcher", "dispatcher"), ("tc_count_a", "slot=0"),
                                            ("tc_pass_prog", "other")], listed
        n.check("clear", "veth-a", "ingress", n.hook_dir())
        assert [x[1:] for x in n.list()] == [("tc_pass_prog", "other")]
        assert not os.path.exists(n.hook_dir())
        # Clearing again is fine.
        n.check("clear", "veth-a", "ingress", n.hook_dir())


def test_ingress_qdisc_is_refused():
    with net() as n:
        n.run(n.a, "tc", "qdisc", "add", "dev", "veth-a", "ingress")
        p = n.set("ingress", "tc_count_a", check=False)
        assert error_of(p) == "EBUSY", p.stderr
        assert not revisions(n) if os.path.exists(n.hook_dir()) else True
        out = n.run(n.a, "tc", "filter", "show", "dev", "veth-a", "ingress").stdout
        assert out.strip() == "", out
