# SPDX-License-Identifier: LGPL-2.1-or-later
"""A hostile caller must not be able to hang bpfd for everybody else.

bpfd opens the files a request names (LoadFromPath's object, uprobe binaries, cgroups, network namespaces) as the
caller, in the caller's mount namespace, before polkit is asked. Any user can make a mount namespace of their own
with a FUSE file system that never answers (unshare -Urm, /dev/fuse): an open there never returns. bob, who may
do nothing at all, must get an error, and alice's load must go through meanwhile."""

import os
import signal
import subprocess
import tempfile

import lib

FUSE_STALL = os.path.join(lib.TESTS_DIR, "fuse-stall.py")
QUIET_TRACEPOINT = "syscalls/sys_enter_getpgid"


def _children_of(pid, uid):
    """Pids of the children of process PID running as UID (bpfd's openers act as the caller), with their state."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                st = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        except OSError:
            continue
        if int(st.get("PPid", 0)) == pid and int(st.get("Uid", "-1").split()[0]) == uid:
            found[int(entry)] = st.get("State", "")
    return found


def _stall_as_bob(mnt, *command):
    return subprocess.Popen(["runuser", "-u", lib.BOB, "--", "unshare", "-Urm", "python3", FUSE_STALL, mnt, *command],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/",
                            start_new_session=True)


def test_a_file_system_that_never_answers_holds_nobody_else():
    daemon = lib.ensure_daemon()
    bob_uid = lib.uid_of(lib.BOB)
    d = tempfile.mkdtemp(prefix="hang-", dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")
    os.chmod(d, 0o755)
    mnt = os.path.join(d, "mnt")
    os.mkdir(mnt)
    os.chmod(mnt, 0o777)
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    loaded = []
    bob = _stall_as_bob(mnt, "gdbus", "call", "--system", "--timeout", "300", "--dest", lib.BUS_NAME,
                        "--object-path", lib.MANAGER_PATH, "--method", f"{lib.MANAGER_IFACE}.LoadFromPath",
                        f"{mnt}/counter.bpf.o", "{}")
    try:
        # bob's request is at bpfd: its opener (bob's uid, a child of bpfd) waits on the FUSE server.
        lib.wait_for(lambda: _children_of(daemon.pid, bob_uid) or bob.poll() is not None, timeout=60,
                     what="bpfd's opener to wait in bob's file system")
        assert bob.poll() is None, f"bob's call ended early:\n{bob.communicate()}"

        # The worker serves alice meanwhile (before the fix it waited for bob's open for ever).
        p = lib.bpfctl("--json", "load", obj, "-p", "count_getpid", "tracepoint", "--tracepoint", QUIET_TRACEPOINT,
                       user=lib.ALICE, timeout=120)
        loaded = [prog["id"] for prog in p.json["programs"]]
        assert loaded and p.json["links"]

        out, err = bob.communicate(input="", timeout=120)   # ends bob's FUSE server
        assert out.startswith("done 1"), f"bob's load did not fail:\n{out}\n{err}"
        assert "org.bpfd.Error.InvalidArgument" in out and "did not open within" in out, out

        # The opener stuck in bob's file system ends with the server, and is reaped by the next open.
        lib.wait_for(lambda: all(s.startswith("Z") for s in _children_of(daemon.pid, bob_uid).values()),
                     timeout=60, what="bob's opener to end")
        p = lib.bpfctl("--json", "load", obj, "--by-path", "-p", "count_getpid", "tracepoint", "--tracepoint",
                       QUIET_TRACEPOINT, user=lib.ALICE, timeout=120)
        loaded += [prog["id"] for prog in p.json["programs"]]
        assert _children_of(daemon.pid, bob_uid) == {}, "an opener of bob's was left unreaped"
        assert daemon.running
    finally:
        if bob.poll() is None:
            os.killpg(bob.pid, signal.SIGKILL)   # runuser, unshare, the FUSE server and its client
            bob.communicate(timeout=60)
        for i in loaded:
            lib.bpfctl("unload", str(i), check=False)


def _zygotes_of(pid):
    """(pid, uid, gid) of each bpfd-zygote child of process PID."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/status") as f:
                st = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        except OSError:
            continue
        if int(st.get("PPid", 0)) == pid and st.get("Name") == "bpfd-zygote":
            found.append((int(entry), int(st["Uid"].split()[0]), int(st["Gid"].split()[0])))
    return found


def test_a_stopped_zygote_holds_nobody_else():
    """Any process of the helpers' uid (nobody by default, which other services share) may stop the inspection
    zygote. bpfd must not wait for it (the worker did, for ever), but start another, go on, and end the stopped
    one (its SIGKILL did not reach it before it had CAP_KILL)."""
    daemon = lib.ensure_daemon()
    ((zpid, uid, gid),) = lib.wait_for(lambda: _zygotes_of(daemon.pid), timeout=30, what="the inspection zygote")
    lib.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "kill", "-STOP", str(zpid)])
    loaded = []
    try:
        for program in ("count_getpid", "count_getppid", "count_getpid"):
            p = lib.bpfctl("--json", "load", lib.bpf_obj("tracepoint_counter"), "-p", program, "tracepoint",
                           "--tracepoint", QUIET_TRACEPOINT, timeout=120)
            loaded += [prog["id"] for prog in p.json["programs"]]
        assert [z for z, _, _ in _zygotes_of(daemon.pid) if z != zpid], "bpfd did not start another zygote"
        # ... and ended the stopped one (CAP_KILL, the reaper thread), which stayed stopped for ever before.
        lib.wait_for(lambda: not os.path.exists(f"/proc/{zpid}"), timeout=60,
                     what="the stopped zygote to be killed and reaped")
        assert daemon.running
    finally:
        if os.path.exists(f"/proc/{zpid}"):
            os.kill(zpid, signal.SIGKILL)
            os.kill(zpid, signal.SIGCONT)
        for i in loaded:
            lib.bpfctl("unload", str(i), check=False)
