# SPDX-License-Identifier: LGPL-2.1-or-later
"""Malformed objects that crash a parser bpfd relies on (tests/inputs/README.md): bpfd answers the caller
org.bpfd.Error.InvalidObject and keeps serving everybody else."""

import os
import tempfile

import elfedit
import lib


def libbpf_112_map_type_id():
    """tests/inputs: libbpf-1.1.2-map-type-id."""
    with open(lib.bpf_obj("tracepoint_counter"), "rb") as f:
        data = f.read()
    at = elfedit.btf_member_type_offset(data, "type")
    return elfedit.set_byte(data, ".BTF", at, 255)


def world_readable(data, name):
    d = tempfile.mkdtemp(prefix="input-", dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")
    os.chmod(d, 0o755)
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o644)
    return path


def test_libbpf_112_crasher_is_an_invalid_object():
    path = world_readable(libbpf_112_map_type_id(), "map-type-id.bpf.o")
    daemon = lib.ensure_daemon()
    pid = daemon.pid
    for user in (None, lib.ALICE, lib.BOB):
        p = lib.bpfctl("load", path, user=user, check=False)
        assert "org.bpfd.Error.InvalidObject" in p.stderr, p.stderr
    p = lib.run(["busctl", "--system", "--timeout=10", "call", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE,
                 "LoadFromPath", "sa{sv}", path, "0"], check=False)
    assert p.returncode != 0 and "NoReply" not in p.stderr and "Timeout" not in p.stderr, p.stderr
    # The same daemon still serves: nothing crashed.
    assert daemon.running and daemon.pid == pid and lib.name_owner_pid(lib.BUS_NAME) == pid
    progs, _ = lib.load("tracepoint_counter", "-p", "count_getpid")
    lib.unload(progs[0]["id"])
