# SPDX-License-Identifier: LGPL-2.1-or-later
"""tests/demo, as a person runs it (README's first command): short progress lines while .ci/bootstrap
checks the packages and builds (never a silent minute), then the demo itself in an environment of its
own (a nested with-env), ending well."""

import os
import subprocess

import lib


def test_demo_shows_progress_and_runs():
    lib.run_once("the demo (with a dbus-daemon and polkitd of its own)")
    env = {k: v for k, v in os.environ.items()
           if k not in ("BPFD_TEST_ENV", "BPFD_WITH_ENV_INSIDE", "BPFD_TEST_TMPDIR", "BPFD_TEST_CGROUP2")}
    lib.stop_daemon()
    p = subprocess.run([os.path.join(lib.TESTS_DIR, "demo")], capture_output=True, text=True, timeout=900,
                       env=env, cwd="/")
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-5000:]
    lines = p.stdout.splitlines()
    # before the first command of the demo, every line is a short progress line of its own
    first_step = next(i for i, line in enumerate(lines) if "$ " in line)
    before = [line for line in lines[:first_step] if line.strip() and not line.startswith("bpfd[")]
    assert before[0].startswith("demo: checking the Debian packages"), before
    assert any("packages" in line for line in before[1:]), before
    assert any(line.startswith("demo: building") or "up to date" in line for line in before), before
    assert all(line.startswith("demo: ") and len(line) <= 100 for line in before), before
    # and the demo did what it shows
    assert "Loaded program" in p.stdout and "polkit" in p.stdout, p.stdout[-3000:]
