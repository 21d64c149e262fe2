# SPDX-License-Identifier: LGPL-2.1-or-later
"""Unload and Detach answer only once the kernel has let go of the hook. A tracepoint runs at most 64
programs; the kernel frees an unpinned link some time later (an RCU grace period, then a work item), so an
answer sent at unpinning let an attach right after fail with E2BIG although the caller held fewer than 64.
Here the tracepoint is filled, and 200 times one program is unloaded (or detached) and another attached at
once, each call right after the answer to the one before: every attach must succeed."""

import os
import re
import subprocess

import lib

# A tracepoint no other test uses (other tests may run on this kernel at the same time).
TP = "syscalls/sys_enter_setdomainname"
CYCLES = 200
TARGET = "{'kind': <'tracepoint'>, 'tracepoint': <'%s'>}" % TP


class CallFailed(Exception):
    pass


def call(method, *args):
    p = subprocess.run(["gdbus", "call", "--system", "--timeout", "60", "--dest", lib.BUS_NAME, "--object-path",
                        lib.MANAGER_PATH, "--method", f"{lib.MANAGER_IFACE}.{method}", *args],
                       capture_output=True, text=True, timeout=90)
    if p.returncode != 0:
        raise CallFailed(p.stderr.strip())
    return p.stdout


def ids(out, kind):
    return [int(i) for i in re.findall(rf"/{kind}/(\d+)", out)]


class Bpfd:
    def __init__(self):
        lib.ensure_daemon()
        self.path = lib.bpf_obj("tracepoint_counter")

    def load_attached(self):
        """Loads count_getpid attached to TP; returns its program id."""
        out = call("LoadFromPath", self.path, "{'programs': <['count_getpid']>, 'attach': <[%s]>}" % TARGET)
        return ids(out, "program")[0]

    def load(self):
        return ids(call("LoadFromPath", self.path, "{'programs': <['count_getpid']>}"), "program")[0]

    def attach(self, prog):
        return ids(call("Attach", f"uint32 {prog}", TARGET), "link")[0]

    def unload(self, prog):
        call("Unload", f"uint32 {prog}")

    def detach(self, link):
        call("Detach", f"uint32 {link}")


def fill(b):
    """Attached programs until the tracepoint is full; returns their program ids."""
    held = []
    while True:
        try:
            held.append(b.load_attached())
        except CallFailed as e:
            assert "Argument list too long" in str(e), e
            return held
        assert len(held) <= 64, "more than 64 programs on one tracepoint"


def test_attach_right_after_unload_finds_the_place_free():
    assert os.path.exists(f"/sys/kernel/tracing/events/{TP}/id"), TP
    b = Bpfd()
    held = []
    try:
        held = fill(b)
        assert held, "no program fits on the tracepoint"
        for i in range(CYCLES):
            b.unload(held.pop(0))
            try:
                held.append(b.load_attached())
            except CallFailed as e:
                raise AssertionError(f"cycle {i}: the attach right after an Unload failed: {e}")
    finally:
        lib.unload(*held)


def test_attach_right_after_detach_finds_the_place_free():
    b = Bpfd()
    held, spare = [], None
    try:
        held = fill(b)
        spare = b.load()
        by_prog = {link["program_id"]: link["id"] for link in lib.bpfctl("--json", "list", "links").json}
        free_prog, free_link = held[0], by_prog[held[0]]
        for i in range(CYCLES):
            b.detach(free_link)
            try:
                new_link = b.attach(spare)
            except CallFailed as e:
                raise AssertionError(f"cycle {i}: the attach right after a Detach failed: {e}")
            # swap roles: the spare is attached now, the detached program is the next spare
            spare, free_prog, free_link = free_prog, spare, new_link
    finally:
        lib.unload(*held, *([spare] if spare else []))
