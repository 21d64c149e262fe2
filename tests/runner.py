#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A tiny test runner for bpfd's tests (Python 3 standard library only).

    tests/runner.py [FILTER...]

Runs every top-level test_* function of tests/test_*.py, files in name
order, functions in the order they appear in the file, and prints for each
    PASS name | FAIL name (+ the traceback, indented) | SKIP name: reason
then one line "N passed, N failed[, N skipped]". Exits 1 if any failed.

A FILTER is a file (tests/test_env.py, test_env.py, test_env), FILE::NAME,
or a part of a test's name (module.function); a test runs if any filter
selects it.

Tests run as root inside tests/env/with-env; run outside of it, the runner
starts itself in there. Environment: BPFD_BUILD_DIR (default: <repo>/build),
BPFD_TEST_TIMEOUT (seconds per test, default 300).
"""

import importlib.util
import inspect
import os
import signal
import sys
import traceback

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout("test timed out")


def parse_filters(args):
    files, names, pairs = set(), [], []
    for a in args:
        if "::" in a:
            f, n = a.split("::", 1)
            pairs.append((module_name(f), n))
        elif a.endswith(".py") or os.path.sep in a or (a.startswith("test_") and
                                                        os.path.exists(os.path.join(TESTS_DIR, a + ".py"))):
            files.add(module_name(a))
        else:
            names.append(a)
    return files, names, pairs


def module_name(path):
    base = os.path.basename(path)
    return base[:-3] if base.endswith(".py") else base


def selected(mod, func, filters):
    files, names, pairs = filters
    if not (files or names or pairs):
        return True
    full = f"{mod}.{func}"
    return (mod in files or any(n in full for n in names) or
            any(mod == m and n in func for m, n in pairs))


def file_selected(mod, filters):
    files, names, pairs = filters
    if not (files or names or pairs):
        return True
    return mod in files or bool(names) or any(mod == m for m, _ in pairs)


def load_module(path):
    name = module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def indent(text):
    return "".join("    " + line for line in text.splitlines(True))


def main(argv):
    if os.environ.get("BPFD_TEST_ENV") != "1" and os.environ.get("BPFD_RUNNER_NO_ENV") != "1":
        with_env = os.path.join(TESTS_DIR, "env", "with-env")
        os.execv(with_env, [with_env, sys.executable, os.path.abspath(__file__), *argv])

    sys.path.insert(0, TESTS_DIR)
    import lib

    filters = parse_filters(argv)
    timeout = int(os.environ.get("BPFD_TEST_TIMEOUT", "300"))
    signal.signal(signal.SIGALRM, _alarm)
    passed = failed = skipped = 0

    files = sorted(f for f in os.listdir(TESTS_DIR) if f.startswith("test_") and f.endswith(".py"))
    for fname in files:
        mod = module_name(fname)
        if not file_selected(mod, filters):
            continue
        try:
            module = load_module(os.path.join(TESTS_DIR, fname))
        except lib.Skip as e:
            print(f"SKIP {mod}: {e}", flush=True)
            skipped += 1
            continue
        except Exception:
            print(f"FAIL {mod} (import)", flush=True)
            print(indent(traceback.format_exc()), end="", flush=True)
            failed += 1
            continue

        tests = [f for n, f in vars(module).items()
                 if n.startswith("test_") and inspect.isfunction(f) and f.__module__ == mod]
        tests.sort(key=lambda f: f.__code__.co_firstlineno)
        for func in tests:
            name = f"{mod}.{func.__name__}"
            if not selected(mod, func.__name__, filters):
                continue
            signal.alarm(timeout)
            try:
                func()
            except lib.Skip as e:
                signal.alarm(0)
                print(f"SKIP {name}: {e}", flush=True)
                skipped += 1
            except BaseException as e:
                signal.alarm(0)
                if isinstance(e, KeyboardInterrupt):
                    raise
                print(f"FAIL {name}", flush=True)
                print(indent(traceback.format_exc()), end="", flush=True)
                if lib.daemon.log_path and not lib.daemon.running and lib.daemon.returncode not in (None, 0):
                    print(indent(f"(bpfd exited with {lib.daemon.returncode}; log tail:)\n"
                                 + lib.daemon.log_tail()), flush=True)
                failed += 1
            else:
                signal.alarm(0)
                print(f"PASS {name}", flush=True)
                passed += 1

    try:
        lib.stop_daemon()
    except Exception:
        print("warning: stopping bpfd failed:", file=sys.stderr)
        traceback.print_exc()

    summary = f"{passed} passed, {failed} failed"
    if skipped:
        summary += f", {skipped} skipped"
    print(summary, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
