# SPDX-License-Identifier: LGPL-2.1-or-later
"""bpfd's log says what an administrator needs, once: programs gone after a reboot are one info line with
a count (not a warning each), and a caller that left before polkit decided is not a warning per request."""

import os
import re
import shutil
import subprocess

import lib

FS_DIR = os.path.join(lib.RUNTIME_DIR, "fs")


def test_programs_gone_after_a_reboot_are_one_info_line():
    daemon = lib.ensure_daemon()
    ids = [lib.load("tracepoint_counter", "-p", "count_getpid")[0][0]["id"] for _ in range(3)]
    daemon.stop()
    # What a reboot leaves: the state records, an empty bpffs.
    for name in os.listdir(FS_DIR):
        path = os.path.join(FS_DIR, name)
        if name.endswith(".debug"):
            continue    # bpffs's own preloaded iterators (maps.debug, progs.debug)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    for i in ids:
        lib.wait_prog_gone(i)
    daemon.start()
    log = daemon.log()
    assert not re.search(r"warning|forgetting it", log, re.I), log
    lines = [line for line in log.splitlines() if "Forgot" in line]
    assert len(lines) == 1 and "Forgot 3 program(s)" in lines[0], log
    assert lib.bpfctl("--json", "list").json in ([], None)


CLIENT = r"""
import os, sys, dbus
bus = dbus.SystemBus()
m = dbus.Interface(bus.get_object("org.bpfd", "/org/bpfd/Manager"), "org.bpfd.Manager")
opts = dbus.Dictionary({"programs": dbus.Array(["count_getpid"], signature="s")}, signature="sv")
progs, links = m.LoadFromPath(sys.argv[1], opts)     # bpfd now knows this caller
print(str(progs[0]).rsplit("/", 1)[1], flush=True)
m.LoadFromPath(sys.argv[1], opts, ignore_reply=True)  # and this one it checks with polkit after we left
bus.flush()
os._exit(0)
"""


def test_callers_that_left_are_not_warnings():
    daemon = lib.ensure_daemon()
    path = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    before = {p["id"] for p in lib.bpfctl("--json", "list").json or []}
    start = len(daemon.log())
    try:
        for _ in range(20):
            # python3-dbus is Debian's, for the system's Python
            lib.run(["/usr/bin/python3", "-c", CLIENT, path], user=lib.ALICE)
        # One more request through polkit, answered after those it had before.
        lib.run(["/usr/bin/python3", "-c", CLIENT.replace("os._exit(0)", "bus.close()"), path], user=lib.ALICE)
        log = daemon.log()[start:]
        assert "NameHasNoOwner" not in log and "polkit could not decide" not in log, log
    finally:
        lib.unload(*({p["id"] for p in lib.bpfctl("--json", "list").json or []} - before))
