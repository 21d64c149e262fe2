# SPDX-License-Identifier: LGPL-2.1-or-later
"""The test VM (tests/vm/run) gives what this machine's kernel lacks: it runs
Debian's kernel, with kprobes and BTF; libbpf loads a kprobe program there
and it fires when attached; and bpfd runs there inside tests/env/with-env.
Runs only in the VM (tests/runner.py boots it for vmtest_* files)."""

import ctypes
import json
import os
import shutil
import tempfile
import time

import lib

KPROBE_TYPE = "/sys/bus/event_source/devices/kprobe/type"

# x86_64 syscall numbers and ioctls.
SYS_PERF_EVENT_OPEN = 298
SYS_BPF = 321
BPF_OBJ_GET = 7
PERF_FLAG_FD_CLOEXEC = 8
PERF_EVENT_IOC_ENABLE = 0x2400
PERF_EVENT_IOC_SET_BPF = 0x40042408

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _check(ret, what):
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def bpf_obj_get(path):
    """An fd of the BPF object pinned at PATH."""
    cpath = ctypes.create_string_buffer(path.encode())
    attr = (ctypes.c_uint64 * 2)(ctypes.addressof(cpath), 0)   # pathname, bpf_fd/file_flags
    return _check(_libc.syscall(SYS_BPF, BPF_OBJ_GET, ctypes.byref(attr), ctypes.sizeof(attr)),
                  f"BPF_OBJ_GET {path}")


def attach_kprobe(prog_fd, func):
    """Attach the kprobe program PROG_FD at the entry of kernel function FUNC
    through perf_event_open (what libbpf does); returns the perf event fd,
    whose closing detaches it."""
    with open(KPROBE_TYPE) as f:
        pmu = int(f.read())
    cfunc = ctypes.create_string_buffer(func.encode())
    attr = (ctypes.c_uint8 * 128)()
    ctypes.c_uint32.from_buffer(attr, 0).value = pmu          # type
    ctypes.c_uint32.from_buffer(attr, 4).value = 128          # size
    ctypes.c_uint64.from_buffer(attr, 56).value = ctypes.addressof(cfunc)   # config1: kprobe_func
    fd = _check(_libc.syscall(SYS_PERF_EVENT_OPEN, ctypes.byref(attr), -1, 0, -1, PERF_FLAG_FD_CLOEXEC),
                f"perf_event_open(kprobe {func})")
    try:
        _check(_libc.ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog_fd), "PERF_EVENT_IOC_SET_BPF")
        _check(_libc.ioctl(fd, PERF_EVENT_IOC_ENABLE, 0), "PERF_EVENT_IOC_ENABLE")
    except BaseException:
        os.close(fd)
        raise
    return fd


def test_runs_in_the_vm_on_debians_kernel():
    assert os.environ.get("BPFD_IN_VM") == "1", "not started by tests/vm/run"
    release = os.uname().release
    assert release.endswith("-amd64"), release
    # The guest sees the host's /boot: the kernel it runs is one installed there.
    assert os.path.exists(f"/boot/vmlinuz-{release}"), release
    assert os.path.isdir(f"/lib/modules/{release}"), release


def test_kernel_has_kprobes_and_btf():
    with open(KPROBE_TYPE) as f:
        assert int(f.read()) > 0
    assert os.path.getsize("/sys/kernel/btf/vmlinux") > 0
    with open("/sys/kernel/tracing/available_filter_functions") as f:
        assert any(line.split()[0] == "do_nanosleep" for line in f)


def test_filesystems_and_root_are_writable():
    # (names as stat -f prints them)
    for path, fstype in (("/sys/fs/bpf", "bpf_fs"), ("/sys/kernel/tracing", "tracefs"),
                         ("/sys/fs/cgroup", "cgroup2fs"), ("/tmp", "tmpfs"), ("/", "overlayfs")):
        p = lib.run(["stat", "-f", "-c", "%T", path])
        assert p.stdout.strip() == fstype, (path, p.stdout)
    # The overlay keeps writes in the guest.
    with tempfile.NamedTemporaryFile(dir="/etc", prefix="bpfd-vmtest-") as f:
        f.write(b"x")


def test_libbpf_loads_and_attaches_kprobe_counter():
    pindir = tempfile.mkdtemp(prefix="vmtest-kp-", dir="/sys/fs/bpf")
    try:
        prog_pin = os.path.join(pindir, "prog")
        maps = os.path.join(pindir, "maps")
        lib.run(["bpftool", "prog", "load", lib.bpf_obj("kprobe_counter"), prog_pin, "pinmaps", maps])
        info = json.loads(lib.run(["bpftool", "-j", "prog", "show", "pinned", prog_pin]).stdout)
        assert info["type"] == "kprobe", info
        prog_fd = bpf_obj_get(prog_pin)
        try:
            before = lib.counter(os.path.join(maps, "counter"), 0)
            perf_fd = attach_kprobe(prog_fd, "do_nanosleep")
            try:
                for _ in range(20):
                    time.sleep(0.0001)    # clock_nanosleep(2) reaches do_nanosleep()
            finally:
                os.close(perf_fd)
            after = lib.counter(os.path.join(maps, "counter"), 0)
            assert after - before >= 20, (before, after)
        finally:
            os.close(prog_fd)
    finally:
        shutil.rmtree(pindir, ignore_errors=True)


def test_bpfd_starts_and_answers_status():
    lib.ensure_daemon()
    p = lib.bpfctl("--json", "status")
    assert isinstance(p.json, dict), p.stdout
    assert p.json.get("SupportedKinds"), p.json
