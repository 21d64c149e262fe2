# SPDX-License-Identifier: LGPL-2.1-or-later
"""Many requests at once from a user who may do nothing.

Before polkit is asked, a load's object is read by a bpfd-inspect process of its own (up to 60 s for a descriptor
that never ends), and the request holds a few descriptors in bpfd. Anybody may ask, so one user's requests in
flight are bounded (64): the next get org.bpfd.Error.LimitExceeded at once, nothing done, and other users are
served as before."""

import json
import os
import subprocess

import lib

LIMIT = 64
EXTRA = 8

# As bob: LIMIT + EXTRA loads at once, each from a pipe whose writer stays open (so each waits in its
# inspection); prints the answers that came while all were open, then, after standard input ends and the
# writers are closed, all of them.
FLOOD = r"""
import dbus, json, os, sys, threading, time
n, early = int(sys.argv[1]), int(sys.argv[2])
writers, answers, lock = [], [], threading.Lock()
def one():
    bus = dbus.SystemBus(private=True)
    mgr = dbus.Interface(bus.get_object("org.bpfd", "/org/bpfd/Manager"), "org.bpfd.Manager")
    r, w = os.pipe()
    with lock:
        writers.append(w)
    try:
        mgr.LoadFromFd(dbus.types.UnixFd(r), {}, timeout=300)
        name = "ok"
    except dbus.exceptions.DBusException as e:
        name = e.get_dbus_name()
    os.close(r)
    with lock:
        answers.append(name)
threads = [threading.Thread(target=one) for _ in range(n)]
for t in threads:
    t.start()
deadline = time.monotonic() + 50    # the inspections' own limit is 60 s
while time.monotonic() < deadline and len(answers) < early:
    time.sleep(0.1)
with lock:
    print(json.dumps(sorted(answers)), flush=True)
sys.stdin.read()
for w in writers:
    os.close(w)
for t in threads:
    t.join()
print(json.dumps(sorted(answers)), flush=True)
"""


def _inspections(daemon_pid):
    """bpfd-inspect processes at work (children of bpfd, the zygote's spares included)."""
    n = 0
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == daemon_pid and comm.startswith("bpfd-inspect"):
            n += 1
    return n


def test_one_users_flood_is_bounded_and_others_are_served():
    daemon = lib.ensure_daemon()
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    flood = subprocess.Popen(["runuser", "-u", lib.BOB, "--", "python3", "-c", FLOOD, str(LIMIT + EXTRA), str(EXTRA)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd="/")
    loaded = []
    try:
        early = json.loads(flood.stdout.readline() or "null")
        assert early == ["org.bpfd.Error.LimitExceeded"] * EXTRA, \
            f"bob's {LIMIT + EXTRA} requests at once: the first answers were {early}, not {EXTRA} LimitExceeded"
        assert _inspections(daemon.pid) <= LIMIT + 3, "more inspections at work than bob's bound"
        # alice is served meanwhile, under a count of her own.
        p = lib.bpfctl("--json", "load", obj, "-p", "count_getpid", "tracepoint", user=lib.ALICE, timeout=120)
        loaded = [prog["id"] for prog in p.json["programs"]]
        out, err = flood.communicate(input="", timeout=180)
        final = json.loads(out.splitlines()[-1])
        assert final.count("org.bpfd.Error.LimitExceeded") == EXTRA and \
            final.count("org.bpfd.Error.InvalidObject") == LIMIT, final
        # All answered: bob's count is back to 0, so his next call is not refused for the limit.
        p = lib.run(["gdbus", "call", "--system", "--dest", lib.BUS_NAME, "--object-path", lib.MANAGER_PATH,
                     "--method", f"{lib.MANAGER_IFACE}.Unload", "4294967295"], user=lib.BOB, check=False)
        assert "ProgramNotFound" in p.stderr, p.stderr
    finally:
        if flood.poll() is None:
            flood.kill()
            flood.communicate()
        for i in loaded:
            lib.bpfctl("unload", str(i), check=False)
