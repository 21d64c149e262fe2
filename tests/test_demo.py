# SPDX-License-Identifier: LGPL-2.1-or-later
"""tests/demo, as a person runs it (README's first command): short progress lines while .ci/bootstrap
checks the packages and builds (never a silent minute), then the demo itself in an environment of its
own (a nested with-env), ending well; run from a terminal, as a person does, it never stops to ask for a
password (bpfctl asks polkit's questions on the terminal it runs on)."""

import fcntl
import os
import subprocess
import termios
import threading

import lib


def test_demo_shows_progress_and_runs():
    lib.run_once("the demo (with a dbus-daemon and polkitd of its own)")
    env = {k: v for k, v in os.environ.items()
           if k not in ("BPFD_TEST_ENV", "BPFD_WITH_ENV_INSIDE", "BPFD_TEST_TMPDIR", "BPFD_TEST_CGROUP2")}
    lib.stop_daemon()
    # The demo's controlling terminal and standard input are a terminal of the test's; what appears there
    # is kept, and a password prompt is answered with end-of-file so that the demo cannot wait forever.
    master, slave = os.openpty()

    def controlling_terminal():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    shown = []

    def watch_terminal():
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            shown.append(data)
            if b"Password:" in b"".join(shown):
                os.write(master, b"\x04")

    p = subprocess.Popen([os.path.join(lib.TESTS_DIR, "demo")], stdin=slave, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env, cwd="/", preexec_fn=controlling_terminal)
    os.close(slave)
    watcher = threading.Thread(target=watch_terminal, daemon=True)
    watcher.start()
    try:
        stdout, stderr = p.communicate(timeout=900)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        watcher.join(timeout=10)
        os.close(master)
    terminal = b"".join(shown).decode(errors="replace")
    assert "AUTHENTICATING" not in terminal and "Password:" not in terminal, \
        f"the demo asked for a password on its terminal:\n{terminal}"
    out = stdout + stderr
    assert p.returncode == 0, out[-5000:]
    lines = stdout.splitlines()
    # before the first command of the demo, every line is a short progress line of its own
    first_step = next(i for i, line in enumerate(lines) if "$ " in line)
    before = [line for line in lines[:first_step] if line.strip() and not line.startswith("bpfd[")]
    assert before[0].startswith("demo: checking the Debian packages"), before
    assert any("packages" in line for line in before[1:]), before
    assert any(line.startswith("demo: building") or "up to date" in line for line in before), before
    assert all(line.startswith("demo: ") and len(line) <= 100 for line in before), before
    # and the demo did what it shows
    assert "Loaded program" in stdout and "polkit" in stdout, stdout[-3000:]
