# SPDX-License-Identifier: LGPL-2.1-or-later
"""Map access over the bus, tried as an attacker would: values and keys that the kernel reads as file
descriptors.

From user space, the values of program arrays, maps of maps, perf event, cgroup, socket, device and CPU maps,
and the keys of socket, inode, task and cgroup storage, are descriptors of the process that makes the call.
Over MapUpdate that process is bpfd, which holds the descriptors of every user's programs and maps: an owner
who could name one would put another user's map into their own program's reach (read and write it from their
program), or tail-call into another user's program. alice owns a program with such maps (loads of tracepoint
programs are allowed to group bpfd); root's program is loaded beside it."""

import json
import struct

import lib

QUIET_TRACEPOINT = "syscalls/sys_enter_getpgid"

# As alice: MapUpdate with every small descriptor number as the value; prints what the maps hold then.
TRY_DESCRIPTORS = r"""
import dbus, json, struct, sys
path = sys.argv[1]
prog = dbus.Interface(dbus.SystemBus().get_object("org.bpfd", path), "org.bpfd.Program")
result = {"accepted": [], "errors": set(), "inner": None}
for fd in range(0, 256):
    for m in ("outer", "jump"):
        try:
            prog.MapUpdate(m, dbus.ByteArray(struct.pack("<I", 0)), dbus.ByteArray(struct.pack("<I", fd)), dbus.UInt64(0))
            result["accepted"].append([m, fd])
        except dbus.exceptions.DBusException as e:
            result["errors"].add(e.get_dbus_name())
try:
    result["inner"] = struct.unpack("<I", bytes(prog.MapLookup("outer", dbus.ByteArray(struct.pack("<I", 0)),
                                                               byte_arrays=True)))[0]
except dbus.exceptions.DBusException as e:
    result["errors"].add(e.get_dbus_name())
result["errors"] = sorted(result["errors"])
print(json.dumps(result))
"""


def test_descriptor_values_are_never_bpfds():
    lib.ensure_daemon()
    roots = lib.bpfctl("--json", "load", lib.bpf_obj("tracepoint_counter"), "-p", "count_getpid", "tracepoint").json
    root_prog = roots["programs"][0]
    root_map_id = [m[0] for m in root_prog["maps"] if m[1] == "counter"][0]
    obj = lib.world_readable_copy(lib.bpf_obj("trust_fd_maps"))
    alices = lib.bpfctl("--json", "--no-ask-password", "load", obj, "tracepoint", "--tracepoint", QUIET_TRACEPOINT,
                        user=lib.ALICE).json
    prog = alices["programs"][0]
    try:
        p = lib.run(["/usr/bin/python3", "-c", TRY_DESCRIPTORS, f"{lib.MANAGER_PATH}/program/{prog['id']}"],
                    user=lib.ALICE, timeout=300)
        result = json.loads(p.stdout)
        assert result["inner"] != root_map_id, \
            f"alice put root's map {root_map_id} into her map of maps through bpfd's descriptors: {result}"
        assert result["accepted"] == [], f"bpfd took descriptor numbers of its own as values: {result}"
        assert result["errors"] == ["org.bpfd.Error.InvalidArgument"] or \
            set(result["errors"]) == {"org.bpfd.Error.InvalidArgument", "org.bpfd.Error.KeyNotFound"}, result
        # The map itself is still described to its owner.
        info = lib.run(["busctl", "--system", "call", lib.BUS_NAME, f"{lib.MANAGER_PATH}/program/{prog['id']}",
                          "org.bpfd.Program", "MapInfo", "s", "outer"], user=lib.ALICE)
        assert "array_of_maps" in info.stdout, info.stdout
    finally:
        lib.unload(prog["id"], root_prog["id"])


def test_plain_maps_are_still_written():
    """The refusal is by map type: an array of counters is written as before."""
    lib.ensure_daemon()
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    prog = lib.bpfctl("--json", "--no-ask-password", "load", obj, "-p", "count_getpid", "tracepoint",
                      user=lib.ALICE).json["programs"][0]
    try:
        lib.run(["busctl", "--system", "call", lib.BUS_NAME, f"{lib.MANAGER_PATH}/program/{prog['id']}",
                 "org.bpfd.Program", "MapUpdate", "sayayt", "counter", "4", *struct.pack("<I", 1), "8",
                 *struct.pack("<Q", 77), "0"], user=lib.ALICE)
        assert lib.counter(lib.counter_pin(prog), 1) == 77
    finally:
        lib.unload(prog["id"])
