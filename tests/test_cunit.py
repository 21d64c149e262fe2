# SPDX-License-Identifier: LGPL-2.1-or-later
"""The C unit tests of pure code (tests/unit/unit-*.c, built by meson into BUILD_DIR/tests/unit/): every
case of every executable is a test of its own here, test_AREA__CASE, so that the runner counts each in its
summary. Each executable runs once (all its cases, each in a child process of its own) the first time one
of its cases is asked for; the cases then report what it said. They use no bus and do not depend on the
build of bpfd under test, so they run once per run (lib.run_once), in the first pass.

A unit executable that is missing or does not list its cases fails this file's import: the build is
incomplete, which is a failure, never a skip."""

import os
import subprocess
import sys

import lib

UNIT_DIR = os.path.join(lib.BUILD_DIR, "tests", "unit")
# One per area; tests/unit/meson.build builds them.
AREAS = ("unit-error", "unit-kind", "unit-target", "unit-record", "unit-image-ref", "unit-image-memo", "unit-authorize")

_results = {}   # area -> {case: (passed, text)}


def _run(area):
    if area in _results:
        return _results[area]
    exe = os.path.join(UNIT_DIR, area)
    p = subprocess.run([exe], capture_output=True, text=True, errors="replace", timeout=120)
    results, current = {}, None
    for line in p.stdout.splitlines():
        for word, ok in (("PASS ", True), ("FAIL ", False)):
            if line.startswith(word + area + "."):
                current = line[len(word + area + "."):]
                results[current] = (ok, [])
                break
        else:
            if current is not None:
                results[current][1].append(line)
    _results[area] = (results, p.stdout + p.stderr, p.returncode)
    return _results[area]


def _case_test(area, case):
    def test():
        lib.run_once("C unit tests (they use no bus and not the build of bpfd under test)")
        results, output, rc = _run(area)
        assert case in results, f"{area} did not run its case {case} (exit code {rc}):\n{output}"
        ok, text = results[case]
        assert ok, f"{area} {case} failed:\n" + "\n".join(text)
    test.__name__ = f"test_{area[len('unit-'):].replace('-', '_')}__{case}"
    test.__qualname__ = test.__name__
    test.__module__ = __name__
    return test


def _list(area):
    exe = os.path.join(UNIT_DIR, area)
    if not os.access(exe, os.X_OK):
        raise FileNotFoundError(f"{exe} is not built (meson builds tests/unit/ with the project)")
    p = subprocess.run([exe, "--list"], capture_output=True, text=True, timeout=60, check=True)
    cases = p.stdout.split()
    if not cases:
        raise RuntimeError(f"{exe} --list names no case")
    return cases


for _area in AREAS:
    for _case in _list(_area):
        _t = _case_test(_area, _case)
        setattr(sys.modules[__name__], _t.__name__, _t)
