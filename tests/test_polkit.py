# SPDX-License-Identifier: LGPL-2.1-or-later
"""Authorization: polkit decides who may load, attach, detach and unload.

Rules of the test environment (tests/env/rules/50-bpfd-tests.rules):
bpfd-alice (group bpfd) may org.bpfd.load/attach when kind=tracepoint,
bpfd-bob may nothing, bpfd-carol may org.bpfd.manage-others. Owners unload
and detach their own programs without polkit; root always passes.
"""

import os
import shlex
import tempfile

import lib

EXIT_NOT_ALLOWED = 3
EXIT_BAD_OBJECT = 5     # also FileNotFound
PERMISSION_DENIED = "org.bpfd.Error.PermissionDenied"
FILE_NOT_FOUND = "org.bpfd.Error.FileNotFound"

TRACEPOINT_OBJ = lib.bpf_obj("tracepoint_counter")
UPROBE_OBJ = lib.bpf_obj("uprobe_counter")


# ---- helpers ----

def _start():
    """Running daemon, no programs left over from earlier tests."""
    lib.ensure_daemon()
    _unload_all()


def _programs():
    return lib.bpfctl("--json", "list").json or []


def _program_ids():
    return {p["id"] for p in _programs()}


def _link_ids():
    return {link["id"] for link in (lib.bpfctl("--json", "list", "links").json or [])}


def _unload_all():
    ids = [str(i) for i in _program_ids()]
    if ids:
        lib.bpfctl("unload", *ids)


def _load(obj, *args, user=None):
    """bpfctl --json load OBJ ARGS as USER; returns the parsed JSON."""
    p = lib.bpfctl("--json", "--no-ask-password", "load", obj, *args, user=user)
    assert p.json and p.json.get("programs"), f"no programs in bpfctl's answer:\n{p.stdout}"
    return p.json


def _load_tracepoint(user=None, attach=False):
    """Load count_getpid (from a copy every user can read), optionally attached;
    returns (program id, link id or None)."""
    obj = lib.world_readable_copy(TRACEPOINT_OBJ)
    args = ["-p", "count_getpid"]
    if attach:
        args += ["tracepoint", "--tracepoint", "syscalls/sys_enter_getpid"]
    j = _load(obj, *args, user=user)
    assert len(j["programs"]) == 1, j
    link = j["links"][0]["id"] if attach else None
    return j["programs"][0]["id"], link


def _owner_uid(prog_id):
    p = lib.busctl("get-property", lib.BUS_NAME, f"{lib.MANAGER_PATH}/program/{prog_id}",
                   "org.bpfd.Program", "OwnerUid")
    kind, value = p.stdout.split()
    assert kind == "u", p.stdout
    return int(value)


def _gdbus_call(path, method, *args, user=None):
    return lib.run(["gdbus", "call", "--system", "--dest", lib.BUS_NAME, "--object-path", path,
                    "--method", method, *args], user=user, check=False)


def _assert_denied(p, what):
    assert p.returncode == EXIT_NOT_ALLOWED, (
        f"{what}: expected exit code {EXIT_NOT_ALLOWED} (not allowed), got {p.returncode}\n"
        f"stdout: {p.stdout}\nstderr: {p.stderr}")
    assert PERMISSION_DENIED in p.stderr, f"{what}: no {PERMISSION_DENIED} in:\n{p.stderr}"


# ---- loading ----

def test_alice_loads_tracepoint_via_fd():
    _start()
    obj = lib.world_readable_copy(TRACEPOINT_OBJ)
    j = _load(obj, "-p", "count_getpid", user=lib.ALICE)
    prog = j["programs"][0]
    alice = lib.uid_of(lib.ALICE)
    assert prog["owner_uid"] == alice, prog
    assert prog["kind"] == "tracepoint", prog
    # bpfctl passes an fd: the source says so.
    assert prog["source"].startswith("fd:"), prog
    # The bus object agrees.
    assert _owner_uid(prog["id"]) == alice
    assert prog["id"] in _program_ids()
    # And she may attach it at a tracepoint.
    p = lib.bpfctl("--json", "--no-ask-password", "attach", str(prog["id"]), "tracepoint",
                   "--tracepoint", "syscalls/sys_enter_getpid", user=lib.ALICE)
    assert p.json and p.json["owner_uid"] == alice, p.stdout
    assert p.json["id"] in _link_ids()
    lib.bpfctl("unload", str(prog["id"]), user=lib.ALICE)
    assert prog["id"] not in _program_ids()


def test_bob_may_not_load():
    _start()
    obj = lib.world_readable_copy(TRACEPOINT_OBJ)
    p = lib.bpfctl("--no-ask-password", "load", obj, "-p", "count_getpid", user=lib.BOB, check=False)
    _assert_denied(p, "bob loading a tracepoint program")
    p = lib.bpfctl("--no-ask-password", "load", "--by-path", obj, "-p", "count_getpid", user=lib.BOB,
                   check=False)
    _assert_denied(p, "bob loading a tracepoint program by path")
    assert _program_ids() == set(), "a denied load left programs behind"


def test_alice_may_not_load_uprobe():
    _start()
    obj = lib.world_readable_copy(UPROBE_OBJ)
    p = lib.bpfctl("--no-ask-password", "load", obj, "-p", "count_uprobe", user=lib.ALICE, check=False)
    _assert_denied(p, "alice loading a uprobe program")
    assert _program_ids() == set(), "a denied load left programs behind"


def test_alice_may_not_attach_tracepoint_program_as_other_kind():
    # Loading with attach in one call: the attach check sees the target kind.
    _start()
    obj = lib.world_readable_copy(UPROBE_OBJ)
    p = lib.bpfctl("--no-ask-password", "load", obj, "-p", "count_uprobe", "uprobe",
                   "--target", "/bin/true", "--fn", "main", user=lib.ALICE, check=False)
    _assert_denied(p, "alice loading and attaching a uprobe program")
    assert _program_ids() == set()
    assert _link_ids() == set()


def test_carol_may_not_load():
    # manage-others is about other users' programs, not about loading.
    _start()
    obj = lib.world_readable_copy(TRACEPOINT_OBJ)
    p = lib.bpfctl("--no-ask-password", "load", obj, "-p", "count_getpid", user=lib.CAROL, check=False)
    _assert_denied(p, "carol loading")
    assert _program_ids() == set()


# ---- unloading and detaching ----

def test_alice_may_not_unload_roots_program():
    _start()
    prog, _ = _load_tracepoint()
    assert _owner_uid(prog) == 0
    p = lib.bpfctl("--no-ask-password", "unload", str(prog), user=lib.ALICE, check=False)
    _assert_denied(p, "alice unloading root's program")
    assert prog in _program_ids(), "root's program vanished after a denied unload"
    lib.bpfctl("unload", str(prog))


def test_bob_may_not_unload_alices_program():
    _start()
    prog, link = _load_tracepoint(user=lib.ALICE, attach=True)
    p = lib.bpfctl("--no-ask-password", "unload", str(prog), user=lib.BOB, check=False)
    _assert_denied(p, "bob unloading alice's program")
    assert prog in _program_ids()
    assert link in _link_ids()
    lib.bpfctl("unload", str(prog))


def test_alice_unloads_her_own():
    _start()
    prog, link = _load_tracepoint(user=lib.ALICE, attach=True)
    lib.bpfctl("--no-ask-password", "unload", str(prog), user=lib.ALICE)
    assert prog not in _program_ids()
    assert link not in _link_ids()


def test_alice_detaches_her_own():
    _start()
    prog, link = _load_tracepoint(user=lib.ALICE, attach=True)
    lib.bpfctl("--no-ask-password", "detach", str(link), user=lib.ALICE)
    assert link not in _link_ids()
    assert prog in _program_ids(), "detach unloaded the program"
    lib.bpfctl("unload", str(prog), user=lib.ALICE)


def test_carol_unloads_alices_program():
    _start()
    prog, link = _load_tracepoint(user=lib.ALICE, attach=True)
    lib.bpfctl("--no-ask-password", "unload", str(prog), user=lib.CAROL)
    assert prog not in _program_ids()
    assert link not in _link_ids()


def test_carol_detaches_alices_link():
    _start()
    prog, link = _load_tracepoint(user=lib.ALICE, attach=True)
    lib.bpfctl("--no-ask-password", "detach", str(link), user=lib.CAROL)
    assert link not in _link_ids()
    assert prog in _program_ids()
    lib.bpfctl("unload", str(prog))


def test_bob_may_not_detach_alices_link():
    _start()
    prog, link = _load_tracepoint(user=lib.ALICE, attach=True)
    p = lib.bpfctl("--no-ask-password", "detach", str(link), user=lib.BOB, check=False)
    _assert_denied(p, "bob detaching alice's link")
    assert link in _link_ids(), "alice's link vanished after a denied detach"
    # The bus objects' own methods go through the same checks.
    # (gdbus, unlike busctl, prints the error name.)
    p = _gdbus_call(f"{lib.MANAGER_PATH}/link/{link}", "org.bpfd.Link.Detach", user=lib.BOB)
    assert p.returncode != 0 and PERMISSION_DENIED in p.stderr, (p.stdout, p.stderr)
    p = _gdbus_call(f"{lib.MANAGER_PATH}/program/{prog}", "org.bpfd.Program.Unload", user=lib.BOB)
    assert p.returncode != 0 and PERMISSION_DENIED in p.stderr, (p.stdout, p.stderr)
    assert link in _link_ids()
    assert prog in _program_ids()
    lib.bpfctl("unload", str(prog))


def test_bob_may_not_attach_alices_program():
    _start()
    prog, _ = _load_tracepoint(user=lib.ALICE)
    p = lib.bpfctl("--no-ask-password", "attach", str(prog), "tracepoint", "--tracepoint",
                   "syscalls/sys_enter_getpid", user=lib.BOB, check=False)
    _assert_denied(p, "bob attaching alice's program")
    assert _link_ids() == set()
    lib.bpfctl("unload", str(prog))


def test_group_membership_added_at_runtime():
    """polkit decides per call: a user added to group bpfd may load from then on, and not after leaving it.
    Uses its own user, so the other users' memberships never change."""
    _start()
    user = "bpfd-dave"
    if lib.run(["getent", "passwd", user], check=False).returncode != 0:
        lib.run(["useradd", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                 user])
    lib.run(["gpasswd", "-d", user, "bpfd"], check=False)
    obj = lib.world_readable_copy(TRACEPOINT_OBJ)
    args = ("--json", "--no-ask-password", "load", obj, "-p", "count_getpid")
    try:
        _assert_denied(lib.bpfctl(*args, user=user, check=False), "dave outside group bpfd")
        assert _program_ids() == set()
        lib.run(["gpasswd", "-a", user, "bpfd"])
        p = lib.bpfctl(*args, user=user)
        (prog,) = p.json["programs"]
        assert prog["owner_uid"] == lib.uid_of(user), prog
        lib.run(["gpasswd", "-d", user, "bpfd"])
        _assert_denied(lib.bpfctl(*args, user=user, check=False), "dave after leaving group bpfd")
    finally:
        lib.run(["gpasswd", "-d", user, "bpfd"], check=False)
        _unload_all()


# ---- loading by path ----

def test_by_path_needs_read_access():
    _start()
    d = tempfile.mkdtemp(prefix="private-", dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")
    os.chmod(d, 0o700)
    private = os.path.join(d, "tracepoint_counter.bpf.o")
    with open(TRACEPOINT_OBJ, "rb") as src, open(private, "wb") as out:
        out.write(src.read())
    os.chmod(private, 0o644)   # the file is readable, its directory is not searchable
    p = lib.bpfctl("--no-ask-password", "load", "--by-path", private, "-p", "count_getpid",
                   user=lib.ALICE, check=False)
    _assert_denied(p, "alice loading a file in a root-only directory")
    assert _program_ids() == set(), "bpfd read a file for a caller who could not"

    # A world-readable copy works, and the program records its path.
    public = lib.world_readable_copy(TRACEPOINT_OBJ)
    j = _load("--by-path", public, "-p", "count_getpid", user=lib.ALICE)
    prog = j["programs"][0]
    assert prog["owner_uid"] == lib.uid_of(lib.ALICE), prog
    assert prog["source"] == public, prog
    assert prog["id"] in _program_ids()
    lib.bpfctl("unload", str(prog["id"]), user=lib.ALICE)


def test_by_path_uses_callers_mount_namespace():
    _start()
    base = os.environ.get("BPFD_TEST_TMPDIR") or "/tmp"
    d = tempfile.mkdtemp(prefix="mntns-", dir=base)
    os.chmod(d, 0o755)
    path = os.path.join(d, "tracepoint_counter.bpf.o")
    # Inside a new mount namespace: a tmpfs on D with the object, then alice
    # loads it by path from there. Outside, D stays empty.
    script = (f"set -e; mount -t tmpfs -o mode=0755 tmpfs {shlex.quote(d)}; "
              f"cp {shlex.quote(TRACEPOINT_OBJ)} {shlex.quote(path)}; chmod 0644 {shlex.quote(path)}; "
              f"exec runuser -u {lib.ALICE} -- {shlex.quote(lib.BPFCTL)} --json --no-ask-password "
              f"load --by-path {shlex.quote(path)} -p count_getpid")
    p = lib.run(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script],
                cwd="/", check=False)
    assert p.returncode == 0, f"load inside the namespace failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    assert not os.path.exists(path), "the tmpfs leaked out of the private namespace"
    import json
    prog = json.loads(p.stdout)["programs"][0]
    assert prog["owner_uid"] == lib.uid_of(lib.ALICE), prog
    assert prog["source"] == path, prog
    assert prog["id"] in _program_ids()

    # The same path from the daemon's (and our) namespace names no file.
    p = lib.bpfctl("--no-ask-password", "load", "--by-path", path, "-p", "count_getpid",
                   user=lib.ALICE, check=False)
    assert p.returncode == EXIT_BAD_OBJECT, (p.returncode, p.stdout, p.stderr)
    assert FILE_NOT_FOUND in p.stderr, p.stderr
    assert _program_ids() == {prog["id"]}
    lib.bpfctl("unload", str(prog["id"]))


# ---- network hooks ----

def test_xdp_rule_allows_one_interface_only():
    """polkit/50-bpfd-xdp-one-interface.rules.example: group bpfd-net (alice) may put XDP programs on eth1
    only; the interface is in the details polkit sees."""
    _start()
    obj = lib.world_readable_copy(lib.bpf_obj("xdp_counter"))
    made = []
    for name in ("eth1", "eth2"):
        if lib.run(["ip", "link", "show", name], check=False).returncode != 0:
            lib.run(["ip", "link", "add", name, "type", "veth", "peer", "name", name + "p"])
            made.append(name)
    try:
        args = ("--json", "--no-ask-password", "load", obj, "-p", "xdp_count_a", "xdp", "--iface")
        _assert_denied(lib.bpfctl(*args, "eth2", user=lib.ALICE, check=False), "alice, XDP on eth2")
        _assert_denied(lib.bpfctl(*args, "eth1", user=lib.BOB, check=False), "bob, XDP on eth1")
        assert _program_ids() == set()
        p = lib.bpfctl(*args, "eth1", user=lib.ALICE)
        (link,) = p.json["links"]
        assert link["attach_point"].startswith("xdp eth1 ") and link["owner_uid"] == lib.uid_of(lib.ALICE), link
        # a load without a target names no interface: not allowed by this rule
        _assert_denied(lib.bpfctl("--no-ask-password", "load", obj, "-p", "xdp_count_b", user=lib.ALICE,
                                  check=False), "alice, XDP load without a target")
    finally:
        _unload_all()
        for name in made:
            lib.run(["ip", "link", "del", name], check=False)
