# SPDX-License-Identifier: LGPL-2.1-or-later
"""The fuzz targets of fuzz/ (libFuzzer with ASan and UBSan), one test each: each runs its saved crashers
and then fuzzes for BPFD_FUZZ_SECONDS (default 60) from its seed corpus; a crash fails the test, and the
crashing input's path is in the message. fuzz/run builds them with clang in build-fuzz/ (or
BPFD_FUZZ_BUILD_DIR). See fuzz/run for running them by hand."""

import os
import subprocess

import lib

RUN = os.path.join(lib.SRC_DIR, "fuzz", "run")
SECONDS = int(os.environ.get("BPFD_FUZZ_SECONDS", "60"))


def fuzz(target):
    # The fuzz targets are sanitized builds of their own, and use no bus.
    lib.run_once("fuzzing (fuzz/run builds its own sanitized targets)")
    env = dict(os.environ, FUZZ_SECONDS=str(SECONDS))
    if os.environ.get("BPFD_FUZZ_BUILD_DIR"):
        env["FUZZ_BUILD_DIR"] = os.environ["BPFD_FUZZ_BUILD_DIR"]
    # The runner's own sanitizer settings are for bpfd's processes, not for the fuzzers.
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        env.pop(k, None)
    p = subprocess.run([RUN, target], capture_output=True, text=True, errors="replace", env=env,
                       timeout=SECONDS + 240)
    lines = p.stdout.splitlines()
    assert p.returncode == 0 and any(line.startswith(f"PASS fuzz:{target}") for line in lines), \
        f"fuzz/run {target} failed:\n{p.stdout}{p.stderr}"


def test_elf_inspect():
    fuzz("fuzz-elf-inspect")


def test_bus_message():
    fuzz("fuzz-bus-message")


def test_image_ref():
    fuzz("fuzz-image-ref")


def test_image_json():
    fuzz("fuzz-image-json")


def test_image_pull():
    fuzz("fuzz-image-pull")


def test_image_tar():
    fuzz("fuzz-image-tar")


def test_registries_conf():
    fuzz("fuzz-registries-conf")


def test_state_record():
    fuzz("fuzz-state-record")
