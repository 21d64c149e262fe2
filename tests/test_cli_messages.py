# SPDX-License-Identifier: LGPL-2.1-or-later
"""bpfctl speaks its own language: bpfd's bus option keys are named as bpfctl's options,
a missing bpfd is said plainly with what to do, every command that changes something
confirms it in one line (none with -q/--quiet), and the kernel's bare EEXIST and E2BIG
come with words on what they mean."""

import os
import tempfile

import lib

TRACEPOINT = lib.bpf_obj("tracepoint_counter")
HASH = lib.bpf_obj("hash_map")


def loaded_ids():
    return {p["id"] for p in lib.bpfctl("--json", "list").json or []}


def link_ids():
    return {link["id"] for link in lib.bpfctl("--json", "list", "links").json or []}


def test_bpfd_not_running_says_how_to_start_it():
    lib.stop_daemon()
    p = lib.bpfctl("status", check=False)
    assert p.returncode == 10, (p.returncode, p.stderr)
    assert p.stderr.startswith("bpfctl: bpfd is not running"), p.stderr
    assert "systemctl start bpfd" in p.stderr and "meson install" in p.stderr, p.stderr
    # the bus's own words are gone, its error name stays for scripts
    assert ".service files" not in p.stderr, p.stderr
    assert "(org.freedesktop.DBus.Error.ServiceUnknown)" in p.stderr, p.stderr
    assert p.stdout == ""


def test_bus_keys_are_named_as_options():
    lib.ensure_daemon()
    before = loaded_ids()
    p = lib.bpfctl("load", TRACEPOINT, check=False)
    assert p.returncode == 9, (p.returncode, p.stderr)
    assert "name the ones to load with -p/--program" in p.stderr, p.stderr
    assert "'programs'" not in p.stderr, p.stderr
    # a name that is a value, not a key, stays quoted
    p = lib.bpfctl("load", TRACEPOINT, "-p", "interface", check=False)
    assert p.returncode == 5 and "'interface'" in p.stderr and "--iface" not in p.stderr, p.stderr
    assert loaded_ids() == before


def test_every_change_is_confirmed_in_one_line_and_quiet_with_q():
    lib.ensure_daemon()
    p = lib.bpfctl("load", TRACEPOINT, "-p", "count_getpid", "tracepoint")
    lines = p.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Loaded program ") and lines[0].endswith(
        " count_getpid (tracepoint)"), p.stdout
    prog = lines[0].split()[2]
    assert lines[1].startswith("Attached link ") and "syscalls/sys_enter_getpid" in lines[1], p.stdout
    try:
        p = lib.bpfctl("attach", prog, "tracepoint", "--tracepoint", "syscalls/sys_enter_getppid")
        (line,) = p.stdout.splitlines()
        assert line.startswith("Attached link ") and line.endswith(": tracepoint syscalls/sys_enter_getppid"), line
        link = line.split()[2].rstrip(":")
        assert int(link) in link_ids()

        p = lib.bpfctl("map", "set", prog, "counter", "u32:0", "u64:7")
        assert p.stdout == f"Set key u32:0 of map counter of program {prog}.\n", p.stdout
        p = lib.bpfctl("detach", link)
        assert p.stdout == f"Detached link {link}.\n", p.stdout
        assert int(link) not in link_ids()

        # -q before or after the command: nothing on stdout, the change done all the same
        p = lib.bpfctl("-q", "attach", prog, "tracepoint", "--tracepoint", "syscalls/sys_enter_getppid")
        assert p.stdout == "" and p.stderr == "", (p.stdout, p.stderr)
        (quiet_link,) = [l["id"] for l in lib.bpfctl("--json", "list", "links", "--program", prog).json
                         if "getppid" in l["attach_point"]]
        p = lib.bpfctl("detach", str(quiet_link), "--quiet")
        assert p.stdout == "" and quiet_link not in link_ids(), p.stdout
        p = lib.bpfctl("map", "set", prog, "counter", "u32:1", "u64:8", "-q")
        assert p.stdout == "", p.stdout
        assert lib.bpfctl("map", "get", prog, "counter", "u32:1", "-q").stdout.strip().endswith("8")
        p = lib.bpfctl("-q", "load", TRACEPOINT, "-p", "count_getppid", "tracepoint")
        assert p.stdout == "", p.stdout
        (other,) = loaded_ids() - {int(prog)}
        lib.bpfctl("-q", "unload", str(other))
        assert other not in loaded_ids()
    finally:
        p = lib.bpfctl("unload", prog, check=False)
    assert p.stdout == f"Unloaded program {prog}.\n", p.stdout

    # map delete, on a hash map
    p = lib.bpfctl("load", HASH)
    prog = p.stdout.split()[2]
    try:
        maps = lib.bpfctl("--json", "get", prog).json["maps"]
        name = [m[1] for m in maps if not m[1].startswith(".")][0]
        info = lib.bpfctl("--json", "map", "info", prog, name).json
        key = "00" * info["key_size"]
        lib.bpfctl("map", "set", prog, name, key, "00" * info["value_size"], "-q")
        p = lib.bpfctl("map", "delete", prog, name, key)
        assert p.stdout == f"Deleted key {key} of map {name} of program {prog}.\n", p.stdout
    finally:
        lib.bpfctl("-q", "unload", prog)


def test_eexist_is_explained():
    lib.ensure_daemon()
    p = lib.bpfctl("load", TRACEPOINT, "-p", "count_getpid", "tracepoint")
    prog = p.stdout.split()[2]
    try:
        p = lib.bpfctl("attach", prog, "tracepoint", check=False)
        assert p.returncode == 7, (p.returncode, p.stderr)
        assert "File exists" in p.stderr and "attached at that point already" in p.stderr, p.stderr
        assert "bpfctl list links" in p.stderr, p.stderr
    finally:
        lib.bpfctl("-q", "unload", prog)


def test_e2big_is_explained():
    """The kernel takes at most 64 programs on one tracepoint (BPF_TRACE_MAX_PROGS), then says E2BIG.
    A tracepoint nobody else's tests use; the limit is counted machine-wide, so load until it says no."""
    lib.ensure_daemon()
    before = loaded_ids()
    try:
        for _ in range(80):
            p = lib.bpfctl("-q", "load", TRACEPOINT, "-p", "count_getpid", "tracepoint",
                           "--tracepoint", "syscalls/sys_enter_sysinfo", check=False)
            if p.returncode != 0:
                break
        assert p.returncode == 7, (p.returncode, p.stderr)
        assert "Argument list too long" in p.stderr and "too many programs on one hook" in p.stderr, p.stderr
        assert "has as many programs as the kernel allows" in p.stderr, p.stderr
    finally:
        mine = loaded_ids() - before
        lib.unload(*mine)
        # the kernel frees them (and their perf links) a little later: leave a quiet machine behind
        for prog in mine:
            lib.wait_prog_gone(prog)


def test_get_speaks_in_labels_and_says_when_stats_are_off():
    lib.ensure_daemon()
    p = lib.bpfctl("load", TRACEPOINT, "-p", "count_getpid", "tracepoint")
    prog = p.stdout.split()[2]
    try:
        text = lib.bpfctl("get", prog).stdout
        labels = [line.split(":")[0] for line in text.splitlines() if not line.startswith(" ")]
        raw = [label for label in labels if label.islower() or "_" in label]
        assert not raw, raw
        assert "Map group:" in text and "Map used by:" in text, text
        with open("/proc/sys/kernel/bpf_stats_enabled") as f:
            stats_on = f.read().strip() != "0"
        run_count = next(line for line in text.splitlines() if line.startswith("Run count:"))
        if stats_on:
            assert run_count.split(":", 1)[1].strip().isdigit(), run_count
        else:
            assert "the kernel keeps no run statistics" in run_count and "bpf_stats_enabled" in run_count, run_count
    finally:
        lib.bpfctl("-q", "unload", prog)


def test_specs_are_confirmed_and_quiet_with_q():
    lib.ensure_daemon()
    d = tempfile.mkdtemp(dir=os.environ.get("BPFD_TEST_TMPDIR"))
    path = os.path.join(d, "cli-confirm.conf")
    with open(path, "w") as f:
        f.write(f"[Object counters]\nPath={TRACEPOINT}\nPrograms=count_getpid\n\n"
                "[Attach getpid]\nProgram=count_getpid\nTracepoint=syscalls/sys_enter_getpid\n")
    try:
        p = lib.bpfctl("apply", path)
        assert p.stdout.startswith("cli-confirm: Applied, programs "), p.stdout
        assert lib.bpfctl("-q", "apply", path).stdout == ""
        p = lib.bpfctl("remove-spec", "cli-confirm")
        assert p.stdout == "Removed spec cli-confirm.\n", p.stdout
        lib.bpfctl("-q", "apply", path)
        assert lib.bpfctl("remove-spec", "cli-confirm", "--quiet").stdout == ""
    finally:
        lib.bpfctl("remove-spec", "cli-confirm", check=False)
