# SPDX-License-Identifier: LGPL-2.1-or-later
"""The platform a pass runs on is the one it says: the system bus implementation of tests/env/with-env
(BPFD_TEST_BUS: dbus-daemon or dbus-broker) really owns org.freedesktop.DBus, and bpfd runs with libbpf 1.4
or newer (bookworm-backports)."""

import os
import re

import lib


def bus_process_names():
    """The command names of the process that owns org.freedesktop.DBus and of its children (dbus-broker-launch
    owns the name and runs dbus-broker as its child)."""
    out = lib.run(["busctl", "--system", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus",
                   "org.freedesktop.DBus", "GetConnectionUnixProcessID", "s", "org.freedesktop.DBus"]).stdout
    pid = int(out.split()[1])
    names = [open(f"/proc/{pid}/comm").read().strip()]
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            children = open(f"/proc/{pid}/task/{task}/children").read().split()
        except FileNotFoundError:
            continue
        names += [open(f"/proc/{c}/comm").read().strip() for c in children]
    return names


def test_the_bus_is_the_one_the_pass_names():
    bus = os.environ.get("BPFD_TEST_BUS", "dbus-daemon")
    names = bus_process_names()
    if bus == "dbus-broker":
        assert "dbus-broker" in names and "dbus-daemon" not in names, names
    else:
        assert names[0] == "dbus-daemon", names


def test_bpfd_runs_with_libbpf_1_4_or_newer():
    out = lib.run([lib.BPFD, "--version"]).stdout
    m = re.search(r"libbpf v?(\d+)\.(\d+)", out)
    assert m, out
    assert (int(m[1]), int(m[2])) >= (1, 4), out
