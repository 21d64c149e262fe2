# SPDX-License-Identifier: LGPL-2.1-or-later
"""bpfd ends its own helpers, and waits for none of them.

The inspection zygote and its spares run as bpfd-inspect (nobody where that user does not exist), the openers
as the caller: any process of that uid may stop them (SIGSTOP). bpfd used to have no CAP_KILL, so its SIGKILL
did not reach them, and it waited for a spare's answer with no time limit and in waitpid(): one stopped spare
held its request for ever. Now a thread of its own (bpfd-reaper) keeps CAP_KILL, kills and reaps them; a
spare that does not answer within BPFD_INSPECT_TIMEOUT_SEC (90 s by default; 5 here) fails its request with
org.bpfd.Error.HelperTimedOut and is killed."""

import os
import signal
import subprocess
import tempfile

import lib

TRACEPOINT_OBJ = lib.bpf_obj("tracepoint_counter")
TIMEOUT_SEC = "5"


def _status(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    except OSError:
        return None


def _spares(pid):
    """(pid, uid, gid) of the bpfd-inspect children of PID that wait for a request (no descriptor 0)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = _status(entry)
        if (st and st.get("PPid") == str(pid) and st.get("Name") == "bpfd-inspect"
                and not st["State"].startswith("Z") and not os.path.exists(f"/proc/{entry}/fd/0")):
            found.append((int(entry), int(st["Uid"].split()[0]), int(st["Gid"].split()[0])))
    return found


def _program_ids():
    return {p["id"] for p in lib.bpfctl("--json", "list").json or []}


def _load_from_path(obj):
    return lib.run(["gdbus", "call", "--system", "--timeout", "150", "--dest", lib.BUS_NAME, "--object-path",
                    lib.MANAGER_PATH, "--method", f"{lib.MANAGER_IFACE}.LoadFromPath", obj,
                    "{'programs': <['count_getpid']>}"], check=False, timeout=200)


def test_a_stopped_spare_fails_its_load_and_is_killed():
    """A spare stopped as its own uid: the load it was given fails with HelperTimedOut (it hung for ever), the
    spare is killed and reaped, nothing is loaded, and bpfd goes on serving."""
    lib.stop_daemon()
    os.environ["BPFD_INSPECT_TIMEOUT_SEC"] = TIMEOUT_SEC
    spid, before = None, None
    try:
        daemon = lib.ensure_daemon()
        before = _program_ids()
        ((spid, uid, gid),) = lib.wait_for(lambda: _spares(daemon.pid), timeout=30, what="a spare bpfd-inspect")
        lib.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "kill", "-STOP", str(spid)])
        assert _status(spid)["State"].startswith("T"), _status(spid)

        p = _load_from_path(lib.world_readable_copy(TRACEPOINT_OBJ))
        assert p.returncode != 0 and "org.bpfd.Error.HelperTimedOut" in p.stderr, (p.stdout, p.stderr)
        assert f"did not answer within {TIMEOUT_SEC} seconds" in p.stderr, p.stderr

        # Killed (bpfd has CAP_KILL for it) and reaped (not left a zombie).
        lib.wait_for(lambda: not os.path.exists(f"/proc/{spid}"), timeout=60,
                     what="the stopped spare to be killed and reaped")
        assert _program_ids() == before
        # The bus thread and the worker wait for nobody: the next load goes through.
        progs, _ = lib.load("tracepoint_counter", "-p", "count_getpid", "tracepoint", "--tracepoint",
                            "syscalls/sys_enter_getpgid")
        assert len(_program_ids() - before) == 1
        assert daemon.running
    finally:
        del os.environ["BPFD_INSPECT_TIMEOUT_SEC"]
        if spid is not None and os.path.exists(f"/proc/{spid}"):
            os.kill(spid, signal.SIGKILL)
            os.kill(spid, signal.SIGCONT)
        for i in (_program_ids() - before) if before is not None else ():
            lib.bpfctl("unload", str(i), check=False)
        lib.stop_daemon()


FUSE_SYMLINK = os.path.join(lib.TESTS_DIR, "fuse-symlink.py")


def _take_pid(pid):
    """A root process (in the test's mount namespace, of the system's user namespace) that has pid PID, which
    is free: ns_last_pid set just below it, then a fork; other processes of the machine may take it first, so
    a few tries."""
    for _ in range(200):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        p = subprocess.Popen(["sleep", "600"])
        if p.pid == pid:
            return p
        p.kill()
        p.wait()
    raise AssertionError(f"pid {pid} could not be taken again")


def test_container_pid_reused_while_its_target_is_opened():
    """alice names a uprobe target in a container (container_pid P): her own user and mount namespace, whose
    FUSE file system answers the open only once P has ended and a process of the system's namespaces has pid P.
    bpfd read /proc/P/root and then checked /proc/P/ns/mnt of another process, which passed: the target must be
    refused (the process ended), never resolved through the pid's new owner."""
    lib.ensure_daemon()
    d = tempfile.mkdtemp(prefix="ctr-", dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")
    os.chmod(d, 0o755)
    mnt = os.path.join(d, "mnt")
    os.mkdir(mnt)
    os.chmod(mnt, 0o777)
    binary = lib.world_readable_copy(lib.UPROBE_TARGET)
    os.chmod(binary, 0o755)
    obj = lib.world_readable_copy(lib.bpf_obj("uprobe_counter"))
    fuse = subprocess.Popen(["runuser", "-u", lib.ALICE, "--", "unshare", "-Urm", "python3", FUSE_SYMLINK, mnt,
                             binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd="/", start_new_session=True)
    load, reborn = None, None
    try:
        line = fuse.stdout.readline()
        assert line.startswith("mounted "), (line, fuse.stderr.read() if fuse.poll() is not None else "")
        ctr = int(line.split()[1])
        load = subprocess.Popen(["runuser", "-u", lib.ALICE, "--", lib.BPFCTL, "--no-ask-password", "load", obj,
                                 "-p", "count_uprobe", "uprobe", "--target", f"{mnt}/app", "--fn",
                                 "bpfd_test_target", "--container-pid", str(ctr)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/")
        # bpfd's opener walked /proc/P/root and waits for the FUSE server's answer about "app".
        assert fuse.stdout.readline().strip() == "lookup app"
        os.kill(ctr, signal.SIGKILL)
        lib.wait_for(lambda: not os.path.exists(f"/proc/{ctr}"), timeout=30, what="the container process to end")
        reborn = _take_pid(ctr)
        fuse.stdin.write("go\n")
        fuse.stdin.flush()
        out, err = load.communicate(timeout=120)
        assert load.returncode != 0, f"the target was resolved through pid {ctr}'s new owner:\n{out}\n{err}"
        assert "org.bpfd.Error.AttachTargetNotFound" in err and "ended while its uprobe target" in err, err
    finally:
        if load is not None and load.poll() is None:
            load.kill()
        if reborn is not None:
            reborn.kill()
            reborn.wait()
        os.killpg(fuse.pid, signal.SIGKILL)
        fuse.communicate(timeout=60)
        ids = [p["id"] for p in lib.bpfctl("--json", "list").json or [] if p.get("name") == "count_uprobe"]
        for i in ids:
            lib.bpfctl("unload", str(i), check=False)
