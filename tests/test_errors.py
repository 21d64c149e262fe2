# SPDX-License-Identifier: LGPL-2.1-or-later
"""Refused requests: each must answer the documented D-Bus error and leave
everything as it was (bpfd's lists, its pins and state files, the programs
and links in the kernel, the objects bpfd holds open).

Raw calls go through gdbus, which prints the D-Bus error name
("GDBus.Error:org.bpfd.Error.X: message"); busctl prints only the message."""

import json
import os
import subprocess
import tempfile
import time

import lib

TP_GETPID = "syscalls/sys_enter_getpid"

# Every BPF function of build/bpf/*.bpf.o (as the kernel names them, 15 chars).
OUR_PROG_NAMES = {"count_getpid", "count_getppid", "count_uprobe", "count_uretprobe", "count_egress",
                  "bad_deref", "xdp_pass_prog", "count_kprobe", "tc_pass_prog"}

EXIT = {"InvalidObject": 5, "ProgramNameNotFound": 5, "FileNotFound": 5, "VerifierRejected": 6,
        "AttachFailed": 7, "AttachTargetNotFound": 7, "NotSupported": 8, "InvalidArgument": 9,
        "ProgramNotFound": 4, "LinkNotFound": 4}

NO_SUCH_ID = "2147483647"


# ---- helpers ----------------------------------------------------------------

def tmpdir():
    d = tempfile.mkdtemp(prefix="err-", dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")
    os.chmod(d, 0o755)
    return d


def write_file(data, name="obj.bpf.o"):
    path = os.path.join(tmpdir(), name)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o644)
    return path


def gdbus(method, *args, path=lib.MANAGER_PATH, iface=lib.MANAGER_IFACE):
    lib.ensure_daemon()
    return lib.run(["gdbus", "call", "--system", "--dest", lib.BUS_NAME, "--object-path", path,
                    "--method", f"{iface}.{method}", *args], check=False, timeout=30)


def assert_gdbus_error(p, name, contains=None):
    assert p.returncode != 0, f"call succeeded, expected org.bpfd.Error.{name}:\n{p.stdout}"
    assert f"GDBus.Error:org.bpfd.Error.{name}:" in p.stderr, \
        f"expected org.bpfd.Error.{name}, got:\n{p.stderr}"
    if contains:
        assert contains in p.stderr, p.stderr


def bpfctl_fail(*args):
    lib.ensure_daemon()
    return lib.bpfctl(*args, check=False)


def assert_bpfctl_error(p, name, contains=None):
    assert p.returncode == EXIT[name], \
        f"bpfctl exited {p.returncode}, expected {EXIT[name]} for {name}:\n{p.stdout}{p.stderr}"
    assert f"(org.bpfd.Error.{name})" in p.stderr, f"expected org.bpfd.Error.{name}, got:\n{p.stderr}"
    if contains:
        assert contains in p.stderr, p.stderr


def kernel_progs():
    return {p["id"]: p for p in json.loads(lib.run(["bpftool", "prog", "show", "-j"]).stdout)}


def kernel_links():
    return {link["id"]: link for link in json.loads(lib.run(["bpftool", "link", "show", "-j"]).stdout)}


def daemon_fds():
    """(kind, id) of every BPF program, map and link the daemon holds open."""
    held = []
    base = f"/proc/{lib.daemon.pid}"
    for fd in os.listdir(f"{base}/fd"):
        try:
            with open(f"{base}/fdinfo/{fd}") as f:
                info = f.read()
        except OSError:
            continue
        for line in info.splitlines():
            key, _, value = line.partition(":")
            if key in ("prog_id", "map_id", "link_id"):
                held.append((key, int(value)))
    return sorted(held)


def files_under(root):
    out = []
    for d, dirs, files in os.walk(root):
        out += [os.path.join(d, n) for n in dirs + files]
    return sorted(out)


def snapshot():
    lib.ensure_daemon()
    kp = kernel_progs()
    return {
        "programs": lib.bpfctl("--json", "list").json,
        "links": lib.bpfctl("--json", "list", "links").json,
        "files": files_under(lib.RUNTIME_DIR),
        "daemon_fds": daemon_fds(),
        "kernel_progs": {i for i, p in kp.items() if p.get("name") in OUR_PROG_NAMES},
        "kernel_links": set(kernel_links()),
        "counts": (lib.busctl_json("get-property", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE,
                                   "ProgramCount")["data"],
                   lib.busctl_json("get-property", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE,
                                   "LinkCount")["data"]),
    }


def assert_unchanged(before):
    """State is as in BEFORE. The kernel's program and link id spaces are
    shared with everything else on the machine, so there only new programs
    named like ours (or links of them) count, and they get a few seconds
    to go (the kernel frees programs with a delay)."""
    after = snapshot()
    for key in ("programs", "links", "files", "daemon_fds", "counts"):
        assert after[key] == before[key], \
            f"{key} changed:\nbefore: {before[key]}\nafter:  {after[key]}"

    def leftovers():
        kp = kernel_progs()
        ours = {i for i, p in kp.items() if p.get("name") in OUR_PROG_NAMES}
        new_progs = ours - before["kernel_progs"]
        new_links = {i for i, link in kernel_links().items()
                     if i not in before["kernel_links"] and link.get("prog_id") in new_progs}
        return new_progs, new_links
    deadline = time.monotonic() + 10
    while True:
        new_progs, new_links = leftovers()
        if not new_progs and not new_links:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"programs {sorted(new_progs)} / links {sorted(new_links)} "
                                 "stayed in the kernel")
        time.sleep(0.2)
    gone = {p["id"] for p in before["programs"]} - set(kernel_progs())
    assert not gone, f"managed programs {gone} left the kernel"


class Loaded:
    """A program loaded for the length of a with block."""

    def __init__(self, obj, *args):
        self.args = [lib.bpf_obj(obj), *args]

    def __enter__(self):
        lib.ensure_daemon()
        p = lib.bpfctl("--json", "load", *self.args)
        self.programs, self.links = p.json["programs"], p.json["links"]
        self.id = self.programs[0]["id"]
        return self

    def __exit__(self, *exc):
        ids = [str(p["id"]) for p in self.programs]
        lib.bpfctl("unload", *ids)


def load_error(name, obj_path, *args, contains=None):
    """bpfctl load OBJ_PATH ARGS fails with NAME and changes nothing."""
    before = snapshot()
    p = bpfctl_fail("load", obj_path, *args)
    assert_bpfctl_error(p, name, contains)
    assert_unchanged(before)
    return p


def call_error(name, method, *args, contains=None, **kw):
    """A raw call (gdbus) fails with NAME and changes nothing."""
    before = snapshot()
    p = gdbus(method, *args, **kw)
    assert_gdbus_error(p, name, contains)
    assert_unchanged(before)
    return p


def real_object():
    with open(lib.bpf_obj("tracepoint_counter"), "rb") as f:
        return f.read()


# ---- bad objects ----------------------------------------------------------------

def test_truncated_elf():
    load_error("InvalidObject", write_file(real_object()[:200]), "-p", "count_getpid")


def test_garbage_bytes():
    load_error("InvalidObject", write_file(os.urandom(4096)))
    # the source instead of the object: say what makes one
    load_error("InvalidObject", os.path.join(lib.SRC_DIR, "bpf", "tracepoint_counter.bpf.c"),
               contains="clang -target bpf -c")
    load_error("InvalidObject", write_file(b"\x7fELF" + os.urandom(4092)))


def test_empty_file():
    load_error("InvalidObject", write_file(b""))


def test_non_regular_files_by_path():
    d = tmpdir()
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    os.chmod(fifo, 0o666)
    for path in ("/dev/null", d, fifo):
        call_error("InvalidArgument", "LoadFromPath", path, "{}")
    # bpfctl itself sends only regular files: it refuses before calling bpfd.
    for path in (d, fifo):
        before = snapshot()
        p = bpfctl_fail("load", path)
        assert p.returncode == 5, (p.returncode, p.stderr)
        assert_unchanged(before)


def test_fifo_with_writer_by_path():
    d = tmpdir()
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    os.chmod(fifo, 0o666)
    writer = subprocess.Popen(["sh", "-c", f'exec 3>"{fifo}"; sleep 30'])
    try:
        call_error("InvalidArgument", "LoadFromPath", fifo, "{}")
    finally:
        writer.kill()
        writer.wait()


def test_unknown_program_name():
    load_error("ProgramNameNotFound", lib.bpf_obj("tracepoint_counter"), "-p", "no_such_function")
    load_error("ProgramNameNotFound", lib.bpf_obj("tracepoint_counter"), "-p", "count_getpid",
               "-p", "no_such_function")


def test_two_programs_without_programs_option():
    load_error("InvalidArgument", lib.bpf_obj("tracepoint_counter"))
    call_error("InvalidArgument", "LoadFromPath", lib.bpf_obj("tracepoint_counter"), "{}")


def test_relative_path():
    call_error("InvalidArgument", "LoadFromPath", "build/bpf/tracepoint_counter.bpf.o",
               "{'programs': <['count_getpid']>}")


def test_missing_file():
    call_error("FileNotFound", "LoadFromPath", "/nonexistent/bpfd-test/x.bpf.o",
               "{'programs': <['count_getpid']>}")
    load_error("FileNotFound", "/nonexistent/bpfd-test/x.bpf.o", "--by-path", "-p", "count_getpid")


# ---- bad attach targets ---------------------------------------------------------

def test_unknown_tracepoint():
    with Loaded("tracepoint_counter", "-p", "count_getpid") as prog:
        before = snapshot()
        p = bpfctl_fail("attach", str(prog.id), "tracepoint", "--tracepoint", "syscalls/sys_enter_no_such_call")
        assert_bpfctl_error(p, "AttachTargetNotFound")
        p = bpfctl_fail("attach", str(prog.id), "tracepoint", "--tracepoint", "no_such_category/x")
        assert_bpfctl_error(p, "AttachTargetNotFound")
        assert_unchanged(before)


def test_unknown_interface_says_which_namespace():
    """A network attach to an interface bpfd's namespace lacks says where it looked and how to name another
    (bpfctl says it as its option, --netns)."""
    lib.ensure_daemon()
    before = {p["id"] for p in lib.bpfctl("--json", "list").json or []}
    p = bpfctl_fail("load", lib.bpf_obj("tc_counter"), "-p", "tc_count_a", "tcx", "--iface", "nosuch0",
                    "--direction", "ingress")
    assert_bpfctl_error(p, "AttachTargetNotFound", "There is no network interface 'nosuch0'")
    assert "in bpfd's network namespace" in p.stderr and "--netns" in p.stderr, p.stderr
    assert {p["id"] for p in lib.bpfctl("--json", "list").json or []} == before


def test_malformed_tracepoint():
    with Loaded("tracepoint_counter", "-p", "count_getpid") as prog:
        for tp in ("no_slash", "syscalls/", "/sys_enter_getpid", "a/b/c", "../syscalls/sys_enter_getpid",
                   "syscalls/../../x", ""):
            before = snapshot()
            p = gdbus("Attach", str(prog.id), f"{{'kind': <'tracepoint'>, 'tracepoint': <{json.dumps(tp)}>}}")
            assert_gdbus_error(p, "InvalidArgument")
            assert_unchanged(before)


def test_same_tracepoint_twice():
    with Loaded("tracepoint_counter", "-p", "count_getpid", "tracepoint", "--tracepoint", TP_GETPID) as prog:
        before = snapshot()
        p = bpfctl_fail("attach", str(prog.id), "tracepoint", "--tracepoint", TP_GETPID)
        assert_bpfctl_error(p, "AttachFailed")
        assert_unchanged(before)
        assert prog.links[0]["id"] in kernel_links()
        # bpfd's own words, for every client (busctl, Cockpit), not only the kernel's "File exists"
        call_error("AttachFailed", "Attach", str(prog.id),
                   f"{{'kind': <'tracepoint'>, 'tracepoint': <'{TP_GETPID}'>}}",
                   contains=f"attached to tracepoint '{TP_GETPID}' already")


def test_uprobe_missing_binary_and_function():
    with Loaded("uprobe_counter", "-p", "count_uprobe") as prog:
        before = snapshot()
        p = bpfctl_fail("attach", str(prog.id), "uprobe", "--target", "/nonexistent/bin/x",
                        "--fn", "bpfd_test_target")
        assert_bpfctl_error(p, "AttachTargetNotFound")
        assert_unchanged(before)
        p = bpfctl_fail("attach", str(prog.id), "uprobe", "--target", lib.UPROBE_TARGET,
                        "--fn", "no_such_function_here")
        assert_bpfctl_error(p, "AttachTargetNotFound")
        assert_unchanged(before)
        size = os.path.getsize(lib.UPROBE_TARGET)
        p = bpfctl_fail("attach", str(prog.id), "uprobe", "--target", lib.UPROBE_TARGET,
                        "--offset", str(size + 4096))
        assert_bpfctl_error(p, "InvalidArgument", contains="beyond the end")
        assert_unchanged(before)


def test_wrong_argument_types_of_methods():
    """A call with the wrong signature gets bpfd's own error, not only sd-bus's generic one."""
    lib.ensure_daemon()
    before = snapshot()
    # dbus-send sends exactly the types it is told (gdbus would convert them) and prints the error name.
    for method, args, expected in (("Unload", ["string:42"], "'u'"),
                                   ("LoadFromPath", ["uint32:42"], "'sa{sv}'"),
                                   ("GetLink", [], "'u'")):
        p = lib.run(["dbus-send", "--system", "--print-reply", f"--dest={lib.BUS_NAME}", lib.MANAGER_PATH,
                     f"{lib.MANAGER_IFACE}.{method}", *args], check=False)
        assert p.returncode != 0, p.stdout
        assert "Error org.bpfd.Error.InvalidArgument:" in p.stderr, p.stderr
        assert f"takes arguments of type {expected}" in p.stderr, p.stderr
    assert_unchanged(before)


def test_cgroup_not_a_cgroup_or_missing():
    with Loaded("cgroup_counter") as prog:
        before = snapshot()
        p = bpfctl_fail("attach", str(prog.id), "cgroup", "--cgroup", tmpdir())
        assert_bpfctl_error(p, "InvalidArgument")
        assert_unchanged(before)
        root = os.environ.get("BPFD_TEST_CGROUP2") or "/sys/fs/cgroup/unified"
        p = bpfctl_fail("attach", str(prog.id), "cgroup", "--cgroup", os.path.join(root, "bpfd-no-such-cgroup"))
        assert_bpfctl_error(p, "AttachTargetNotFound")
        assert_unchanged(before)


def test_tracepoint_program_as_uprobe():
    with Loaded("tracepoint_counter", "-p", "count_getpid") as prog:
        before = snapshot()
        p = bpfctl_fail("attach", str(prog.id), "uprobe", "--target", lib.UPROBE_TARGET, "--fn", "bpfd_test_target")
        assert_bpfctl_error(p, "InvalidArgument")
        assert_unchanged(before)


def test_unknown_kind():
    with Loaded("tracepoint_counter", "-p", "count_getpid") as prog:
        call_error("InvalidArgument", "Attach", str(prog.id), "{'kind': <'warpdrive'>, 'tracepoint': <'%s'>}" % TP_GETPID)
        call_error("InvalidArgument", "LoadFromPath", lib.bpf_obj("tracepoint_counter"),
                   "{'programs': <['count_getpid']>, 'attach': <[{'kind': <'warpdrive'>}]>}")


def test_attach_step_failure_leaves_nothing():
    before = snapshot()
    pins_before = files_under("/run/bpfd/fs")
    p = bpfctl_fail("load", lib.bpf_obj("tracepoint_counter"), "-p", "count_getpid", "-p", "count_getppid",
                    "tracepoint", "--tracepoint", "syscalls/sys_enter_no_such_call",
                    "--attach-program", "count_getpid")
    assert_bpfctl_error(p, "AttachTargetNotFound")
    assert "Loaded program" not in p.stdout, p.stdout
    assert_unchanged(before)
    assert files_under("/run/bpfd/fs") == pins_before
    assert files_under("/run/bpfd/state") == [f for f in before["files"] if f.startswith("/run/bpfd/state/")]


# ---- bad options ------------------------------------------------------------------

def test_bad_load_options():
    obj = lib.bpf_obj("tracepoint_counter")
    for options in ("{'programs': <['count_getpid']>, 'no_such_option': <true>}",
                    "{'programs': <'count_getpid'>}",
                    "{'programs': <['count_getpid']>, 'metadata': <['a', 'b']>}",
                    "{'programs': <['count_getpid']>, 'global_data': <{'target_tgid': <uint32 5>}>}",
                    "{'programs': <['count_getpid']>, 'global_data': <{'target_tgid': [byte 1, 2]}>}",
                    "{'programs': <['count_getpid']>, 'attach': <{'kind': <'tracepoint'>}>}",
                    "{'programs': <['count_getpid']>, 'metadata': <{'k': '%s'}>}" % ("v" * 5000),
                    "{'programs': <['count_getpid']>, 'metadata': <{'%s': 'v'}>}" % ("k" * 5000)):
        call_error("InvalidArgument", "LoadFromPath", obj, options)


def test_bad_attach_entries_in_load():
    tp, up = lib.bpf_obj("tracepoint_counter"), lib.bpf_obj("uprobe_counter")
    tp_target = "{'kind': <'tracepoint'>, 'tracepoint': <'%s'>}" % TP_GETPID
    for obj, options in (
            (tp, "{'programs': <['count_getpid', 'count_getpid']>}"),
            (tp, "{'programs': <@as []>}"),
            (tp, "{'programs': <['']>}"),
            # several programs: each attach entry must name its program
            (tp, "{'programs': <['count_getpid', 'count_getppid']>, 'attach': <[%s]>}" % tp_target),
            (tp, "{'programs': <['count_getpid']>, 'attach': <[{'program': <'count_getppid'>, "
                 "'kind': <'tracepoint'>, 'tracepoint': <'%s'>}]>}" % TP_GETPID),
            (up, "{'programs': <['count_uprobe']>, 'attach': <[{'target': <'%s'>}]>}" % lib.UPROBE_TARGET),
            (up, "{'programs': <['count_uprobe']>, 'attach': <[{'target': <'relative/x'>, 'function': <'f'>}]>}"),
            (up, "{'programs': <['count_uprobe']>, 'attach': <[{'target': <'%s'>, "
                 "'function': <'bpfd_test_target'>, 'pid': <int32 -5>}]>}" % lib.UPROBE_TARGET),
            (lib.bpf_obj("cgroup_counter"), "{'attach': <[{'cgroup': <'relative'>}]>}"),
            (lib.bpf_obj("cgroup_counter"),
             "{'attach': <[{'cgroup': <'%s'>, 'attach_type': <'bogus'>}]>}" % tmpdir())):
        call_error("InvalidArgument", "LoadFromPath", obj, options)
    call_error("AttachTargetNotFound", "LoadFromPath", up,
               "{'programs': <['count_uprobe']>, 'attach': <[{'target': <'%s'>, "
               "'function': <'bpfd_test_target'>, 'pid': <int32 2147483647>}]>}" % lib.UPROBE_TARGET)


def test_bad_attach_options():
    with Loaded("tracepoint_counter", "-p", "count_getpid") as prog:
        for target in ("{'kind': <'tracepoint'>, 'tracepoint': <'%s'>, 'no_such_key': <1>}" % TP_GETPID,
                       "{'kind': <'tracepoint'>, 'tracepoint': <uint32 7>}",
                       "{'kind': <uint32 1>, 'tracepoint': <'%s'>}" % TP_GETPID,
                       "{'kind': <'tracepoint'>, 'tracepoint': <'syscalls/%s'>}" % ("x" * 5000)):
            call_error("InvalidArgument", "Attach", str(prog.id), target)


def test_global_data_wrong_size_or_unknown():
    obj = lib.bpf_obj("tracepoint_counter")
    load_error("InvalidArgument", obj, "-p", "count_getpid", "-g", "target_tgid=u64:5")
    load_error("InvalidArgument", obj, "-p", "count_getpid", "-g", "no_such_variable=u32:5")


# ---- unsupported and rejected programs ------------------------------------------

def kernel_loads(obj, prog):
    """Whether this kernel loads PROG of OBJ at all, asked with bpftool, independently of bpfd."""
    pin = os.path.join("/sys/fs/bpf", f"probe_{prog}_{os.getpid()}")
    p = lib.run(["bpftool", "prog", "loadall", lib.bpf_obj(obj), pin], check=False)
    lib.run(["rm", "-rf", pin], check=False)
    return p.returncode == 0


def test_unsupported_kinds():
    """Kinds bpfd does not implement yet answer NotSupported; kinds this kernel refuses too, and the daemon's
    SupportedKinds agrees with what the kernel really does."""
    lib.ensure_daemon()
    supported = lib.bpfctl("--json", "status").json["SupportedKinds"]
    if "tc" not in supported:
        # a tc program still loads for TCX where the kernel has it; the dispatcher needs freplace
        p = load_error("NotSupported", lib.bpf_obj("tc_pass"), "tc", "--iface", "lo", "--direction", "ingress",
                       contains="'bpfctl status', lists what is")
        # what to do instead, where it can be done
        assert ("attach it as 'tcx' instead" in p.stderr) == ("tcx" in supported), p.stderr
    kprobes = os.path.exists("/sys/bus/event_source/devices/kprobe/type")
    assert ("kprobe" in supported) == kprobes and ("kretprobe" in supported) == kprobes, supported
    fentry = kernel_loads("fentry_counter", "count_fentry")
    assert ("fentry" in supported) == fentry and ("fexit" in supported) == fentry, supported
    if not kprobes:
        load_error("NotSupported", lib.bpf_obj("kprobe_counter"), "-p", "count_kprobe",
                   contains="'bpfctl status', lists what is")
    if not fentry:
        load_error("NotSupported", lib.bpf_obj("fentry_counter"), "-p", "count_fentry")
    if kprobes and fentry:
        print("    (this kernel has kprobes and fentry: their NotSupported path is tested where it lacks them)")


def test_verifier_rejects():
    p = load_error("VerifierRejected", lib.bpf_obj("verifier_reject"), contains="invalid mem access")
    assert "bad_deref" in p.stderr or "map_value_or_null" in p.stderr, p.stderr


# ---- unknown ids --------------------------------------------------------------------

def test_unknown_ids():
    lib.ensure_daemon()
    before = snapshot()
    assert_bpfctl_error(bpfctl_fail("unload", NO_SUCH_ID), "ProgramNotFound")
    assert_bpfctl_error(bpfctl_fail("detach", NO_SUCH_ID), "LinkNotFound")
    assert_bpfctl_error(bpfctl_fail("get", "link", NO_SUCH_ID), "LinkNotFound")
    assert_bpfctl_error(bpfctl_fail("get", NO_SUCH_ID), "ProgramNotFound")
    assert_bpfctl_error(bpfctl_fail("attach", NO_SUCH_ID, "tracepoint", "--tracepoint", TP_GETPID),
                        "ProgramNotFound")
    assert_gdbus_error(gdbus("Unload", NO_SUCH_ID), "ProgramNotFound")
    assert_gdbus_error(gdbus("Detach", NO_SUCH_ID), "LinkNotFound")
    assert_gdbus_error(gdbus("GetLink", NO_SUCH_ID), "LinkNotFound")
    assert_gdbus_error(gdbus("GetProgram", NO_SUCH_ID), "ProgramNotFound")
    assert_unchanged(before)


def test_unmanaged_program_cannot_be_unloaded():
    lib.ensure_daemon()
    pin = f"/sys/fs/bpf/bpfd-test-err-{os.getpid()}"
    lib.run(["bpftool", "prog", "load", lib.bpf_obj("tracepoint_counter"), pin])
    try:
        kid = json.loads(lib.run(["bpftool", "prog", "show", "pinned", pin, "-j"]).stdout)["id"]
        before = snapshot()
        assert_bpfctl_error(bpfctl_fail("unload", str(kid)), "ProgramNotFound")
        assert_bpfctl_error(bpfctl_fail("attach", str(kid), "tracepoint", "--tracepoint", TP_GETPID),
                            "ProgramNotFound")
        assert_unchanged(before)
        assert kid in kernel_progs()
    finally:
        os.unlink(pin)
