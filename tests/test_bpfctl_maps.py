# SPDX-License-Identifier: LGPL-2.1-or-later
"""bpfctl map dump|get|set|delete|info: an unprivileged owner reads and writes the maps of their own program
through bpfd, keys and values formatted by the map's BTF (hex where there is no type), --json with numbers,
per-CPU values per CPU, other users refused, and the usage and not-found errors with their exit codes."""

import os
import re

import lib
from lib import load, unload

ENTRY_RE = re.compile(r"^key: (.+?)  value: (.+)$")


def load_as_alice():
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    p = lib.bpfctl("--json", "--no-ask-password", "load", obj, "-p", "count_getpid", "tracepoint", user=lib.ALICE)
    return p.json["programs"][0]


def alice(*args, check=True):
    return lib.bpfctl("--no-ask-password", *args, user=lib.ALICE, check=check)


def dump_entries(text):
    """The "key: K  value: V" lines of map dump as a list of (K, V) strings."""
    entries = []
    for line in text.splitlines():
        m = ENTRY_RE.match(line)
        assert m, f"not an entry line: {line!r}\n{text}"
        entries.append((m.group(1), m.group(2)))
    return entries


def rodata_name(prog):
    return [m[1] for m in prog["maps"] if m[1].endswith(".rodata")][0]


def test_owner_dumps_gets_and_sets_with_btf():
    lib.ensure_daemon()
    prog = load_as_alice()
    pid = str(prog["id"])
    try:
        calls = 50
        for _ in range(calls):
            os.getpid()    # the syscall the program counts under key 0

        # dump: one line per entry, keys and values as the u32 and u64 their BTF says
        entries = dump_entries(alice("map", "dump", pid, "counter").stdout)
        assert [k for k, _ in entries] == ["0", "1"], entries
        assert int(entries[0][1]) >= calls, entries

        # set with typed numbers, get prints the value alone
        alice("map", "set", pid, "counter", "u32:1", "u64:77")
        assert alice("map", "get", pid, "counter", "u32:1").stdout == "77\n"
        assert lib.counter(lib.counter_pin(prog), 1) == 77    # what the kernel holds
        # the same key as hex bytes, in one piece, with 0x, and blank-separated like bpftool
        for key in ("01000000", "0x01000000", "01 00 00 00"):
            assert alice("map", "get", pid, "counter", key).stdout == "77\n", key

        # --json: an array of {"key", "value"} with JSON numbers
        dumped = alice("--json", "map", "dump", pid, "counter").json
        assert isinstance(dumped, list) and len(dumped) == 2, dumped
        by_key = {e["key"]: e["value"] for e in dumped}
        assert by_key[1] == 77 and type(by_key[1]) is int, dumped
        assert type(by_key[0]) is int and by_key[0] >= calls, dumped
        assert alice("map", "get", "--json", pid, "counter", "u32:1").json == {"key": 1, "value": 77}

        # --only-replace on an entry that exists works, --only-create does not (InvalidArgument)
        alice("map", "set", pid, "counter", "01 00 00 00", "0500000000000000", "--only-replace")
        assert alice("map", "get", pid, "counter", "u32:1").stdout == "5\n"
        p = alice("map", "set", pid, "counter", "u32:1", "u64:6", "--only-create", check=False)
        assert p.returncode == 9 and "org.bpfd.Error.InvalidArgument" in p.stderr, (p.returncode, p.stderr)
        assert lib.counter(lib.counter_pin(prog), 1) == 5

        # array entries cannot be deleted: the daemon says so
        p = alice("map", "delete", pid, "counter", "u32:1", check=False)
        assert p.returncode == 9 and "org.bpfd.Error.InvalidArgument" in p.stderr, (p.returncode, p.stderr)
    finally:
        unload(prog["id"])


def test_info():
    lib.ensure_daemon()
    prog = load_as_alice()
    pid = str(prog["id"])
    try:
        text = alice("map", "info", pid, "counter").stdout
        fields = dict(re.split(r":\s+", line, maxsplit=1) for line in text.splitlines())
        assert fields["Name"] == "counter" and fields["Type"] == "array", text
        assert fields["Key size"] == "4" and fields["Value size"] == "8", text
        assert fields["Key type"] == "__u32" and fields["Value type"] == "__u64", text
        assert fields["Max entries"] == "2" and fields["Per CPU"] == "no", text
        assert re.fullmatch(r"\d+ bytes", fields["BTF"]), text

        info = alice("--json", "map", "info", pid, "counter").json
        assert info["key_size"] == 4 and info["value_size"] == 8 and info["max_entries"] == 2, info
        assert info["key_type"] == "__u32" and info["value_type"] == "__u64", info
        assert info["btf"] and info["btf_value_type_id"] > 0, info
    finally:
        unload(prog["id"])


def test_untyped_key_prints_hex():
    # Every map of the test objects has BTF; the .rodata map's key has no type, though (its value is the
    # section of global variables), so its key shows as hex bytes and its value by the variables' types.
    lib.ensure_daemon()
    prog = load_as_alice()
    pid, rodata = str(prog["id"]), rodata_name(prog)
    try:
        info = alice("--json", "map", "info", pid, rodata).json
        assert info["btf_key_type_id"] == 0, info
        entries = dump_entries(alice("map", "dump", pid, rodata).stdout)
        assert len(entries) == 1 and entries[0][0] == "00 00 00 00", entries
        assert "target_tgid" in entries[0][1], entries
        assert alice("--json", "map", "dump", pid, rodata).json == [{"key": "00000000", "value": {"target_tgid": 0}}]
        # read-only: the daemon refuses to write it
        p = alice("map", "set", pid, rodata, "00000000", "u32:1", check=False)
        assert p.returncode == 3 and "PermissionDenied" in p.stderr, (p.returncode, p.stderr)
    finally:
        unload(prog["id"])


def test_other_user_is_refused():
    lib.ensure_daemon()
    prog = load_as_alice()
    pid = str(prog["id"])
    try:
        alice("map", "set", pid, "counter", "u32:1", "u64:42")
        for args in (("map", "dump", pid, "counter"), ("map", "get", pid, "counter", "u32:1"),
                     ("map", "set", pid, "counter", "u32:1", "u64:0"), ("map", "info", pid, "counter")):
            p = lib.bpfctl("--no-ask-password", *args, user=lib.BOB, check=False)
            assert p.returncode == 3 and "org.bpfd.Error.PermissionDenied" in p.stderr, (args, p.returncode, p.stderr)
            assert p.stdout == "", p.stdout
        assert lib.counter(lib.counter_pin(prog), 1) == 42
    finally:
        unload(prog["id"])


def test_usage_and_not_found_errors():
    lib.ensure_daemon()
    prog = load_as_alice()
    pid = str(prog["id"])
    try:
        # keys and values of the wrong size are usage errors, found before anything is written
        for args in (("get", pid, "counter", "u16:1"), ("get", pid, "counter", "00 00"),
                     ("set", pid, "counter", "u64:1", "u64:1"), ("set", pid, "counter", "u32:1", "u32:1"),
                     ("delete", pid, "counter", "0000000000")):
            p = alice("map", *args, check=False)
            assert p.returncode == 2, (args, p.returncode, p.stderr)
            assert "bytes long, but the" in p.stderr and "map --help" in p.stderr, p.stderr
        assert lib.counter(lib.counter_pin(prog), 1) == 0

        # bad syntax
        for args in (("get", pid, "counter", "zz"), ("get", pid, "counter", "0a0"), ("get", pid, "counter", "u32:-1"),
                     ("get", pid, "counter", "u8:256"), ("get", pid, "counter"), ("set", pid, "counter", "u32:1"),
                     ("dump", pid), ("dump", "x", "counter"), ("dump", pid, "counter", "u32:1"), ("frobnicate", pid),
                     (), ("get", pid, "counter", "u32:1", "--only-create"),
                     ("set", pid, "counter", "u32:1", "u64:1", "--only-create", "--only-replace")):
            p = alice("map", *args, check=False)
            assert p.returncode == 2, (args, p.returncode, p.stderr)

        # not found: map, key, program
        p = alice("map", "dump", pid, "nosuchmap", check=False)
        assert p.returncode == 4 and "org.bpfd.Error.MapNotFound" in p.stderr, (p.returncode, p.stderr)
        p = alice("map", "get", pid, "counter", "u32:7", check=False)
        assert p.returncode == 4 and "org.bpfd.Error.KeyNotFound" in p.stderr, (p.returncode, p.stderr)
        p = alice("map", "dump", "4000000000", "counter", check=False)
        assert p.returncode == 4 and "ProgramNotFound" in p.stderr, (p.returncode, p.stderr)
    finally:
        unload(prog["id"])


def test_per_cpu_values():
    progs, _ = load("tcx_counter", "-p", "tcx_count_b")
    pid = str(progs[0]["id"])
    try:
        info = lib.bpfctl("--json", "map", "info", pid, "last").json
        cpus = info["possible_cpus"]
        assert info["per_cpu"] is True and cpus >= 1, info

        # one VALUE is stored on every CPU
        lib.bpfctl("map", "set", pid, "last", "u32:0", "u32:9")
        lines = lib.bpfctl("map", "get", pid, "last", "u32:0").stdout.splitlines()
        assert lines == [f"value (CPU {cpu:02d}): 9" for cpu in range(cpus)], lines

        text = lib.bpfctl("map", "dump", pid, "last").stdout.splitlines()
        assert text[0] == "key: 0" and text[1:] == [f"  value (CPU {cpu:02d}): 9" for cpu in range(cpus)], text

        dumped = lib.bpfctl("--json", "map", "dump", pid, "last").json
        assert dumped == [{"key": 0, "values": [{"cpu": cpu, "value": 9} for cpu in range(cpus)]}], dumped
    finally:
        unload(progs[0]["id"])


def test_help_describes_maps():
    top = lib.bpfctl("--help").stdout
    commands = top[top.index("COMMANDS"):top.index("LOAD OPTIONS")]
    for text in ("map dump PROGRAM_ID MAP", "map get PROGRAM_ID MAP KEY",
                 "map set PROGRAM_ID MAP KEY VALUE [--only-create|--only-replace]",
                 "map delete PROGRAM_ID MAP KEY", "map info PROGRAM_ID MAP"):
        assert text in commands, text
    assert "map set 42 counter u32:1 u64:77" in top[top.index("EXAMPLES"):]
    assert "MapNotFound" in top[top.index("EXIT STATUS"):]
    for args in (("map", "--help"), ("map", "dump", "--help")):
        text = lib.bpfctl(*args).stdout
        assert "map get PROGRAM_ID MAP KEY" in text and "Examples:" in text and "--only-replace" in text, args


def test_dump_of_a_btf_typed_hash():
    """A hash map's entries come out formatted by its BTF (u32 keys, u64 values), in text and JSON."""
    progs, _ = load("hash_map")
    prog = str(progs[0]["id"])
    try:
        for k, v in ((1, 7), (2, 14), (300, 2100)):
            lib.bpfctl("map", "set", prog, "entries", f"u32:{k}", f"u64:{v}")
        entries = dump_entries(lib.bpfctl("map", "dump", prog, "entries").stdout)
        assert sorted(entries) == [("1", "7"), ("2", "14"), ("300", "2100")], entries
        as_json = lib.bpfctl("--json", "map", "dump", prog, "entries").json
        assert sorted((e["key"], e["value"]) for e in as_json) == [(1, 7), (2, 14), (300, 2100)], as_json
        lib.bpfctl("map", "delete", prog, "entries", "u32:2")
        assert sorted(dump_entries(lib.bpfctl("map", "dump", prog, "entries").stdout)) == [("1", "7"), ("300", "2100")]
    finally:
        unload(progs[0]["id"])
