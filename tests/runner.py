#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A tiny test runner for bpfd's tests (Python 3 standard library only).

    tests/runner.py [FILTER...]
    tests/runner.py --in-vm [FILTER...]

Runs every top-level test_* function of tests/test_*.py, files in name
order, functions in the order they appear in the file, and prints for each
    PASS name | FAIL name (+ the traceback, indented) | SKIP name: reason
then one line "N passed, N failed[, N skipped]". Exits 1 if any failed.

Run from outside the test environment, the runner makes one pass per
system bus implementation (BPFD_TEST_BUSES, default "dbus-daemon
dbus-broker"): each pass starts tests/env/with-env with that bus
(BPFD_TEST_BUS) and runs the host's tests in it; results of the dbus-broker
pass are named broker:module.function. Run inside an environment already,
it runs the host's tests once, on that bus. A line "N tests ran on BUS"
follows each pass.

Tests in tests/vmtest_*.py need kernels the host may not have (kprobes,
fentry, multi-program XDP, TCX next to freplace): after the host's tests,
the runner boots one VM per kernel (tests/vm/run) — Debian 12's own and the
newest of bookworm-backports, or BPFD_VM_KERNELS (paths, blank-separated) —
and runs "runner.py --in-vm" in each, which runs only the vmtest_* files.
Their results count in the totals, named vm(KERNEL):module.function, and a
line "N tests ran in the VM (kernel X)" follows each kernel. A VM that does
not boot is a failure. With BPFD_NO_VM=1 the VM tests are skipped.

A FILTER is a file (tests/test_env.py, test_env.py, test_env,
vmtest_smoke), FILE::NAME, or a part of a test's name (module.function; a
leading "vm:", "vm(KERNEL):", "broker:" or "san:" is ignored); a test runs if any
filter selects it. The VM is booted only if a filter selects some VM test.

With BPFD_SAN_BUILD_DIR (a build made by .ci/sanitize), a third pass runs the host
tests with that build on dbus-daemon, named san:module.function.

Tests run as root inside tests/env/with-env. Environment: BPFD_BUILD_DIR
(default: <repo>/build), BPFD_TEST_TIMEOUT (seconds per test, default 300),
BPFD_TEST_BUSES, BPFD_NO_VM=1, BPFD_VM_KERNELS, BPFD_VM_TIMEOUT (seconds
for one VM run, default 1800).
"""

import ast
import importlib.util
import inspect
import os
import re
import signal
import subprocess
import sys
import threading
import traceback

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
VM_RUN = os.path.join(TESTS_DIR, "vm", "run")
WITH_ENV = os.path.join(TESTS_DIR, "env", "with-env")
SUMMARY_RE = re.compile(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$")
PREFIX_RE = re.compile(r"^(vm(\([^)]*\))?|broker|san):")
BUSES = ("dbus-daemon", "dbus-broker")


class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout("test timed out")


def parse_filters(args):
    files, names, pairs = set(), [], []
    for a in args:
        a = PREFIX_RE.sub("", a)
        if "::" in a:
            f, n = a.split("::", 1)
            pairs.append((module_name(f), n))
        elif a.endswith(".py") or os.path.sep in a or (a.startswith(("test_", "vmtest_")) and
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


def test_files(prefix):
    return sorted(f for f in os.listdir(TESTS_DIR) if f.startswith(prefix) and f.endswith(".py"))


def vm_test_names(filters):
    """module.function of the VM tests FILTERS select, found without
    importing the files (they are meant for the VM)."""
    names = []
    for fname in test_files("vmtest_"):
        mod = module_name(fname)
        if not file_selected(mod, filters):
            continue
        try:
            with open(os.path.join(TESTS_DIR, fname)) as f:
                tree = ast.parse(f.read(), fname)
        except SyntaxError:
            names.append(mod)    # the VM run reports it
            continue
        names += [f"{mod}.{node.name}" for node in tree.body
                  if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.name.startswith("test_") and selected(mod, node.name, filters)]
    return names


def run_pass(cmd, prefix, env=None):
    """Run a runner of one pass (a bus's environment or a VM) and pass its
    results on, named PREFIX + name. Returns (passed, failed, skipped,
    kernel), having printed the results; a run that ends without a summary
    that matches its results counts as one more failure."""
    passed = failed = skipped = 0
    try:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, errors="replace", cwd=os.getcwd(), env=env)
    except OSError as e:
        print(f"FAIL {prefix}(start)\n{indent(f'cannot run {cmd[0]}: {e}')}", flush=True)
        return 0, 1, 0, "?"
    err = []
    reader = threading.Thread(target=lambda: err.extend(p.stderr), daemon=True)
    reader.start()

    out = []
    kernel = "?"
    summary = None
    in_failure = False
    pending = []    # other output since the last result: shown if the next test fails
    for line in p.stdout:
        out.append(line)
        text = line.rstrip("\n")
        if text.startswith("# kernel "):
            kernel = text[len("# kernel "):]
        elif text.startswith("PASS "):
            print(f"PASS {prefix}{text[5:]}", flush=True)
            passed += 1
        elif text.startswith("SKIP "):
            print(f"SKIP {prefix}{text[5:]}", flush=True)
            skipped += 1
        elif text.startswith("FAIL "):
            print(f"FAIL {prefix}{text[5:]}", flush=True)
            failed += 1
            if pending:
                print(indent("(output before the failure:)\n" + "".join(pending)), end="", flush=True)
        elif SUMMARY_RE.match(text):
            summary = SUMMARY_RE.match(text)
        elif in_failure and text.startswith("    "):
            print(text, flush=True)    # the traceback, indented already
            continue
        else:
            pending.append(line)
            continue
        in_failure = text.startswith("FAIL ")
        pending = []
    rc = p.wait()
    reader.join(5)
    errtext = "".join(err)

    ran = passed + failed + skipped
    problem = None
    if summary is None:
        problem = f"the run ended without a summary (exit code {rc})"
    elif rc != 0 and not failed:
        problem = f"the run exited with {rc}"
    elif (int(summary[1]), int(summary[2]), int(summary[3] or 0)) != (passed, failed, skipped):
        problem = f"the run's summary \"{summary[0]}\" does not match its results"
    if problem:
        print(f"FAIL {prefix}{'(start)' if not ran else '(run)'}: {problem}", flush=True)
        print(indent("".join(out) + errtext), end="", flush=True)
        failed += 1
    elif failed and errtext.strip():
        print("    (stderr of the run:)", flush=True)
        print(indent(indent(errtext)), end="", flush=True)
    return passed, failed, skipped, kernel


def kernel_release(path):
    base = os.path.basename(path)
    return base[len("vmlinuz-"):] if base.startswith("vmlinuz-") else base


def vm_kernels():
    """The kernels the VM tests run on: BPFD_VM_KERNELS, or Debian 12's own
    (6.1) and the newest of bookworm-backports (installed by .ci/bootstrap),
    each with its modules."""
    if os.environ.get("BPFD_VM_KERNELS"):
        return os.environ["BPFD_VM_KERNELS"].split()
    found = []
    for f in os.listdir("/boot"):
        if f.startswith("vmlinuz-") and os.path.isdir(f"/lib/modules/{kernel_release(f)}"):
            found.append(os.path.join("/boot", f))

    def version(path):
        return [int(x) for x in re.findall(r"\d+", kernel_release(path))[:3]]
    stock = sorted((k for k in found if not re.search(r"bpo|\+deb\d+", kernel_release(k))), key=version)
    backports = sorted((k for k in found if re.search(r"bpo|\+deb\d+", kernel_release(k))), key=version)
    return stock[-1:] + backports[-1:]


def run_vm_tests(argv, filters):
    """Boot one VM per kernel and run the selected vmtest_* files in each.
    Returns (passed, failed, skipped), having printed the results."""
    names = vm_test_names(filters)
    if not names:
        return 0, 0, 0
    if os.environ.get("BPFD_NO_VM") == "1":
        for n in names:
            print(f"SKIP vm:{n}: BPFD_NO_VM=1 (needs the test VM)", flush=True)
        return 0, 0, len(names)
    kernels = vm_kernels()
    if not kernels:
        print("FAIL vm (boot): no kernel for the VM: run .ci/bootstrap (linux-image-amd64 and backports' kernel)",
              flush=True)
        return 0, 1, 0

    passed = failed = skipped = 0
    for k in kernels:
        cmd = [VM_RUN, "--kernel", k, "--", sys.executable, os.path.abspath(__file__), "--in-vm", *argv]
        p, f, s, kernel = run_pass(cmd, f"vm({kernel_release(k)}):")
        passed, failed, skipped = passed + p, failed + f, skipped + s
        if kernel == "?":
            print(f"{p + f + s} tests ran in the VM (kernel {kernel_release(k)} did not boot or its runner "
                  "did not start)", flush=True)
        else:
            print(f"{p + f + s} tests ran in the VM (kernel {kernel})", flush=True)
    return passed, failed, skipped


def run_bus_passes(argv):
    """Outside the test environment: one environment per bus, each running
    the host's tests. Returns (passed, failed, skipped)."""
    buses = os.environ.get("BPFD_TEST_BUSES", " ".join(BUSES)).split()
    passed = failed = skipped = 0
    for bus in buses:
        if bus not in BUSES:
            print(f"FAIL {bus}: BPFD_TEST_BUSES names an unknown bus (known: {', '.join(BUSES)})", flush=True)
            failed += 1
            continue
        env = dict(os.environ, BPFD_TEST_BUS=bus)
        cmd = [WITH_ENV, sys.executable, os.path.abspath(__file__), "--host-only", *argv]
        p, f, s, _ = run_pass(cmd, "" if bus == "dbus-daemon" else "broker:", env)
        passed, failed, skipped = passed + p, failed + f, skipped + s
        print(f"{p + f + s} tests ran on {bus}", flush=True)
    san = os.environ.get("BPFD_SAN_BUILD_DIR")
    if san:
        # The sanitized build (.ci/sanitize): the host tests once more, every process of bpfd's with ASan and
        # UBSan; tests/lib.py fails the test during which a report appears.
        if not os.path.exists(os.path.join(san, "service", "bpfd")):
            print(f"FAIL san:(build): no sanitized build in {san} (see .ci/sanitize)", flush=True)
            return passed, failed + 1, skipped
        env = dict(os.environ, BPFD_TEST_BUS="dbus-daemon", BPFD_BUILD_DIR=os.path.abspath(san))
        cmd = [WITH_ENV, sys.executable, os.path.abspath(__file__), "--host-only", *argv]
        p, f, s, _ = run_pass(cmd, "san:", env)
        passed, failed, skipped = passed + p, failed + f, skipped + s
        print(f"{p + f + s} tests ran with the sanitized build (ASan and UBSan) on dbus-daemon", flush=True)
    return passed, failed, skipped


def summarize(passed, failed, skipped):
    summary = f"{passed} passed, {failed} failed"
    if skipped:
        summary += f", {skipped} skipped"
    print(summary, flush=True)
    return 1 if failed else 0


def main(argv):
    in_vm = "--in-vm" in argv
    host_only = "--host-only" in argv
    argv = [a for a in argv if a not in ("--in-vm", "--host-only")]
    if (not in_vm and os.environ.get("BPFD_TEST_ENV") != "1" and
            os.environ.get("BPFD_RUNNER_NO_ENV") != "1"):
        filters = parse_filters(argv)
        passed, failed, skipped = (0, 0, 0)
        if any(file_selected(module_name(f), filters) for f in test_files("test_")):
            passed, failed, skipped = run_bus_passes(argv)
        p, f, s = run_vm_tests(argv, filters)
        return summarize(passed + p, failed + f, skipped + s)
    if in_vm and os.environ.get("BPFD_TEST_ENV") != "1" and os.environ.get("BPFD_RUNNER_NO_ENV") != "1":
        os.execv(WITH_ENV, [WITH_ENV, sys.executable, os.path.abspath(__file__), "--in-vm", *argv])

    sys.path.insert(0, TESTS_DIR)
    import lib

    if in_vm:
        print(f"# kernel {os.uname().release}", flush=True)
    filters = parse_filters(argv)
    timeout = int(os.environ.get("BPFD_TEST_TIMEOUT", "300"))
    signal.signal(signal.SIGALRM, _alarm)
    passed = failed = skipped = 0

    for fname in test_files("vmtest_" if in_vm else "test_"):
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

    if not in_vm and not host_only:
        p, f, s = run_vm_tests(argv, filters)
        passed, failed, skipped = passed + p, failed + f, skipped + s
    return summarize(passed, failed, skipped)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
