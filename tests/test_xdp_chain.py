# SPDX-License-Identifier: LGPL-2.1-or-later
"""service/kernel/xdp-chain.c (driven by build/tests/xdp-chain-check) on this machine's kernel, which refuses
freplace and so cannot run libxdp's dispatcher: the first program is attached alone (libxdp's fallback),
a second one is refused with EOPNOTSUPP and leaves the first in place, and remove detaches it. The real
chains run in the VM (tests/vmtest_xdp_chain.py)."""

import contextlib
import errno
import os
import shutil
import tempfile

import lib

CHECK = os.path.join(lib.BUILD_DIR, "tests", "xdp-chain-check")
OBJ = lib.bpf_obj("xdp_counter")
IFACE, PEER = "bpfd-xch0", "bpfd-xch1"


@contextlib.contextmanager
def veth():
    """A veth pair in the test environment's own network namespace, and a directory for libxdp's pins."""
    d = tempfile.mkdtemp(prefix="xdp-chain-", dir="/sys/fs/bpf")
    lib.run(["ip", "link", "add", IFACE, "type", "veth", "peer", "name", PEER])
    try:
        yield os.path.join(d, "fs")
    finally:
        lib.run(["ip", "link", "del", IFACE], check=False)
        shutil.rmtree(d, ignore_errors=True)


def check(bpffs, *args):
    return lib.run([CHECK, *args], check=False, env=dict(os.environ, BPFD_XDP_BPFFS=bpffs))


def listing(bpffs):
    p = check(bpffs, "list", IFACE)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    return dict(f.split("=") for f in lines[0].split()), [line.split() for line in lines[1:]]


def kernel_prog_id():
    words = lib.run(["ip", "-d", "link", "show", IFACE]).stdout.split()
    for i, w in enumerate(words):
        if w.startswith("prog/xdp") and words[i + 1] == "id":
            return int(words[i + 2])
    return 0


def assert_error(p, err):
    assert p.returncode == err, (p.returncode, p.stdout, p.stderr)
    name = p.stderr.split(":")[1].strip()
    assert getattr(errno, name, None) == err, p.stderr    # EOPNOTSUPP is ENOTSUP to Python


def test_without_freplace_one_program_is_attached_alone():
    with veth() as bpffs:
        assert listing(bpffs) == ({"dispatcher": "no", "mode": "none", "main": "0"}, [])
        p = check(bpffs, "add", IFACE, OBJ, "xdp_count_a", "10")
        assert p.returncode == 0, p.stderr
        fields = dict(f.split("=") for f in p.stdout.split())
        if fields["dispatcher"] == "yes":
            raise lib.Skip("this kernel runs libxdp's dispatcher (tests/vmtest_xdp_chain.py covers that)")
        first = int(fields["id"])
        assert kernel_prog_id() == first
        header, entries = listing(bpffs)
        assert header["dispatcher"] == "no" and int(header["main"]) == first, header
        assert entries == [[str(first), "xdp_count_a", "0", "0"]], entries

        # A second program needs the dispatcher: refused, and the first stays (a new process each time).
        assert_error(check(bpffs, "add", IFACE, OBJ, "xdp_count_b", "20"), errno.EOPNOTSUPP)
        assert kernel_prog_id() == first
        assert [e[0] for e in listing(bpffs)[1]] == [str(first)]

        assert_error(check(bpffs, "remove", IFACE, str(first + 100000)), errno.ENOENT)
        p = check(bpffs, "remove", IFACE, str(first))
        assert p.returncode == 0, p.stderr
        assert kernel_prog_id() == 0
        assert listing(bpffs)[1] == []
        assert_error(check(bpffs, "remove", IFACE, str(first)), errno.ENOENT)


def test_someone_elses_program_without_freplace():
    with veth() as bpffs:
        lib.run(["ip", "link", "set", "dev", IFACE, "xdp", "obj", lib.bpf_obj("xdp_pass"), "sec", "xdp"])
        foreign = kernel_prog_id()
        assert foreign
        p = check(bpffs, "add", IFACE, OBJ, "xdp_count_a", "10")
        if p.returncode == errno.EBUSY:
            raise lib.Skip("this kernel runs libxdp's dispatcher (tests/vmtest_xdp_chain.py covers that)")
        assert_error(p, errno.EOPNOTSUPP)
        assert kernel_prog_id() == foreign


def test_bad_requests():
    with veth() as bpffs:
        assert_error(check(bpffs, "add", IFACE, OBJ, "xdp_count_a", "10", "pass", "hw"), errno.EINVAL)
        assert_error(check(bpffs, "add", IFACE, OBJ, "xdp_count_a", "10", "0x40"), errno.EINVAL)
        assert_error(check(bpffs, "add", IFACE, lib.bpf_obj("tc_pass"), "tc_pass_prog", "10"), errno.EINVAL)
        assert_error(check(bpffs, "add", IFACE, OBJ, "no_such_prog", "10"), errno.ENOENT)
        assert_error(check(bpffs, "add", "bpfd-nosuch0", OBJ, "xdp_count_a", "10"), errno.ENODEV)
        assert_error(check(bpffs, "remove", IFACE, "1"), errno.ENOENT)
        assert kernel_prog_id() == 0
        # xdp_chain_init() refuses a directory that is not on a bpffs.
        d = tempfile.mkdtemp(prefix="xdp-chain-")
        try:
            assert_error(check(d, "list", IFACE), errno.EMEDIUMTYPE)
        finally:
            shutil.rmtree(d)
