# SPDX-License-Identifier: LGPL-2.1-or-later
"""Names from a mount namespace of the caller's own, tried as an attacker would.

polkit sees the canonical path of what a target names, opened as the caller in the caller's mount namespace.
But any user can make a user and mount namespace of their own (unshare -Urm) and mount there whatever they can
read under any name: the root cgroup as .../trust-alice, a binary as .../trust-allowed/app. alice's rules
(tests/env/rules/40-bpfd-trust.rules) allow cgroup programs only on cgroups named trust-alice and uprobes only on
binaries in a directory named trust-allowed; such a name must not pass for the truth."""

import os
import subprocess
import tempfile

import lib


def _tmpdir():
    d = tempfile.mkdtemp(prefix="trust-mounts-", dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")
    os.chmod(d, 0o777)
    return d


def _as_alice_with_mount(source, mountpoint, method, *args):
    """gdbus call as alice from a mount namespace of her own where SOURCE is bind-mounted on MOUNTPOINT."""
    script = 'mount --bind "$1" "$2" && shift 2 && exec gdbus call --system --dest org.bpfd ' \
             '--object-path /org/bpfd/Manager --method "org.bpfd.Manager.$@"'
    return subprocess.run(["runuser", "-u", lib.ALICE, "--", "unshare", "-Urm", "sh", "-c", script, "sh", source,
                           mountpoint, method, *args], capture_output=True, text=True, cwd="/", timeout=120)


def _program_ids():
    return {p["id"] for p in lib.bpfctl("--json", "list").json or []}


def test_a_mounted_root_cgroup_is_not_trust_alice():
    lib.ensure_daemon()
    root_cgroup = os.environ.get("BPFD_TEST_CGROUP2")
    assert root_cgroup and os.path.exists(os.path.join(root_cgroup, "cgroup.procs")), "no cgroup v2 hierarchy"
    d = _tmpdir()
    fake = os.path.join(d, "trust-alice")
    os.mkdir(fake)
    os.chmod(fake, 0o777)
    obj = lib.world_readable_copy(lib.bpf_obj("cgroup_counter"))
    before = _program_ids()
    try:
        p = _as_alice_with_mount(root_cgroup, fake, "LoadFromPath", obj,
                                 f"{{'attach': <[{{'kind': <'cgroup'>, 'cgroup': <'{fake}'>}}]>}}")
        attached = lib.run(["bpftool", "cgroup", "show", root_cgroup]).stdout
        assert "count_egress" not in attached, f"alice's program runs on the root cgroup:\n{attached}\n{p.stdout}"
        assert p.returncode != 0 and "org.bpfd.Error.PermissionDenied" in p.stderr and \
            "mount namespace" in p.stderr, p.stdout + p.stderr
        assert _program_ids() == before
    finally:
        for i in _program_ids() - before:
            lib.bpfctl("unload", str(i), check=False)


def test_a_mounted_binary_is_not_trust_allowed():
    lib.ensure_daemon()
    d = _tmpdir()
    allowed = os.path.join(d, "trust-allowed")
    os.mkdir(allowed)
    os.chmod(allowed, 0o777)
    fake = os.path.join(allowed, "app")
    open(fake, "w").close()
    os.chmod(fake, 0o644)
    obj = lib.world_readable_copy(lib.bpf_obj("uprobe_counter"))
    target = lib.world_readable_copy(lib.UPROBE_TARGET)   # outside any trust-allowed directory
    before = _program_ids()
    try:
        p = _as_alice_with_mount(target, fake, "LoadFromPath", obj,
                                 f"{{'programs': <['count_uprobe']>, 'attach': <[{{'kind': <'uprobe'>, "
                                 f"'target': <'{fake}'>, 'function': <'bpfd_test_target'>}}]>}}")
        assert p.returncode != 0 and "org.bpfd.Error.PermissionDenied" in p.stderr and \
            "mount namespace" in p.stderr, f"a uprobe on {target} passed for {fake}:\n{p.stdout}{p.stderr}"
        assert _program_ids() == before
        # The same call without the mount: the binary in trust-allowed is what it says.
        lib.run(["cp", target, fake])
        p = lib.run(["gdbus", "call", "--system", "--dest", lib.BUS_NAME, "--object-path", lib.MANAGER_PATH,
                     "--method", f"{lib.MANAGER_IFACE}.LoadFromPath", obj,
                     f"{{'programs': <['count_uprobe']>, 'attach': <[{{'kind': <'uprobe'>, 'target': <'{fake}'>, "
                     f"'function': <'bpfd_test_target'>}}]>}}"], user=lib.ALICE, check=False)
        assert p.returncode == 0, p.stderr
    finally:
        for i in _program_ids() - before:
            lib.bpfctl("unload", str(i), check=False)
