# SPDX-License-Identifier: LGPL-2.1-or-later
"""bpfd's TC dispatcher (service/kernel/tc-dispatcher.c through build/tests/tc-dispatcher-check) on this
machine's kernel, which refuses extensions (BPF_PROG_TYPE_EXT): the failure is a clean -EOPNOTSUPP that
leaves nothing on the interface or in bpffs. The chains themselves run in the VM
(tests/vmtest_tc_dispatcher.py)."""

import contextlib
import os
import shutil
import tempfile

import lib

CHECK = os.path.join(lib.BUILD_DIR, "tests", "tc-dispatcher-check")


@contextlib.contextmanager
def veth():
    """A veth pair in the test's network namespace, and a pin dir for it."""
    lib.run(["ip", "link", "add", "tcd-a", "type", "veth", "peer", "name", "tcd-b"])
    pindir = tempfile.mkdtemp(prefix="test-tcd-", dir="/sys/fs/bpf")
    try:
        lib.run(["ip", "link", "set", "tcd-a", "up"])
        yield os.path.join(pindir, "tc-ingress")
    finally:
        lib.run(["ip", "link", "del", "tcd-a"], check=False)
        shutil.rmtree(pindir, ignore_errors=True)


def error_of(p):
    assert p.returncode != 0, p.stdout
    lines = [line for line in p.stderr.splitlines() if line.startswith("error: ")]
    assert lines, p.stderr
    return lines[-1].split()[1].rstrip(":")


def assert_untouched(pin):
    assert lib.run(["tc", "qdisc", "show", "dev", "tcd-a", "clsact"]).stdout.strip() == ""
    assert lib.run([CHECK, "list", "tcd-a", "ingress"]).stdout == ""
    assert not os.path.exists(pin)


def test_extensions_refused_cleanly():
    with veth() as pin:
        p = lib.run([CHECK, "set", "tcd-a", "ingress", pin, lib.bpf_obj("tc_pass") + ":tc_pass_prog"], check=False)
        if p.returncode == 0:
            raise lib.Skip("this kernel loads extensions")
        assert error_of(p) == "EOPNOTSUPP", p.stderr
        assert_untouched(pin)
        # Again (the probe's result is cached per process; a new one probes again), egress too.
        p = lib.run([CHECK, "set", "tcd-a", "egress", pin, lib.bpf_obj("tc_counter") + ":tc_count_a"], check=False)
        assert error_of(p) == "EOPNOTSUPP", p.stderr
        assert_untouched(pin)


def test_component_must_be_a_tc_program():
    with veth() as pin:
        p = lib.run([CHECK, "set", "tcd-a", "ingress", pin, lib.bpf_obj("xdp_pass") + ":xdp_pass_prog"], check=False)
        assert error_of(p) == "EINVAL", p.stderr
        p = lib.run([CHECK, "set", "tcd-a", "ingress", pin, lib.bpf_obj("tc_pass") + ":no_such_prog"], check=False)
        assert error_of(p) == "ENOENT", p.stderr
        assert_untouched(pin)


def test_list_and_clear_without_a_dispatcher():
    with veth() as pin:
        assert lib.run([CHECK, "list", "tcd-a", "egress"]).stdout == ""
        lib.run([CHECK, "clear", "tcd-a", "ingress", pin])
        # Someone else's filter: listed as "other", left alone by clear.
        lib.run(["tc", "qdisc", "add", "dev", "tcd-a", "clsact"])
        lib.run(["tc", "filter", "add", "dev", "tcd-a", "ingress", "prio", "100", "bpf", "da",
                 "obj", lib.bpf_obj("tc_pass"), "sec", "tc"])
        out = lib.run([CHECK, "list", "tcd-a", "ingress"]).stdout.split()
        assert out[1:] == ["tc_pass_prog", "other"], out
        lib.run([CHECK, "clear", "tcd-a", "ingress", pin])
        assert lib.run([CHECK, "list", "tcd-a", "ingress"]).stdout.split() == out
        assert lib.run([CHECK, "list", "tcd-a", "egress"]).stdout == ""


def test_ingress_qdisc_is_refused_before_anything():
    with veth() as pin:
        lib.run(["tc", "qdisc", "add", "dev", "tcd-a", "ingress"])
        # No components: clear leaves the ingress qdisc's filters alone.
        lib.run([CHECK, "clear", "tcd-a", "ingress", pin])
        assert lib.run(["tc", "qdisc", "show", "dev", "tcd-a", "ingress"]).stdout.strip() != ""
