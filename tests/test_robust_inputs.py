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


def test_damaged_state_record_is_forgotten_not_a_crash():
    """Found by fuzz/fuzz-state-record: a link record of kind tracepoint without its tracepoint was taken
    as is after a restart, and the first Detach of it crashed bpfd (strdup(NULL) for polkit's details)."""
    daemon = lib.ensure_daemon()
    progs, links = lib.load("tracepoint_counter", "-p", "count_getpid", "tracepoint")
    link_id = links[0]["id"]
    state = os.path.join(lib.RUNTIME_DIR, "state")
    try:
        daemon.stop()
        damaged = 0
        for name in os.listdir(state):
            path = os.path.join(state, name)
            if not name.endswith(".conf"):
                continue
            with open(path) as f:
                text = f.read()
            if f"[Link {link_id}]" not in text and f"Link {link_id}" not in text:
                continue
            lines = [line for line in text.splitlines(keepends=True) if not line.startswith("tracepoint=")]
            damaged += len(text.splitlines()) - len(lines)
            with open(path, "w") as f:
                f.write("".join(lines))
        assert damaged, f"no record of link {link_id} in {state}"
        daemon.start()
        p = lib.bpfctl("detach", str(link_id), check=False)
        assert daemon.running, "bpfd died on the damaged record:\n" + daemon.log_tail()
        assert "org.bpfd.Error.LinkNotFound" in p.stderr, p.stderr
        assert f"{link_id}" not in lib.bpfctl("list", "links").stdout.split()
    finally:
        lib.ensure_daemon()
        lib.unload(progs[0]["id"])
