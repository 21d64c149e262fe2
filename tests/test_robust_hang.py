# SPDX-License-Identifier: LGPL-2.1-or-later
"""A hostile caller must not be able to hang bpfd for everybody else.

bpfd opens the files a request names (LoadFromPath's object, uprobe binaries, cgroups, network namespaces) as the
caller, in the caller's mount namespace, before polkit is asked. Any user can make a mount namespace of their own
with a FUSE file system that never answers (unshare -Urm, /dev/fuse): an open there never returns. bob, who may
do nothing at all, must get an error, and alice's and root's loads must go through meanwhile: the worker starts
the opener and goes on, the request waits for its answer on the bus thread. Asserted by order: the others are
answered while bob's call still waits (the daemon's --open-timeout is a day there)."""

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
    """bob's FUSE file system that never answers, on MNT in a user and mount namespace of his own, with COMMAND
    run in it; returns the process and the pid of one in that namespace (its /proc/PID/root reaches MNT)."""
    p = subprocess.Popen(["runuser", "-u", lib.BOB, "--", "unshare", "-Urm", "python3", FUSE_STALL, mnt, *command],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/",
                         start_new_session=True)
    line = p.stdout.readline()
    assert line.startswith("ready "), f"the FUSE server did not start: {line}{p.stderr.read()}"
    return p, int(line.split()[1])


def _release(stall):
    """Ends bob's FUSE server (and with it every open waiting in it); returns what his command printed."""
    out, err = stall.communicate(input="", timeout=120)
    assert out.startswith("done "), f"{out}\n{err}"
    return out


def _gdbus_of(uid):
    """Pids of the gdbus processes running as UID: bob's calls still waiting for their reply (one that ended is a
    zombie until fuse-stall.py waits for it)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/status") as f:
                st = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        except OSError:
            continue
        if st.get("Name") == "gdbus" and int(st.get("Uid", "-1").split()[0]) == uid and \
                not st.get("State", "").startswith("Z"):
            found.append(int(entry))
    return found


def _gdbus_load(path, options="{}"):
    return ["gdbus", "call", "--system", "--timeout", "600", "--dest", lib.BUS_NAME, "--object-path",
            lib.MANAGER_PATH, "--method", f"{lib.MANAGER_IFACE}.LoadFromPath", path, options]


def _restart_daemon(*args):
    lib.daemon.stop()
    return lib.daemon.start(list(args))


def _hang_dir():
    d = tempfile.mkdtemp(prefix="hang-", dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")
    os.chmod(d, 0o755)
    mnt = os.path.join(d, "mnt")
    os.mkdir(mnt)
    os.chmod(mnt, 0o777)
    return mnt


def _others_are_served(daemon, bob_uid, bob_pending, loaded):
    """While bob's call waits in his file system, alice's and root's loads (by path: their own openers) are
    answered: bob's call is still unanswered after both, and his opener still at work."""
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    for user in (lib.ALICE, None):
        p = lib.bpfctl("--json", "load", obj, "--by-path", "-p", "count_getpid", "tracepoint", "--tracepoint",
                       QUIET_TRACEPOINT, user=user, timeout=120)
        loaded += [prog["id"] for prog in p.json["programs"]]
        assert p.json["links"], p.json
    assert bob_pending(), "bob's call was answered before the others' (bpfd waited for his file system)"
    assert _children_of(daemon.pid, bob_uid), "bob's opener is gone while his file system still hangs"


def _no_opener_left(daemon, bob_uid):
    # The opener stuck in bob's file system ends with its server, and is reaped without another open.
    lib.wait_for(lambda: not _children_of(daemon.pid, bob_uid), timeout=60, what="bob's opener to be reaped")
    assert daemon.running


def test_a_file_system_that_never_answers_holds_nobody_else():
    """bob's LoadFromPath of a file in his FUSE file system that never answers: alice and root are answered while
    his call waits, and his call gets its error when his file system goes (its limit is not reached here)."""
    daemon = _restart_daemon("--open-timeout=86400")
    bob_uid = lib.uid_of(lib.BOB)
    mnt = _hang_dir()
    loaded = []
    stall, _ = _stall_as_bob(mnt, *_gdbus_load(f"{mnt}/counter.bpf.o"))
    try:
        # bob's request is at bpfd: its opener (bob's uid, a child of bpfd) waits on the FUSE server.
        lib.wait_for(lambda: _children_of(daemon.pid, bob_uid) or stall.poll() is not None, timeout=60,
                     what="bpfd's opener to wait in bob's file system")
        _others_are_served(daemon, bob_uid, lambda: _gdbus_of(bob_uid), loaded)

        out = _release(stall)
        assert out.startswith("done 1"), f"bob's load did not fail:\n{out}"
        assert "org.bpfd.Error.InvalidArgument" in out and "file system went away" in out, out
        _no_opener_left(daemon, bob_uid)
    finally:
        if stall.poll() is None:
            os.killpg(stall.pid, signal.SIGKILL)   # runuser, unshare, the FUSE server and its client
            stall.communicate(timeout=60)
        for i in loaded:
            lib.bpfctl("unload", str(i), check=False)
        _restart_daemon()


def test_a_target_that_never_opens_holds_nobody_else():
    """The same with attach targets: bob loads a readable object with a cgroup named through /proc/PID/root of a
    process of his own namespace, into his FUSE mount, and attaches root's program there (Attach); both are opened
    before polkit refuses him anything."""
    daemon = _restart_daemon("--open-timeout=86400")
    bob_uid = lib.uid_of(lib.BOB)
    mnt = _hang_dir()
    obj = lib.world_readable_copy(lib.bpf_obj("cgroup_counter"))
    loaded = [prog["id"] for prog in lib.bpfctl("--json", "load", obj).json["programs"]]
    stall, pid = _stall_as_bob(mnt, "true")
    calls = []
    try:
        target = f"{{'kind': <'cgroup'>, 'cgroup': <'/proc/{pid}/root{mnt}/cg'>}}"
        for call in (_gdbus_load(obj, f"{{'attach': <[{target}]>}}"),
                     ["gdbus", "call", "--system", "--timeout", "600", "--dest", lib.BUS_NAME, "--object-path",
                      lib.MANAGER_PATH, "--method", f"{lib.MANAGER_IFACE}.Attach", str(loaded[0]), target]):
            calls.append(subprocess.Popen(["runuser", "-u", lib.BOB, "--", *call], stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, text=True, cwd="/"))
        lib.wait_for(lambda: len(_children_of(daemon.pid, bob_uid)) == 2 or any(c.poll() is not None for c in calls),
                     timeout=60, what="bpfd's two openers to wait in bob's file system")
        assert all(c.poll() is None for c in calls), f"a call of bob's ended early:\n{[c.communicate() for c in calls]}"
        _others_are_served(daemon, bob_uid, lambda: all(c.poll() is None for c in calls), loaded)

        _release(stall)
        for c in calls:
            out, _ = c.communicate(timeout=120)
            assert c.returncode != 0, f"bob's call did not fail:\n{out}"
            assert "org.bpfd.Error.InvalidArgument" in out and "Cannot open cgroup" in out, out
            assert "file system went away" in out, out
        _no_opener_left(daemon, bob_uid)
    finally:
        for c in calls:
            if c.poll() is None:
                c.kill()
                c.communicate(timeout=60)
        if stall.poll() is None:
            os.killpg(stall.pid, signal.SIGKILL)
            stall.communicate(timeout=60)
        for i in loaded:
            lib.bpfctl("unload", str(i), check=False)
        _restart_daemon()


def test_an_open_past_its_limit_is_refused():
    """The limit bounds bob's own request: his call is answered with it while his file system still hangs, and
    the opener left in it (bpfd may not kill bob's uid; one the server read a request of cannot die anyway) is
    reaped once that file system goes."""
    daemon = _restart_daemon("--open-timeout=1")
    bob_uid = lib.uid_of(lib.BOB)
    mnt = _hang_dir()
    stall, _ = _stall_as_bob(mnt, *_gdbus_load(f"{mnt}/counter.bpf.o"))
    try:
        lib.wait_for(lambda: _children_of(daemon.pid, bob_uid) or stall.poll() is not None, timeout=60,
                     what="bpfd's opener to wait in bob's file system")
        # Answered while his file system still hangs (it is released only below).
        lib.wait_for(lambda: not _gdbus_of(bob_uid), timeout=120, what="bob's call to be answered")
        out = _release(stall)
        assert out.startswith("done 1"), f"bob's load did not fail:\n{out}"
        assert "org.bpfd.Error.InvalidArgument" in out and "did not open within 1 seconds" in out, out
        _no_opener_left(daemon, bob_uid)
    finally:
        if stall.poll() is None:
            os.killpg(stall.pid, signal.SIGKILL)
            stall.communicate(timeout=60)
        _restart_daemon()


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
