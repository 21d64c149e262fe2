# SPDX-License-Identifier: LGPL-2.1-or-later
"""The inspection helpers' zygote (issue 13), keeping issue 11's rules.

bpfd starts "bpfd-inspect --zygote" once, sandboxed, and the zygote keeps one spare bpfd-inspect forked
ahead of need (a child of bpfd), so that no load waits for a helper to be executed. What must still hold:
every process that may read a caller's bytes has no capabilities, an empty bounding set, no_new_privs, a
non-root uid and a seccomp filter; the zygote never holds an object; one caller's object is parsed by a
process of its own, which parses nothing else and is gone afterwards; a killed zygote or spare is replaced.
"""

import os
import signal
import subprocess

import lib

TRACEPOINT_OBJ = lib.bpf_obj("tracepoint_counter")

LOAD_FROM_FD = r'''
import dbus, sys
mgr = dbus.Interface(dbus.SystemBus().get_object("org.bpfd", "/org/bpfd/Manager"), "org.bpfd.Manager")
progs, links = mgr.LoadFromFd(dbus.types.UnixFd(int(sys.argv[1])),
                              dbus.Dictionary({"programs": dbus.Array(["count_getpid"], signature="s")},
                                              signature="sv"), timeout=120)
print("LOADED", len(progs))
'''


def _status(pid):
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return fields


def _children(pid, name):
    """(pid, status) of the living children of PID called NAME."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _status(entry)
            if st and st.get("PPid") == str(pid) and st.get("Name") == name and not st["State"].startswith("Z"):
                out.append((int(entry), st))
    return out


def _fds(pid):
    fds = {}
    for f in os.listdir(f"/proc/{pid}/fd"):
        try:
            fds[int(f)] = os.readlink(f"/proc/{pid}/fd/{f}")
        except FileNotFoundError:
            pass
    return fds


def _assert_sandboxed(pid, st, what):
    text = f"{what} (pid {pid}): " + ", ".join(f"{k} {v}" for k, v in st.items()
                                               if k.startswith(("Cap", "Uid", "Gid", "NoNew", "Secc")))
    assert all(int(x) != 0 for x in st["Uid"].split()), text
    assert all(int(x) != 0 for x in st["Gid"].split()), text
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[cap], 16) == 0, text
    assert st["NoNewPrivs"] == "1", text
    assert st["Seccomp"] == "2", text


def _zygote(daemon):
    (zpid, st), = lib.wait_for(lambda: _children(daemon.pid, "bpfd-zygote"), timeout=30,
                               what="bpfd's inspection zygote")
    return zpid, st


def _spares(daemon):
    """bpfd-inspect children waiting for a request: they hold no object (no descriptor 0)."""
    return [(p, st) for p, st in _children(daemon.pid, "bpfd-inspect") if 0 not in _fds(p)]


def _program_ids():
    return {p["id"] for p in lib.bpfctl("--json", "list").json or []}


def _unload_new(before):
    for i in _program_ids() - before:
        lib.bpfctl("unload", str(i), check=False)


def test_zygote_and_spare_are_sandboxed_and_hold_nothing():
    """The zygote and its spare: no capabilities, empty bounding set, no_new_privs, non-root, seccomp. The
    zygote holds its socket to bpfd, /dev/null and bpfd's log; the spare its socket and the log, nothing
    else: nothing of any caller."""
    daemon = lib.ensure_daemon()
    before = _program_ids()
    lib.load("tracepoint_counter", "-p", "count_getpid")  # the spare of the last load is the next one's
    try:
        zpid, zst = _zygote(daemon)
        _assert_sandboxed(zpid, zst, "the zygote")
        zfds = _fds(zpid)
        assert sorted(zfds) == [0, 1, 2] and zfds[0].startswith("socket:") and zfds[1] == "/dev/null", zfds
        (spid, sst), = lib.wait_for(lambda: _spares(daemon), timeout=30, what="a spare bpfd-inspect")
        _assert_sandboxed(spid, sst, "the spare")
        sfds = _fds(spid)
        assert sorted(sfds) == [1, 2] and sfds[1].startswith("socket:"), sfds
    finally:
        _unload_new(before)


def test_each_object_is_parsed_by_a_process_of_its_own():
    """Two loads at once, each from a pipe the test holds open: each object is read by a bpfd-inspect of its
    own, which holds only its own pipe (not the other caller's, and the zygote and the spare hold neither);
    both loads complete, and both helpers are gone afterwards."""
    daemon = lib.ensure_daemon()
    before = _program_ids()
    pipes = [os.pipe() for _ in range(2)]
    calls = []
    for r, _ in pipes:
        calls.append(subprocess.Popen(["/usr/bin/python3", "-c", LOAD_FROM_FD, str(r)], pass_fds=(r,), cwd="/",
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        os.close(r)
    writers = [w for _, w in pipes]
    names = [f"pipe:[{os.fstat(w).st_ino}]" for w in writers]
    try:
        def helper_of(name):
            found = [p for p, _ in _children(daemon.pid, "bpfd-inspect") if _fds(p).get(0) == name]
            return found[0] if len(found) == 1 else None

        helpers = lib.wait_for(lambda: all(helper_of(n) for n in names) and [helper_of(n) for n in names],
                               timeout=60, what="a bpfd-inspect for each pipe")
        assert helpers[0] != helpers[1], helpers
        for pid, mine, other in ((helpers[0], names[0], names[1]), (helpers[1], names[1], names[0])):
            held = set(_fds(pid).values())
            assert mine in held and other not in held, (pid, _fds(pid))
        zpid, _ = _zygote(daemon)
        for pid in [zpid] + [p for p, _ in _spares(daemon)]:
            assert not set(names) & set(_fds(pid).values()), (pid, _fds(pid))
        with open(TRACEPOINT_OBJ, "rb") as f:
            data = f.read()
        for i, w in enumerate(writers):
            os.write(w, data)
            os.close(w)
            writers[i] = None
        for call in calls:
            out, err = call.communicate(timeout=60)
            assert call.returncode == 0, err
            assert out.startswith("LOADED 1"), out
        # reaped by bpfd, not left as zombies; and never used again
        lib.wait_for(lambda: not any(os.path.exists(f"/proc/{p}") for p in helpers), timeout=30,
                     what="the two helpers to be gone")
    finally:
        for w in writers:
            if w is not None:
                os.close(w)
        for call in calls:
            if call.poll() is None:
                call.kill()
        _unload_new(before)


def test_killed_zygote_and_spare_are_replaced():
    """A zygote killed with SIGKILL is reaped and replaced at the next load, which works; so is a killed
    spare."""
    daemon = lib.ensure_daemon()
    before = _program_ids()
    try:
        zpid, _ = _zygote(daemon)
        os.kill(zpid, signal.SIGKILL)
        lib.load("tracepoint_counter", "-p", "count_getpid")
        new_zpid, st = _zygote(daemon)
        assert new_zpid != zpid
        _assert_sandboxed(new_zpid, st, "the new zygote")
        lib.wait_for(lambda: not os.path.exists(f"/proc/{zpid}"), timeout=30, what="the old zygote to be reaped")

        (spid, _), = lib.wait_for(lambda: _spares(daemon), timeout=30, what="a spare bpfd-inspect")
        os.kill(spid, signal.SIGKILL)
        lib.load("tracepoint_counter", "-p", "count_getppid")
        lib.wait_for(lambda: not os.path.exists(f"/proc/{spid}"), timeout=30, what="the killed spare to be reaped")
        assert len(_program_ids() - before) == 2
    finally:
        _unload_new(before)
