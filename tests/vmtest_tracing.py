# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tracing hooks this machine's kernel lacks, run in the VM (tests/vm/run) on Debian's kernel: kprobe,
kretprobe, fentry and fexit load, attach, fire, survive a daemon restart and unload through bpfd."""

import os
import time

import lib
from lib import counter_pin, kernel_progs, load, unload, wait_prog_gone

KPROBE_OBJ = "kprobe_counter"
FENTRY_OBJ = "fentry_counter"


def nanosleeps(n):
    """n calls of clock_nanosleep(2), which reach do_nanosleep() in the kernel."""
    for _ in range(n):
        time.sleep(0.0001)


def assert_counts_rise(pin, keys, n):
    """After n nanosleeps, each counter at keys rose by at least n."""
    before = [lib.counter(pin, k) for k in keys]
    nanosleeps(n)
    after = [lib.counter(pin, k) for k in keys]
    assert all(a - b >= n for a, b in zip(after, before)), (keys, before, after)


def error_of(p):
    assert p.returncode != 0, p.stdout
    for line in p.stderr.splitlines():
        if line.startswith("(org.bpfd.Error."):
            return line.strip("()").rsplit(".", 1)[1]
    raise AssertionError(f"no org.bpfd error in: {p.stderr}")


def test_kernel_has_what_the_host_lacks():
    lib.ensure_daemon()
    supported = lib.bpfctl("--json", "status").json["SupportedKinds"]
    for kind in ("kprobe", "kretprobe", "fentry", "fexit", "tracepoint", "uprobe", "cgroup"):
        assert kind in supported, supported


def test_kprobe_and_kretprobe_fire():
    progs, links = load(KPROBE_OBJ, "-p", "count_kprobe", "-p", "count_kretprobe",
                        "kprobe", "--attach-program", "count_kprobe")
    ids = [p["id"] for p in progs]
    try:
        by_name = {p["name"]: p for p in progs}
        assert links[0]["attach_point"] == "kprobe do_nanosleep", links[0]
        link = lib.bpfctl("--json", "attach", str(by_name["count_kretprobe"]["id"]), "kretprobe",
                          "--fn", "do_nanosleep").json
        assert link["kind"] == "kretprobe", link
        assert_counts_rise(counter_pin(progs[0]), (0, 1), 50)
    finally:
        unload(*ids)
    for i in ids:
        wait_prog_gone(i)


def test_kprobe_unknown_function():
    progs, _ = load(KPROBE_OBJ, "-p", "count_kprobe")
    try:
        p = lib.bpfctl("attach", str(progs[0]["id"]), "kprobe", "--fn", "bpfd_no_such_function", check=False)
        assert error_of(p) == "AttachTargetNotFound", p.stderr
        assert lib.bpfctl("--json", "list", "links").json == []
    finally:
        unload(progs[0]["id"])


def test_fentry_and_fexit_fire():
    progs, links = load(FENTRY_OBJ, "-p", "count_fentry", "-p", "count_fexit", "fentry",
                        "--attach-program", "count_fentry")
    ids = [p["id"] for p in progs]
    try:
        by_name = {p["name"]: p for p in progs}
        assert links[0]["attach_point"] == "fentry do_nanosleep", links[0]
        lib.bpfctl("attach", str(by_name["count_fexit"]["id"]), "fexit")
        assert_counts_rise(counter_pin(progs[0]), (0, 1), 50)
    finally:
        unload(*ids)


def test_fentry_bound_at_load():
    """A SEC("fentry") program names no function: the load binds it, BTF-checked, and attach follows it."""
    lib.ensure_daemon()
    p = lib.bpfctl("load", lib.bpf_obj(FENTRY_OBJ), "-p", "count_fentry_any", check=False)
    assert error_of(p) == "InvalidArgument" and "function" in p.stderr, p.stderr
    p = lib.bpfctl("load", lib.bpf_obj(FENTRY_OBJ), "-p", "count_fentry_any", "fentry", "--fn",
                   "bpfd_no_such_function", check=False)
    assert error_of(p) == "AttachTargetNotFound" and "BTF" in p.stderr, p.stderr
    assert lib.bpfctl("--json", "list").json == []
    progs, links = load(FENTRY_OBJ, "-p", "count_fentry_any", "fentry", "--fn", "do_nanosleep")
    try:
        pin = counter_pin(progs[0])
        assert_counts_rise(pin, (2,), 20)
        lib.bpfctl("detach", str(links[0]["id"]))
        p = lib.bpfctl("attach", str(progs[0]["id"]), "fentry", "--fn", "do_sys_open", check=False)
        assert error_of(p) == "InvalidArgument" and "do_nanosleep" in p.stderr, p.stderr
        lib.bpfctl("attach", str(progs[0]["id"]), "fentry")
        assert_counts_rise(pin, (2,), 20)
    finally:
        unload(progs[0]["id"])


def test_tracing_programs_survive_restart():
    progs_k, _ = load(KPROBE_OBJ, "-p", "count_kprobe", "kprobe")
    progs_f, _ = load(FENTRY_OBJ, "-p", "count_fexit", "fexit")
    ids = [progs_k[0]["id"], progs_f[0]["id"]]
    try:
        listing = lib.bpfctl("--json", "list").json
        links = lib.bpfctl("--json", "list", "links").json
        lib.daemon.kill()
        pin_k, pin_f = counter_pin(progs_k[0]), counter_pin(progs_f[0])
        before = (lib.counter(pin_k, 0), lib.counter(pin_f, 1))
        nanosleeps(30)
        after = (lib.counter(pin_k, 0), lib.counter(pin_f, 1))
        assert after[0] - before[0] >= 30 and after[1] - before[1] >= 30, "programs stopped with the daemon"
        lib.daemon.start()
        assert lib.bpfctl("--json", "list").json == listing
        assert lib.bpfctl("--json", "list", "links").json == links
        assert set(ids) <= set(kernel_progs())
    finally:
        lib.ensure_daemon()
        unload(*ids)
    for i in ids:
        wait_prog_gone(i)


def test_polkit_sees_the_kind():
    """polkit rules read the kind: the test rules let group bpfd load tracepoint programs, not kprobes."""
    lib.ensure_daemon()
    obj = lib.world_readable_copy(lib.bpf_obj(KPROBE_OBJ))
    p = lib.bpfctl("--no-ask-password", "load", obj, "-p", "count_kprobe", "kprobe", user=lib.ALICE, check=False)
    assert error_of(p) == "PermissionDenied", p.stderr
    assert lib.bpfctl("--json", "list").json == []
