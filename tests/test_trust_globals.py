# SPDX-License-Identifier: LGPL-2.1-or-later
"""The values of a program's global data are its data maps' starting contents: another user may not read
them (MapDump of .rodata needs org.bpfd.map-others), so no property, list or signal shows them either. alice
loads a tracepoint program with a value in target_tgid (loads of tracepoint programs are allowed to group
bpfd); bob, allowed nothing, looks everywhere every user may look."""

import json
import sys

import lib

SECRET = 0x5EC12E7  # a tgid no process has: the program counts nothing


def test_another_users_global_values_are_not_shown():
    lib.ensure_daemon()
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    loaded = lib.bpfctl("--json", "--no-ask-password", "load", obj, "-p", "count_getpid",
                        "-g", f"target_tgid=u32:{SECRET}", "tracepoint", "--tracepoint", "syscalls/sys_enter_getpgid",
                        user=lib.ALICE).json
    prog = loaded["programs"][0]
    path = f"{lib.MANAGER_PATH}/program/{prog['id']}"
    secret = SECRET.to_bytes(4, sys.byteorder)
    try:
        seen = {
            "property": lib.run(["busctl", "--system", "--json=short", "get-property", lib.BUS_NAME, path,
                                 "org.bpfd.Program", "GlobalData"], user=lib.BOB).stdout,
            "GetAll": lib.run(["busctl", "--system", "--json=short", "call", lib.BUS_NAME, path,
                               "org.freedesktop.DBus.Properties", "GetAll", "s", "org.bpfd.Program"],
                              user=lib.BOB).stdout,
            "GetManagedObjects": lib.run(["busctl", "--system", "--json=short", "call", lib.BUS_NAME,
                                          lib.MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
                                          "GetManagedObjects"], user=lib.BOB).stdout,
            "bpfctl get": lib.bpfctl("--json", "get", str(prog["id"]), user=lib.BOB).stdout,
            "bpfctl list": lib.bpfctl("--json", "list", user=lib.BOB).stdout,
        }
        for where, text in seen.items():
            # as busctl's JSON byte arrays, as bpfctl's hex
            assert json.dumps(list(secret)).replace(" ", "") not in text.replace(" ", "") and \
                secret.hex() not in text, f"bob read alice's global value through {where}: {text[:2000]}"
        # the name is there for everybody; the value for its owner through MapDump
        assert json.loads(seen["property"])["data"] == ["target_tgid"], seen["property"]
        assert lib.bpfctl("--json", "get", str(prog["id"]), user=lib.BOB).json["global_data"] == ["target_tgid"]
        (rodata,) = [name for _, name, _ in prog["maps"] if name.endswith(".rodata")]
        refused = lib.bpfctl("--no-ask-password", "map", "dump", str(prog["id"]), rodata, user=lib.BOB,
                             check=False)
        assert "org.bpfd.Error.PermissionDenied" in refused.stderr, refused.stderr
        own = lib.bpfctl("--json", "map", "dump", str(prog["id"]), rodata, user=lib.ALICE).stdout
        assert str(SECRET) in own or secret.hex() in own, own
    finally:
        lib.unload(prog["id"])
