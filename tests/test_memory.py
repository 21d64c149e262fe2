# SPDX-License-Identifier: LGPL-2.1-or-later
"""Memory that bulk unloads free can go back to the system (issue 13; the figures are bench/run's).

GLib 2.74's slice allocator and glibc's per-thread malloc caches keep freed memory where malloc_trim()
cannot reach it. Both read their settings before main(), so bpfd must run with them in its environment
from the start: bpfd.service sets them, and bpfd started without them executes itself once more with them.
"""

import os

import lib


def _environ(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        return dict(e.split(b"=", 1) for e in f.read().split(b"\0") if b"=" in e)


def test_bpfd_runs_without_the_caches_that_keep_freed_memory():
    """The tests start bpfd without G_SLICE or GLIBC_TUNABLES: the process that runs has both, in the
    environment it started with (what GLib and glibc read before main())."""
    daemon = lib.ensure_daemon()
    env = _environ(daemon.pid)
    assert env.get(b"G_SLICE") == b"always-malloc", env.get(b"G_SLICE")
    assert b"glibc.malloc.tcache_count=0" in env.get(b"GLIBC_TUNABLES", b""), env.get(b"GLIBC_TUNABLES")
    # executed again as itself: by its path, so it is still called bpfd (not "exe")
    with open(f"/proc/{daemon.pid}/comm") as f:
        assert f.read().strip() == "bpfd"
    assert os.readlink(f"/proc/{daemon.pid}/exe") == os.path.realpath(lib.BPFD)
    # and it works
    progs, _ = lib.load("tracepoint_counter", "-p", "count_getpid")
    lib.unload(*[p["id"] for p in progs])


def test_unit_sets_them():
    """bpfd.service sets both, so that the service needs no second exec."""
    with open(os.path.join(lib.SRC_DIR, "dbus", "bpfd.service.in")) as f:
        unit = f.read()
    assert "G_SLICE=always-malloc" in unit
    assert "GLIBC_TUNABLES=glibc.malloc.tcache_count=0" in unit
