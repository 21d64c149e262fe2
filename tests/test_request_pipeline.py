# SPDX-License-Identifier: LGPL-2.1-or-later
"""The request pipeline (service/request/): every operation, and every spec apply, asks the same polkit
questions for the same things, through the real bus, polkitd and kernel. Rules: tests/env/rules/ (alice:
tracepoint programs by the group rule, but never attached to syscalls/sys_enter_sync)."""

import json
import os
import tempfile

import lib

TRACEPOINT_OBJ = lib.bpf_obj("tracepoint_counter")
FORBIDDEN_TRACEPOINT = "syscalls/sys_enter_sync"
EXIT_NOT_ALLOWED = 3


def _tmpdir():
    d = tempfile.mkdtemp(prefix="pipeline-", dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")
    os.chmod(d, 0o755)
    return d


def _program_ids():
    return {p["id"] for p in lib.bpfctl("--json", "list").json or []}


def _spec(obj, tracepoint):
    return f"""[Spec]
Description=the pipeline's spec test

[Object counters]
Path={obj}
Programs=count_getpid

[Attach getpid]
Program=count_getpid
Tracepoint={tracepoint}
"""


def test_spec_load_with_attach_asks_attach_per_target():
    """A spec that loads a program and attaches it asks org.bpfd.attach for the attachment, as LoadFrom* with
    'attach' and Attach do: alice may apply specs and load tracepoint programs, but not attach to
    syscalls/sys_enter_sync, and a spec does not get round that."""
    lib.ensure_daemon()
    d = _tmpdir()
    obj = lib.world_readable_copy(TRACEPOINT_OBJ)
    spec = os.path.join(d, "pipeline-attach.conf")
    before = _program_ids()
    try:
        with open(spec, "w") as f:
            f.write(_spec(obj, FORBIDDEN_TRACEPOINT))
        os.chmod(spec, 0o644)
        p = lib.bpfctl("--no-ask-password", "apply", spec, user=lib.ALICE, check=False)
        assert p.returncode == EXIT_NOT_ALLOWED and "PermissionDenied" in p.stderr, \
            f"the spec's attachment was not asked about:\n{p.stdout}\n{p.stderr}"
        assert "org.bpfd.attach" in p.stderr and "count_getpid" in p.stderr, p.stderr
        assert _program_ids() == before, "the refused apply left a program"
        # The same spec attaching elsewhere is alice's to apply.
        with open(spec, "w") as f:
            f.write(_spec(obj, "syscalls/sys_enter_getpgid"))
        ok = lib.bpfctl("--json", "--no-ask-password", "apply", spec, user=lib.ALICE).json
        assert ok["Status"] == "Applied" and ok["OwnerUid"] == lib.uid_of(lib.ALICE), ok
    finally:
        lib.bpfctl("remove-spec", "pipeline-attach", check=False)
        for i in _program_ids() - before:
            lib.bpfctl("unload", str(i), check=False)


def test_attach_opens_the_network_namespace_as_a_load_does():
    """Attach resolves its target as a load's 'attach' does: the network namespace is opened as the caller
    before polkit is asked, so a rule sees its canonical name (alice: never XDP in /run/netns/trust-forbidden,
    which '..' does not disguise) and the link records it."""
    lib.ensure_daemon()
    before = _program_ids()
    obj = lib.world_readable_copy(lib.bpf_obj("xdp_counter"))
    made = lib.run(["ip", "link", "show", "eth1"], check=False).returncode != 0
    if made:
        lib.run(["ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"])
    namespaces = ("trust-forbidden", "pipeline-ok")
    for ns in namespaces:
        lib.run(["ip", "netns", "add", ns])
        lib.run(["ip", "-n", ns, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"])
    try:
        p = lib.bpfctl("--json", "--no-ask-password", "load", obj, "-p", "xdp_count_a", "xdp", "--iface", "eth1",
                       "--priority", "60", user=lib.ALICE)
        prog = p.json["programs"][0]["id"]
        p = lib.bpfctl("--no-ask-password", "attach", str(prog), "xdp", "--iface", "eth1", "--priority", "60",
                       "--netns", "/run/netns/../netns/trust-forbidden", user=lib.ALICE, check=False)
        assert p.returncode == EXIT_NOT_ALLOWED and "PermissionDenied" in p.stderr, \
            f"Attach into a forbidden namespace named with '..' was not refused:\n{p.stdout}\n{p.stderr}"
        p = lib.bpfctl("--json", "--no-ask-password", "attach", str(prog), "xdp", "--iface", "eth1", "--priority",
                       "60", "--netns", "/run/netns/../netns/pipeline-ok", user=lib.ALICE, check=False)
        assert p.returncode == 0, f"Attach into pipeline-ok was refused:\n{p.stderr}"
        links = lib.bpfctl("--json", "list", "links", "--program", str(prog)).json or []
        assert any("/run/netns/pipeline-ok" in json.dumps(l) for l in links), \
            f"the link does not record the canonical namespace: {links}"
    finally:
        for i in _program_ids() - before:
            lib.bpfctl("unload", str(i), check=False)
        for ns in namespaces:
            lib.run(["ip", "netns", "del", ns], check=False)
        if made:
            lib.run(["ip", "link", "del", "eth1"], check=False)
