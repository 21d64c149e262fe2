# SPDX-License-Identifier: LGPL-2.1-or-later
"""The request pipeline (service/request/): every operation, and every spec apply, asks the same polkit
questions for the same things, through the real bus, polkitd and kernel. Rules: tests/env/rules/ (alice:
tracepoint programs by the group rule, but never attached to syscalls/sys_enter_sync)."""

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
