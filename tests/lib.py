# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for bpfd's tests (Python 3 standard library only).

Every test runs as root inside tests/env/with-env: a private system bus with
polkitd, a private bpffs and the test users below.
"""

import json
import os
import re
import pwd
import shlex
import signal
import subprocess
import tempfile
import time

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
SRC_DIR = os.path.dirname(TESTS_DIR)
BUILD_DIR = os.path.abspath(os.environ.get("BPFD_BUILD_DIR") or os.path.join(SRC_DIR, "build"))

BPFD = os.path.join(BUILD_DIR, "service", "bpfd")
BPFCTL = os.path.join(BUILD_DIR, "bpfctl", "bpfctl")
UPROBE_TARGET = os.path.join(BUILD_DIR, "tests", "uprobe-target")
UNIT_SANDBOX = os.path.join(TESTS_DIR, "env", "unit-sandbox")
IMAGE_PULLER_SOCKET = "/run/bpfd/image-puller.socket"
# The daemons the tests start take bpfd's TC dispatcher program from the build tree.
os.environ.setdefault("BPFD_TC_DISPATCHER", os.path.join(BUILD_DIR, "bpf", "tc_dispatcher.bpf.o"))
os.environ.setdefault("BPFD_IMAGE_HELPER", os.path.join(BUILD_DIR, "service", "bpfd-image"))



def _build_sanitized(build_dir):
    """Whether BUILD_DIR was configured with -Db_sanitize (see .ci/sanitize)."""
    try:
        with open(os.path.join(build_dir, "meson-info", "intro-buildoptions.json")) as f:
            options = json.load(f)
    except (OSError, ValueError):
        return False
    return any(o.get("name") == "b_sanitize" and o.get("value") not in (None, "", "none") for o in options)


# A sanitized build (.ci/sanitize): every process of it (bpfd, its helpers, bpfctl, also as the test users)
# writes any report to a file in SAN_DIR and stops there; check_sanitizer_reports() turns a new report into
# the failure of the test that was running. The runner, its children and with-env inherit the settings.
SANITIZED = _build_sanitized(BUILD_DIR)
SAN_DIR = os.environ.get("BPFD_SAN_DIR") or "/tmp/bpfd-sanitizer-reports"
if SANITIZED:
    os.makedirs(SAN_DIR, exist_ok=True)
    os.chmod(SAN_DIR, 0o1777)
    os.environ.setdefault("ASAN_OPTIONS", f"log_path={SAN_DIR}/asan:halt_on_error=1:detect_leaks=1:"
                                          "detect_stack_use_after_return=0:allocator_may_return_null=1")
    os.environ.setdefault("UBSAN_OPTIONS", f"log_path={SAN_DIR}/ubsan:halt_on_error=1:print_stacktrace=1")
    os.environ.setdefault("LSAN_OPTIONS", f"suppressions={os.path.join(TESTS_DIR, 'lsan.supp')}:print_suppressions=0")
_san_seen = set(os.listdir(SAN_DIR)) if SANITIZED and os.path.isdir(SAN_DIR) else set()


def run_once(what):
    """For tests whose outcome neither the system bus implementation nor a sanitized build of bpfd changes
    (fuzzers that build their own targets, installing from the sources, the demo): they run in the first
    pass of a run (dbus-daemon, the main build) and say so in the others."""
    if os.environ.get("BPFD_TEST_BUS") == "dbus-broker":
        raise Skip(f"{what} does not depend on the bus implementation: it runs in the dbus-daemon pass")
    if SANITIZED:
        raise Skip(f"{what} does not use this build of bpfd: it runs with the main build")


def check_sanitizer_reports():
    """With a sanitized build: raise AssertionError with every sanitizer report written since the last check."""
    if not SANITIZED or not os.path.isdir(SAN_DIR):
        return
    new = sorted(set(os.listdir(SAN_DIR)) - _san_seen)
    if not new:
        return
    text = []
    for name in new:
        try:
            with open(os.path.join(SAN_DIR, name), errors="replace") as f:
                report = f.read()
        except OSError:
            continue
        # A report still being written (the file is made first): read again at the next check.
        if not report.strip():
            continue
        _san_seen.add(name)
        # LeakSanitizer's exit check of a helper that made itself non-dumpable (bpfd-inspect, bpfd-image:
        # other processes of their uid must not read their memory) cannot stop its threads: that is all such
        # a report says, no finding.
        if re.fullmatch(r"(\s*==\d+==Unable to get registers from thread \d+\.\s*)+", report):
            continue
        text.append(f"--- {name}\n" + report[-6000:])
    if text:
        raise AssertionError("sanitizer report(s):\n" + "\n".join(text))


BUS_NAME = "org.bpfd"
MANAGER_PATH = "/org/bpfd/Manager"
MANAGER_IFACE = "org.bpfd.Manager"
RUNTIME_DIR = "/run/bpfd"

# Test users (tests/env/with-env creates them; rules in tests/env/rules/).
ALICE = "bpfd-alice"   # group bpfd: may load/attach tracepoint programs
BOB = "bpfd-bob"       # may do nothing
CAROL = "bpfd-carol"   # may unload/detach programs of other users

DEFAULT_TIMEOUT = 60


class Skip(Exception):
    """Raise in a test to skip it: raise lib.Skip("why")."""


class CommandFailed(subprocess.CalledProcessError):
    """A command exited non-zero; str() shows its output."""

    def __str__(self):
        cmd = self.cmd if isinstance(self.cmd, str) else shlex.join(str(c) for c in self.cmd)
        text = f"command failed with exit code {self.returncode}: {cmd}"
        if self.stdout:
            text += "\n--- stdout:\n" + self.stdout.rstrip()
        if self.stderr:
            text += "\n--- stderr:\n" + self.stderr.rstrip()
        return text


def in_test_env():
    return os.environ.get("BPFD_TEST_ENV") == "1"


def bpf_obj(name):
    """Path of build/bpf/NAME.bpf.o ("tracepoint_counter" or "tracepoint_counter.bpf.o")."""
    if not name.endswith(".bpf.o"):
        name += ".bpf.o"
    return os.path.join(BUILD_DIR, "bpf", name)


def uid_of(user):
    return pwd.getpwnam(user).pw_uid


def run(cmd, user=None, check=True, input=None, timeout=DEFAULT_TIMEOUT, env=None, cwd=None):
    """Run CMD (a list, or a string split like a shell would) and return a
    CompletedProcess with text stdout/stderr. With USER, run it as that user
    through runuser. With CHECK, a non-zero exit raises CommandFailed."""
    if isinstance(cmd, str):
        cmd = shlex.split(cmd)
    cmd = [str(c) for c in cmd]
    if user is not None:
        cmd = ["runuser", "-u", str(user), "--"] + cmd
        if cwd is None:
            cwd = "/"    # the caller's cwd may not be readable by USER
    p = subprocess.run(cmd, input=input, capture_output=True, text=True, errors="replace",
                       timeout=timeout, env=env, cwd=cwd)
    check_sanitizer_reports()
    if check and p.returncode != 0:
        raise CommandFailed(p.returncode, cmd, p.stdout, p.stderr)
    return p


def bpfctl(*args, user=None, check=True, input=None, timeout=DEFAULT_TIMEOUT):
    """Run build/bpfctl/bpfctl ARGS. With "--json" among ARGS, the parsed
    standard output is in .json (None if it is not JSON)."""
    p = run([BPFCTL, *args], user=user, check=check, input=input, timeout=timeout)
    p.json = None
    if "--json" in args and p.stdout.strip():
        try:
            p.json = json.loads(p.stdout)
        except ValueError:
            if check:
                raise AssertionError(f"bpfctl --json printed no JSON:\n{p.stdout}")
    return p


def busctl(*args, user=None, check=True, timeout=DEFAULT_TIMEOUT):
    """Run busctl --system ARGS (e.g. busctl("call", "org.bpfd", ...))."""
    return run(["busctl", "--system", *args], user=user, check=check, timeout=timeout)


def busctl_json(*args, user=None):
    """busctl --system --json=short ARGS, parsed."""
    p = run(["busctl", "--system", "--json=short", *args], user=user)
    return json.loads(p.stdout)


def name_owner_pid(name):
    """The pid owning bus name NAME, or None."""
    p = busctl("call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
               "GetConnectionUnixProcessID", "s", name, check=False)
    if p.returncode != 0:
        return None
    parts = p.stdout.split()
    return int(parts[1]) if len(parts) == 2 and parts[0] == "u" else None


def wait_for(predicate, timeout=10, interval=0.1, what=None):
    """Call PREDICATE until it returns something true and return that; raise
    AssertionError after TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


class Daemon:
    """build/service/bpfd run in the background, logging to a file in /tmp."""

    def __init__(self, binary=None):
        self.binary = binary or BPFD
        self.proc = None
        self.image_puller = None
        self.log_path = None
        self.returncode = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, extra_args=(), timeout=10):
        """Start bpfd and wait until it owns org.bpfd on the system bus."""
        if self.running:
            raise RuntimeError(f"bpfd already running as pid {self.pid}")
        if not os.path.exists(self.binary):
            raise AssertionError(f"{self.binary} is not built")
        other = name_owner_pid(BUS_NAME)
        if other is not None:
            raise AssertionError(f"{BUS_NAME} is already owned by pid {other}")
        # Logs stay after the run (with-env removes BPFD_TEST_TMPDIR).
        fd, self.log_path = tempfile.mkstemp(prefix="bpfd-test-", suffix=".log", dir="/tmp")
        self.returncode = None
        command = [self.binary, *extra_args]
        env = None
        if os.environ.get("BPFD_TEST_UNIT_SANDBOX") == "1":
            # bpfd as its systemd unit would run it (tests/test_unit.py), and image pulls through
            # bpfd-image.socket as systemd would serve it, with bpfd-image@.service's sandbox
            command = [UNIT_SANDBOX, os.path.join(BUILD_DIR, "dbus", "bpfd.service"), "--", *command]
            env = dict(os.environ, BPFD_IMAGE_SOCKET=IMAGE_PULLER_SOCKET)
            self._start_image_puller(extra_args)
        with os.fdopen(fd, "w") as logf:
            self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, env=env,
                                         stdout=logf, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                raise AssertionError(f"bpfd exited with {self.proc.returncode} during start:\n"
                                     + self.log_tail())
            if name_owner_pid(BUS_NAME) == self.proc.pid:
                return self
            if time.monotonic() >= deadline:
                self.kill()
                raise AssertionError(f"bpfd did not own {BUS_NAME} within {timeout}s:\n"
                                     + self.log_tail())
            time.sleep(0.05)

    def _start_image_puller(self, bpfd_args):
        """systemd-socket-activate in the place of systemd and bpfd-image.socket (SOCK_SEQPACKET, Accept=yes):
        bpfd-image serve in bpfd-image@.service's sandbox for bpfd's connection, with bpfd's image options.
        The unit's user (bpfd-image) exists where the unit is installed; here the puller runs as nobody,
        bpfd's default image user."""
        self._stop_image_puller()
        if os.path.exists(IMAGE_PULLER_SOCKET):
            os.unlink(IMAGE_PULLER_SOCKET)
        serve = [os.environ.get("BPFD_IMAGE_HELPER") or os.path.join(BUILD_DIR, "service", "bpfd-image"), "serve"]
        names = {"--image-cache": "--cache", "--image-config": "--config", "--image-cache-max": "--cache-max"}
        args = list(bpfd_args)
        for i, a in enumerate(args):
            key, _, value = a.partition("=")
            if key in names:
                serve += [names[key], value or args[i + 1]]
        passed = []
        for name in ("BPFD_BUILD_DIR", "BPFD_TEST_TMPDIR", "PATH"):
            value = BUILD_DIR if name == "BPFD_BUILD_DIR" else os.environ.get(name)
            if value:
                passed += ["-E", f"{name}={value}"]
        self.image_puller = subprocess.Popen(
            ["systemd-socket-activate", "--seqpacket", "--accept", "--listen", IMAGE_PULLER_SOCKET, *passed,
             "-E", "UNIT_SANDBOX_USER=nobody", UNIT_SANDBOX, os.path.join(BUILD_DIR, "dbus", "bpfd-image@.service"),
             "--", *serve],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(IMAGE_PULLER_SOCKET), timeout=10, what="the image puller's socket")

    def _stop_image_puller(self):
        if self.image_puller is not None and self.image_puller.poll() is None:
            self.image_puller.terminate()
            self.image_puller.wait(10)
        self.image_puller = None

    def _wait_gone(self, timeout):
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        check_sanitizer_reports()   # also what LeakSanitizer says when bpfd exits
        # The bus drops the name when the connection closes; wait for it so
        # a following start() does not see a stale owner.
        pid = self.proc.pid
        wait_for(lambda: name_owner_pid(BUS_NAME) != pid, timeout=5, what="org.bpfd to be released")
        return self.returncode

    def kill(self, sig=signal.SIGKILL):
        """Send SIG (default SIGKILL) and wait for the process to end."""
        if not self.running:
            return self.returncode
        self.proc.send_signal(sig)
        rc = self._wait_gone(10)
        if rc is None:
            raise AssertionError(f"bpfd (pid {self.pid}) did not end after signal {sig}")
        return rc

    def stop(self, timeout=10):
        """SIGTERM and wait; SIGKILL if it does not end within TIMEOUT (then
        raise). Returns the exit code."""
        if not self.running:
            return self.returncode
        self.proc.send_signal(signal.SIGTERM)
        rc = self._wait_gone(timeout)
        if rc is None:
            self.proc.kill()
            self._wait_gone(5)
            raise AssertionError(f"bpfd did not end within {timeout}s of SIGTERM:\n" + self.log_tail())
        return rc

    def restart(self, extra_args=()):
        self.stop()
        return self.start(extra_args)

    def log(self):
        """Everything bpfd printed so far."""
        if not self.log_path:
            return ""
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def log_tail(self, lines=40):
        return "\n".join(self.log().splitlines()[-lines:])


daemon = Daemon()


def ensure_daemon():
    """Start the shared daemon if it is not running; return it."""
    if not daemon.running:
        daemon.start()
    return daemon


def stop_daemon():
    if daemon.running:
        daemon.stop()
    daemon._stop_image_puller()


def _parse_bytes(items):
    return bytes(int(x, 16) for x in items)


def map_dump(pin_path):
    """Entries of the map pinned at PIN_PATH as a list of (key, value):
    ints where the map has BTF for them (or the bytes are at most 8 long,
    read little-endian), bytes otherwise."""
    p = run(["bpftool", "-j", "map", "dump", "pinned", pin_path])
    entries = []
    for e in json.loads(p.stdout):
        fmt = e.get("formatted", {})
        key = fmt.get("key")
        value = fmt.get("value")
        if not isinstance(key, int):
            kb = _parse_bytes(e["key"])
            key = int.from_bytes(kb, "little") if len(kb) <= 8 else kb
        if not isinstance(value, int):
            vb = _parse_bytes(e["value"])
            value = int.from_bytes(vb, "little") if len(vb) <= 8 else vb
        entries.append((key, value))
    return entries


def counter(pin_path, key):
    """The u64 at index KEY of the array map pinned at PIN_PATH."""
    for k, v in map_dump(pin_path):
        if k == key:
            return v
    raise KeyError(f"no key {key} in map {pin_path}")


def world_readable_copy(path):
    """Copy PATH to a new world-readable file (for loads by the test users,
    who must be able to read what they name) and return its path. It lies in
    BPFD_TEST_TMPDIR, which with-env removes afterwards."""
    d = tempfile.mkdtemp(prefix="obj-", dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")
    os.chmod(d, 0o755)
    dst = os.path.join(d, os.path.basename(path))
    with open(path, "rb") as src, open(dst, "wb") as out:
        out.write(src.read())
    os.chmod(dst, 0o644)
    return dst


# ---- loading and checking, shared by the test files ----

def load(obj, *args):
    """bpfctl --json load OBJ ARGS; returns (program dicts, link dicts)."""
    ensure_daemon()
    p = bpfctl("--json", "load", bpf_obj(obj), *args)
    return p.json["programs"], p.json["links"]


def unload(*ids):
    """Unload programs that are still loaded (for finally blocks)."""
    loaded = {prog["id"] for prog in bpfctl("--json", "list").json or []}
    todo = [str(i) for i in ids if i in loaded]
    if todo:
        bpfctl("unload", *todo)


def kernel_progs():
    return {p["id"]: p for p in json.loads(run(["bpftool", "prog", "show", "-j"]).stdout)}


def kernel_links():
    return {link["id"]: link for link in json.loads(run(["bpftool", "link", "show", "-j"]).stdout)}


def wait_prog_gone(prog_id):
    """The kernel frees a program some time after its last reference (RCU,
    deferred perf event release): wait a little for it to leave."""
    wait_for(lambda: prog_id not in kernel_progs(), timeout=10,
             what=f"program {prog_id} to leave the kernel")


def wait_link_gone(link_id):
    wait_for(lambda: link_id not in kernel_links(), timeout=10,
             what=f"link {link_id} to leave the kernel")


def counter_pin(prog):
    """Pin path of the map named "counter" of a program dict."""
    for _map_id, name, pin in prog["maps"]:
        if name == "counter":
            return pin
    raise AssertionError(f"program {prog['id']} has no map 'counter': {prog['maps']}")
