# SPDX-License-Identifier: LGPL-2.1-or-later
"""Specs and bpfd's own descriptors, and the spec directory on reload: an apply (applied or failed) closes
only descriptors it owns. Before the fix, every spec load request freed closed descriptor 0 twice, whatever
it was by then: bpfd's stdin first, then another thread's socket or directory (an "opened as the caller"
that failed with an I/O error, an interface scan with a bad descriptor), so a SIGHUP's spec failed at
random."""

import os

import lib
from test_spec import TP_OBJ, apply, counters_spec, remove_spec, restart_with, spec_props, tmpdir, write_spec


def same_file(a, b):
    sa, sb = os.stat(a), os.stat(b)
    return (sa.st_dev, sa.st_ino, sa.st_rdev) == (sb.st_dev, sb.st_ino, sb.st_rdev)


def stdin_of(pid):
    """What descriptor 0 of PID is (readlink), or None if it is closed."""
    try:
        return os.readlink(f"/proc/{pid}/fd/0")
    except FileNotFoundError:
        return None


def test_spec_applies_close_only_their_own_descriptors():
    """bpfd is started with /dev/null as its stdin (lib.Daemon does, as systemd does); after specs were
    applied, failed and removed, descriptor 0 is still that /dev/null: no apply closed it (nor, then,
    whatever took its number next, on any thread)."""
    restart_with()
    pid = lib.daemon.pid
    assert same_file(f"/proc/{pid}/fd/0", "/dev/null"), stdin_of(pid)
    d = tmpdir()
    try:
        applied = apply(write_spec(d, "fdgood", counters_spec())).json
        assert applied["Status"] == "Applied" and len(applied["Programs"]) == 2, applied
        # Fails after its object was opened and inspected (no such program) ...
        p = apply(write_spec(d, "fdbroken", f"[Object o]\nPath={TP_OBJ}\nPrograms=no_such_program\n"), check=False)
        assert p.returncode != 0 and "no_such_program" in p.stderr, p.stderr
        # ... and before: an object that cannot be opened.
        p = apply(write_spec(d, "fdmissing", f"[Object o]\nPath={d}/missing.bpf.o\n"), check=False)
        assert p.returncode != 0 and "missing.bpf.o" in p.stderr, p.stderr
        lib.bpfctl("remove-spec", "fdgood")
        assert spec_props("fdgood") is None
        for prog in applied["Programs"]:
            lib.wait_prog_gone(prog)
        assert lib.daemon.running
        assert os.path.exists(f"/proc/{pid}/fd/0"), "bpfd closed its stdin (descriptor 0)"
        assert same_file(f"/proc/{pid}/fd/0", "/dev/null"), f"descriptor 0 of bpfd is now {stdin_of(pid)}"
    finally:
        for n in ("fdgood", "fdbroken", "fdmissing"):
            remove_spec(n)
