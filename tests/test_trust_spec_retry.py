# SPDX-License-Identifier: LGPL-2.1-or-later
"""A user's spec that waits for an interface, tried as an attacker would.

polkit is asked about everything a spec loads and attaches when it is applied; one whose network attachment
names an interface that is not there yet waits (Pending), and is applied again when the interface comes. What
is applied then must be what polkit said yes to: alice's rules allow cgroup counters (cgroup_skb/egress) under
a cgroup named trust-alice but never a connect4 program (tests/env/rules/40-bpfd-trust.rules), and XDP on eth1
(group bpfd-net). Her spec waits for eth1 with an egress counter's object; she then puts a connect4 program in
that file, and root makes eth1."""

import json
import os
import shutil
import tempfile
import time

import lib

SPEC = "trust-retry"


def _cgroup_root():
    root = os.environ.get("BPFD_TEST_CGROUP2") or "/sys/fs/cgroup"
    if not os.path.isdir(root):
        raise AssertionError(f"no cgroup v2 mount at {root}")
    return root


def _spec_status():
    p = lib.busctl("--json=short", "call", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE, "ListSpecs", "a{sv}", "0")
    for s in json.loads(p.stdout)["data"][0]:
        if s["name"]["data"] == SPEC:
            return {k: v["data"] for k, v in s.items()}
    return None


def test_a_waiting_spec_applies_only_what_polkit_allowed():
    lib.ensure_daemon()
    if lib.run(["ip", "link", "show", "eth1"], check=False).returncode == 0:
        raise AssertionError("eth1 exists already in the test environment")
    d = tempfile.mkdtemp(prefix="trust-retry-", dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")
    os.chmod(d, 0o755)
    obj = os.path.join(d, "filter.bpf.o")
    shutil.copy(lib.bpf_obj("cgroup_counter"), obj)
    os.chmod(obj, 0o644)
    xdp = lib.world_readable_copy(lib.bpf_obj("xdp_counter"))
    cg = os.path.join(_cgroup_root(), f"trust-alice-retry-{os.getpid()}")
    os.mkdir(cg)
    spec = os.path.join(d, f"{SPEC}.conf")
    with open(spec, "w") as f:
        f.write(f"""[Object filter]
Path={obj}

[Object net]
Path={xdp}
Programs=xdp_count_a

[Attach cgroup]
Object=filter
Cgroup={cg}

[Attach uplink]
Object=net
Kind=xdp
Interface=eth1
Priority=60
""")
    os.chmod(spec, 0o644)
    os.chown(d, lib.uid_of(lib.ALICE), -1)
    try:
        # Unchanged, the spec is applied once eth1 is there: what polkit said yes to.
        p = lib.bpfctl("--json", "--no-ask-password", "apply", spec, user=lib.ALICE)
        assert p.json["Status"] == "Pending" and p.json["WaitingFor"] == "eth1", p.json
        lib.run(["ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"])
        state = lib.wait_for(lambda: (s := _spec_status()) and s["status"] != "Pending" and s, timeout=60,
                             what="the spec to be applied again once eth1 is there")
        assert state["status"] == "Applied" and len(state["programs"]) == 2, state
        lib.bpfctl("remove-spec", SPEC, user=lib.ALICE)
        lib.run(["ip", "link", "del", "eth1"])

        p = lib.bpfctl("--json", "--no-ask-password", "apply", spec, user=lib.ALICE)
        assert p.json["Status"] == "Pending" and p.json["WaitingFor"] == "eth1", p.json
        # alice's own file, changed while the spec waits: a program polkit refuses for her (connect4).
        lib.run(["cp", lib.bpf_obj("trust_connect4"), obj + ".new"], user=lib.ALICE)
        lib.run(["mv", obj + ".new", obj], user=lib.ALICE)
        lib.run(["ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"])
        state = lib.wait_for(lambda: (s := _spec_status()) and s["status"] != "Pending" and s, timeout=60,
                             what="the spec to be applied again once eth1 is there")
        names = {prog["name"] for prog in lib.bpfctl("--json", "list").json or []}
        assert "allow_connect4" not in names, \
            f"a connect4 program polkit never allowed for alice was loaded and attached on the retry: {state}"
        assert state["status"] == "Failed" and "polkit was not asked" in state["error"], state
        assert state["programs"] == [] and state["links"] == [], state
    finally:
        lib.bpfctl("remove-spec", SPEC, check=False)
        lib.run(["ip", "link", "del", "eth1"], check=False)
        for _ in range(50):
            try:
                os.rmdir(cg)
                break
            except OSError:
                time.sleep(0.1)   # the link's release is deferred
