# SPDX-License-Identifier: LGPL-2.1-or-later
"""D-Bus activation: the system bus starts bpfd on the first call, through the
distribution's launch helper and our activation file; --exit-idle-time makes
it exit when idle, and what it loaded stays loaded."""

import os
import subprocess
import tempfile

import lib

SCRIPT = r"""
set -euo pipefail
work=$1 bpfd=$2 obj=$3
# A second system bus in a nested mount namespace, whose service directory
# holds only our activation file (pointing at the build tree).
mount -t tmpfs tmpfs /run/dbus
mkdir -p "$work/services"
sed -e "s|^Exec=.*|Exec=$bpfd --runtime-dir $work/rt --exit-idle-time 2|" \
    -e "/^SystemdService=/d" "$SRC/dbus/org.bpfd.service.in" > "$work/services/org.bpfd.service"
chmod -R a+rX "$work/services"
mount --bind "$work/services" /usr/share/dbus-1/system-services
dbus-daemon --system --fork --nopidfile --print-pid=3 3>"$work/dbus.pid"
cleanup() {
        pid=$(busctl --system status org.bpfd 2>/dev/null | sed -n 's/^PID=//p')
        [ -z "$pid" ] || kill "$pid"
        kill "$(cat "$work/dbus.pid")"
}
trap cleanup EXIT

# No bpfd runs on this bus: the call starts it.
busctl --system status org.bpfd >/dev/null 2>&1 && { echo "org.bpfd already running"; exit 1; }
busctl --system call org.bpfd /org/bpfd/Manager org.bpfd.Manager ListPrograms 'a{sv}' 0
echo "activated-pid: $(busctl --system status org.bpfd | sed -n 's/^PID=//p')"
busctl --system call org.bpfd /org/bpfd/Manager org.bpfd.Manager LoadFromPath 'sa{sv}' "$obj" 2 \
    programs as 1 count_getpid attach aa{sv} 1 1 tracepoint s syscalls/sys_enter_getpid
# Idle for 2 s: it exits, and the program stays loaded and attached.
for _ in $(seq 50); do busctl --system status org.bpfd >/dev/null 2>&1 || break; sleep 0.2; done
busctl --system status org.bpfd >/dev/null 2>&1 && { echo "bpfd did not exit when idle"; exit 1; }
echo "exited-when-idle"
ls "$work/rt/fs"
# The next call starts it again and it shows the same program.
busctl --system --json=short call org.bpfd /org/bpfd/Manager org.bpfd.Manager ListPrograms 'a{sv}' 0
"""


def test_bus_activation_and_idle_exit():
    with tempfile.TemporaryDirectory(dir=os.environ.get("BPFD_TEST_TMPDIR")) as work:
        env = dict(os.environ, SRC=lib.SRC_DIR)
        proc = subprocess.run(["unshare", "-m", "--propagation", "private", "bash", "-c", SCRIPT, "activation",
                               work, lib.BPFD, lib.bpf_obj("tracepoint_counter")],
                              capture_output=True, text=True, timeout=60, env=env)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out
        assert "activated-pid: " in out and "activated-pid: \n" not in out, out
        assert "exited-when-idle" in out, out
        pins = out.split("exited-when-idle", 1)[1]
        assert "prog_" in pins and "link_" in pins, out
        last = proc.stdout.strip().splitlines()[-1]
        assert '"count_getpid"' in last and '"managed"' in last, out
