# SPDX-License-Identifier: LGPL-2.1-or-later
"""bpfd ends its own helpers, and waits for none of them.

The inspection zygote and its spares run as bpfd-inspect (nobody where that user does not exist), the openers
as the caller: any process of that uid may stop them (SIGSTOP). bpfd used to have no CAP_KILL, so its SIGKILL
did not reach them, and it waited for a spare's answer with no time limit and in waitpid(): one stopped spare
held its request for ever. Now a thread of its own (bpfd-reaper) keeps CAP_KILL, kills and reaps them; a
spare that does not answer within BPFD_INSPECT_TIMEOUT_SEC (90 s by default; 3 here) fails its request with
org.bpfd.Error.HelperTimedOut and is killed."""

import os
import signal

import lib

TRACEPOINT_OBJ = lib.bpf_obj("tracepoint_counter")
TIMEOUT_SEC = "3"


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
