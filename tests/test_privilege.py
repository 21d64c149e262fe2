# SPDX-License-Identifier: LGPL-2.1-or-later
"""Privilege separation inside bpfd: only the worker thread keeps capabilities.

The bus thread (which parses every caller's input) and any other thread run
with no effective or permitted capabilities; the main thread cannot even
regain any (empty bounding set). The worker thread, named bpfd-worker, keeps
what it needs, CAP_BPF among it.
"""

import glob
import os

import lib

CAP_BPF = 39
CAP_KILL = 5


def _status(task_dir):
    fields = {}
    try:
        with open(os.path.join(task_dir, "status")) as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
    except FileNotFoundError:
        return None   # the thread ended meanwhile
    return fields


def _threads(pid):
    """{tid: status fields} of every thread of PID."""
    threads = {}
    for task in glob.glob(f"/proc/{pid}/task/*"):
        st = _status(task)
        if st is not None:
            threads[int(os.path.basename(task))] = st
    assert threads, f"no threads found for pid {pid}"
    return threads


def _describe(threads):
    return "\n".join(f"  tid {tid} {st.get('Name')}: CapEff={st.get('CapEff')} CapPrm={st.get('CapPrm')} "
                     f"CapBnd={st.get('CapBnd')} CapAmb={st.get('CapAmb')}"
                     for tid, st in sorted(threads.items()))


def _daemon_pid():
    lib.ensure_daemon()
    pid = lib.name_owner_pid(lib.BUS_NAME)
    assert pid is not None, "org.bpfd has no owner"
    return pid


def _check_threads(pid):
    threads = _threads(pid)
    text = _describe(threads)
    # The helper reaper (bpfd-reaper) keeps CAP_KILL and nothing else, not even in its bounding set: it ends
    # bpfd's helpers, which run as other users.
    reapers = [tid for tid, st in threads.items() if st["Name"] == "bpfd-reaper"]
    assert len(reapers) == 1, f"expected one bpfd-reaper thread:\n{text}"
    reaper = threads.pop(reapers[0])
    for field in ("CapEff", "CapPrm", "CapBnd"):
        assert int(reaper[field], 16) == 1 << CAP_KILL, f"the reaper's {field} is not CAP_KILL alone:\n{text}"
    assert int(reaper["CapAmb"], 16) == 0 and int(reaper["CapInh"], 16) == 0, f"the reaper inherits:\n{text}"
    privileged = {tid: st for tid, st in threads.items() if int(st["CapEff"], 16) != 0}
    assert len(privileged) == 1, f"expected exactly one thread with capabilities:\n{text}"
    (wtid, worker), = privileged.items()
    assert worker["Name"] == "bpfd-worker", f"the privileged thread is not the worker:\n{text}"
    assert wtid != pid, f"the main thread holds capabilities:\n{text}"
    eff = int(worker["CapEff"], 16)
    assert eff & (1 << CAP_BPF), f"the worker lacks CAP_BPF:\n{text}"
    assert int(worker["CapAmb"], 16) == 0, f"the worker has ambient capabilities:\n{text}"
    for tid, st in threads.items():
        if tid == wtid:
            continue
        assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0, \
            f"thread {tid} ({st['Name']}) has capabilities:\n{text}"
        assert int(st["CapAmb"], 16) == 0 and int(st["CapInh"], 16) == 0, \
            f"thread {tid} ({st['Name']}) has inheritable/ambient capabilities:\n{text}"
    assert int(threads[pid]["CapBnd"], 16) == 0, f"the main thread's bounding set is not empty:\n{text}"
    return threads


def test_only_worker_has_capabilities_idle():
    _check_threads(_daemon_pid())


def test_only_worker_has_capabilities_after_work():
    pid = _daemon_pid()
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    # Work by root and by an unprivileged user (polkit and the opener child
    # involved), then check with programs and links held.
    p = lib.bpfctl("--json", "load", obj, "-p", "count_getpid", "tracepoint",
                   "--tracepoint", "syscalls/sys_enter_getpid")
    root_prog = p.json["programs"][0]["id"]
    p = lib.bpfctl("--json", "--no-ask-password", "load", "--by-path", obj, "-p", "count_getppid",
                   "tracepoint", "--tracepoint", "syscalls/sys_enter_getppid", user=lib.ALICE)
    alice_prog = p.json["programs"][0]["id"]
    lib.bpfctl("list", "--all")
    try:
        threads = _check_threads(pid)
        # Still the same process: the daemon did not restart or re-exec.
        assert lib.name_owner_pid(lib.BUS_NAME) == pid
        assert pid in threads
    finally:
        lib.bpfctl("unload", str(root_prog), str(alice_prog))
    _check_threads(pid)
