# SPDX-License-Identifier: LGPL-2.1-or-later
"""Static analysis of all of bpfd's C: clang's analyzer (scan-build) and cppcheck, run by .ci/analyze in a
scratch build directory of their own (build-analysis/, or BPFD_ANALYSIS_DIR). Any report fails the test;
the configuration and every suppression, each with its reason, are in .ci/analysis/. They analyze the
sources, not the build under test, and use no bus: they run once per run (lib.run_once)."""

import os
import signal
import subprocess

import lib

ANALYZE = os.path.join(lib.SRC_DIR, ".ci", "analyze")


def analyze(name):
    lib.run_once(f"{name} (it analyzes the sources, in a build directory of its own)")
    env = dict(os.environ)
    if os.environ.get("BPFD_ANALYSIS_DIR"):
        env["ANALYSIS_DIR"] = os.environ["BPFD_ANALYSIS_DIR"]
    # the runner's sanitizer settings are for bpfd's processes
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        env.pop(k, None)
    # scan-build builds everything with the analyzer: about 1.5 min on an idle 2-core machine, more while
    # other work shares it. More than the runner's per-test default, so this test sets its own limit.
    signal.alarm(1200)
    p = subprocess.run([ANALYZE, name], capture_output=True, text=True, errors="replace", env=env, timeout=1100)
    assert p.returncode == 0 and f"PASS analysis:{name}" in p.stdout, \
        f".ci/analyze {name} found what must be fixed (or explained in .ci/analysis/):\n{p.stdout}{p.stderr}"


def test_cppcheck():
    analyze("cppcheck")


def test_scan_build():
    analyze("scan-build")
