# SPDX-License-Identifier: LGPL-2.1-or-later
"""XDP through bpfd on this machine's kernel, which cannot run libxdp's dispatcher (no freplace): one program
per interface runs alone, a second gets a clear NotSupported, someone else's program is never replaced, and
bad XDP targets get their errors. The chains of several programs run in the VM (vmtest_xdp.py)."""

import lib
from lib import counter_pin, load, unload
from test_tcx import Pair, interfaces, value

OBJ = "xdp_counter"


def xdp(pair, prio, *extra):
    return ["xdp", "--iface", "veth0", "--priority", str(prio), "--netns", pair.inside, *extra]


def test_single_program_and_the_second_refused():
    with Pair() as pair:
        progs, _ = load(OBJ, "-p", "xdp_count_a", "-p", "xdp_count_b")
        a, b = progs
        try:
            link = lib.bpfctl("--json", "attach", str(a["id"]), *xdp(pair, 10)).json
            assert link["id"] >= 0x80000000 and link["kind"] == "xdp", link
            assert link["target"]["proceed_on"] == ["pass", "dispatcher_return"], link
            pin = counter_pin(a)
            before = lib.counter(pin, 0)
            assert pair.ping(10)
            assert lib.counter(pin, 0) - before >= 10
            p = lib.bpfctl("attach", str(b["id"]), *xdp(pair, 20), check=False)
            assert p.returncode == 8 and "org.bpfd.Error.NotSupported" in p.stderr and "freplace" in p.stderr, p.stderr
            assert [l["id"] for l in lib.bpfctl("--json", "list", "links").json] == [link["id"]]
            entry = [i for i in interfaces() if value(i, "netns") == pair.inside and value(i, "name") == "veth0"]
            (chain,) = [value(i, "xdp_programs") for i in entry]
            assert [(c[0], c[2], c[3], c[4]) for c in chain] == [(a["id"], True, 10, link["id"])], chain
            lib.bpfctl("detach", str(link["id"]))
            out = Pair.ns(pair.procs[0], ["ip", "link", "show", "veth0"]).stdout
            assert " xdp" not in out and "prog/xdp" not in out, out
        finally:
            unload(a["id"], b["id"])


def test_someone_elses_program_is_never_replaced():
    with Pair() as pair:
        Pair.ns(pair.procs[0], ["ip", "link", "set", "dev", "veth0", "xdpgeneric", "obj", lib.bpf_obj("xdp_pass"),
                                "sec", "xdp"])
        progs, _ = load(OBJ, "-p", "xdp_count_a")
        try:
            p = lib.bpfctl("attach", str(progs[0]["id"]), *xdp(pair, 10), check=False)
            assert p.returncode != 0 and "org.bpfd.Error." in p.stderr, p.stderr
            out = Pair.ns(pair.procs[0], ["ip", "-d", "link", "show", "veth0"]).stdout
            assert "xdpgeneric" in out and "xdp_pass" in out.replace("xdp_pass_prog", "xdp_pass"), out
            assert lib.bpfctl("--json", "list", "links").json == []
        finally:
            unload(progs[0]["id"])


def test_bad_xdp_targets():
    with Pair() as pair:
        progs, _ = load(OBJ, "-p", "xdp_count_a")
        prog = str(progs[0]["id"])
        try:
            for args, error in (
                    (xdp(pair, 0), "InvalidArgument"),
                    (xdp(pair, 1001), "InvalidArgument"),
                    (xdp(pair, 10, "--proceed-on", "pass,bounce"), "InvalidArgument"),
                    (xdp(pair, 10, "--proceed-on", "ok"), "InvalidArgument"),
                    (["xdp", "--iface", "nosuch0", "--netns", pair.inside], "AttachTargetNotFound"),
            ):
                p = lib.bpfctl("attach", prog, *args, check=False)
                assert f"org.bpfd.Error.{error}" in p.stderr, (args, p.stderr)
            p = lib.bpfctl("load", lib.bpf_obj("tracepoint_counter"), "-p", "count_getpid", *xdp(pair, 10), check=False)
            assert "org.bpfd.Error.InvalidArgument" in p.stderr, p.stderr
            assert lib.bpfctl("--json", "list", "links").json == []
        finally:
            unload(progs[0]["id"])


def test_failed_first_network_load_leaves_no_trace():
    """The first XDP load of a fresh bpfd that fails (someone else's program holds the interface) leaves
    bpfd's files as they were: no directory made for the object it would have kept."""
    import os
    from test_errors import files_under
    lib.stop_daemon()
    objects = os.path.join(lib.RUNTIME_DIR, "state", "objects")
    if os.path.isdir(objects):
        assert os.listdir(objects) == [], "programs of earlier tests are still loaded"
        os.rmdir(objects)
    lib.ensure_daemon()
    with Pair() as pair:
        Pair.ns(pair.procs[0], ["ip", "link", "set", "dev", "veth0", "xdpgeneric", "obj", lib.bpf_obj("xdp_pass"),
                                "sec", "xdp"])
        before = files_under(lib.RUNTIME_DIR)
        p = lib.bpfctl("load", lib.bpf_obj(OBJ), "-p", "xdp_count_a", *xdp(pair, 10), check=False)
        assert p.returncode != 0 and "org.bpfd.Error." in p.stderr, p.stderr
        assert lib.bpfctl("--json", "list").json == []
        assert files_under(lib.RUNTIME_DIR) == before
