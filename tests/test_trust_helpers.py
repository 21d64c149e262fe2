# SPDX-License-Identifier: LGPL-2.1-or-later
"""bpfd's unprivileged helpers as another process of their uid would attack them.

The inspection zygote and its spares (bpfd-inspect) and the image puller (bpfd-image serve) run as nobody
by default, a uid other services share. Executing them made them dumpable again: any process running as nobody
could then write their memory (/proc/PID/mem) or trace them, take over the zygote, and choose the bytes every
caller's load gets afterwards, root's included. They must not be open to that."""

import os

import lib

# As nobody: which of the pids given can be opened for writing through /proc/PID/mem.
TRY_MEM = r"""
import os, sys
for pid in sys.argv[1:]:
    try:
        os.close(os.open(f"/proc/{pid}/mem", os.O_RDWR))
        print(pid)
    except OSError:
        pass
"""


def _helpers(daemon_pid):
    """bpfd's helpers: its children (the zygote makes its spares bpfd's children too). Other bpfd instances of the
    machine are not looked at."""
    found = {}
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{entry}/status") as f:
                status = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
            uid, ppid = int(status["Uid"].split()[0]), int(status["PPid"])
        except (OSError, KeyError, ValueError):
            continue
        if ppid == daemon_pid and comm.startswith(("bpfd-zygote", "bpfd-inspect", "bpfd-image")) and uid != 0:
            found[int(entry)] = (comm, uid)
    return found


def test_helpers_are_not_open_to_their_own_uid():
    daemon = lib.ensure_daemon()
    helpers = lib.wait_for(lambda: (h := _helpers(daemon.pid)) and {c for c, _ in h.values()} >= {"bpfd-zygote", "bpfd-image"}
                           and h, timeout=30, what="the zygote, a spare and the image puller")
    for uid in {u for _, u in helpers.values()}:
        user = "nobody" if uid == 65534 else str(uid)
        p = lib.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "python3", "-c", TRY_MEM,
                     *[str(pid) for pid, (_, u) in helpers.items() if u == uid]], cwd="/")
        opened = {int(x): helpers[int(x)][0] for x in p.stdout.split()}
        assert not opened, f"as {user}, the memory of these helpers of bpfd (pid {daemon.pid}) is writable: {opened}"
