# SPDX-License-Identifier: LGPL-2.1-or-later
"""bpfd-exporter: Prometheus metrics of bpfd over HTTP, read as an unprivileged user over the bus; bpfd's
request statistics (GetRequestStatistics) and the kernel's run statistics (SetStatsEnabled, polkit action
org.bpfd.stats, StatsEnabled)."""

import os
import re
import signal
import subprocess
import tempfile

import lib
import stage
from lib import load, unload

EXPORTER = os.path.join(lib.BUILD_DIR, "exporter", "bpfd-exporter")
PORT = 9435


class Exporter:
    """bpfd-exporter run as USER, listening on 127.0.0.1:PORT, by --listen or through systemd-socket-activate."""

    def __init__(self, user=lib.BOB, port=PORT, socket_activated=False, binary=EXPORTER):
        self.user, self.port, self.socket_activated, self.binary = user, port, socket_activated, binary
        self.proc = None

    def __enter__(self):
        addr = f"127.0.0.1:{self.port}"
        if self.socket_activated:
            # systemd-socket-activate listens as root and hands the socket to the exporter, which then
            # runs as the test user (the way the unit's DynamicUser gets it from systemd).
            # setpriv execs in place: LISTEN_PID stays the exporter's pid.
            cmd = ["systemd-socket-activate", "-l", addr, "setpriv", f"--reuid={self.user}",
                   f"--regid={self.user}", "--init-groups", self.binary]
        else:
            cmd = ["runuser", "-u", self.user, "--", self.binary, "--listen", addr]
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd="/")
        if self.socket_activated:
            lib.wait_for(lambda: self.proc.poll() is not None or
                         f"127.0.0.1:{self.port}" in lib.run(["ss", "-Hltn"]).stdout,
                         what="the socket to listen")
        else:
            lib.wait_for(lambda: self.proc.poll() is not None or "serving" in self.output(), what="the exporter")
        assert self.proc.poll() is None, self.output()
        return self

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def get(self, path="/metrics", check=True):
        p = lib.run(["curl", "-sS", "--max-time", "30", "-o", "-", "-w", "\n%{http_code} %{content_type}",
                     f"http://127.0.0.1:{self.port}{path}"], check=check)
        body, _, status = p.stdout.rpartition("\n")
        return body, status


def samples(text):
    """{(name, frozenset(labels)): value} of a Prometheus text exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def find(s, name, **want):
    """The samples named NAME whose labels include WANT, as [(labels dict, value)]."""
    return [(dict(labels), v) for (n, labels), v in s.items()
            if n == name and all(dict(labels).get(k) == str(val) for k, val in want.items())]


def promtool_check(text):
    p = lib.run(["promtool", "check", "metrics"], input=text, check=False)
    assert p.returncode == 0, f"promtool check metrics failed:\n{p.stdout}{p.stderr}\n{text[:3000]}"


def bpftool_load_foreign(tmpdir):
    """A tracepoint program loaded by bpftool, not by bpfd; returns (id, pin path)."""
    pin = os.path.join("/sys/fs/bpf", os.path.basename(tmpdir) + "-foreign")
    lib.run(["bpftool", "prog", "load", lib.bpf_obj("tracepoint_counter"), pin])
    info = lib.run(["bpftool", "-j", "prog", "show", "pinned", pin]).stdout
    return int(re.search(r'"id":(\d+)', info).group(1)), pin


def set_stats(enabled, user=None, check=True):
    return lib.busctl("call", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE, "SetStatsEnabled", "b",
                      "true" if enabled else "false", user=user, check=check)


def stats_enabled():
    out = lib.busctl("get-property", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE, "StatsEnabled").stdout
    return out.strip() == "b true"


def test_metrics_of_programs_chains_and_totals():
    lib.ensure_daemon()
    tmp = tempfile.mkdtemp(prefix="exp-", dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    progs = lib.bpfctl("--json", "load", obj, "-p", "count_getpid", "tracepoint", "--tracepoint",
                       "syscalls/sys_enter_getpid", user=lib.ALICE).json["programs"]
    foreign_id, pin = bpftool_load_foreign(tmp)
    try:
        with Exporter() as exporter:
            body, status = exporter.get()
            assert status.startswith("200 text/plain; version=0.0.4"), status
            promtool_check(body)
            s = samples(body)
            assert s[("bpfd_up", frozenset())] == 1
            mine = find(s, "bpfd_program_run_count_total", id=progs[0]["id"])
            assert len(mine) == 1, body
            assert mine[0][0] == {"id": str(progs[0]["id"]), "name": "count_getpid", "kind": "tracepoint",
                                  "owner": lib.ALICE, "managed": "true"}, mine
            foreign = find(s, "bpfd_program_run_time_seconds_total", id=foreign_id)
            assert len(foreign) == 1 and foreign[0][0]["managed"] == "false" and foreign[0][0]["owner"] == "", foreign
            managed = find(s, "bpfd_programs", managed="true")[0][1]
            assert managed == len(lib.bpfctl("--json", "list").json), body
            assert find(s, "bpfd_programs", managed="false")[0][1] >= 1
            assert find(s, "bpfd_links")[0][1] >= 1
            assert find(s, "bpfd_maps")[0][1] >= 2    # at least the counter maps of both programs
            lo = find(s, "bpfd_interface_chain_length", interface="lo", hook="xdp")
            assert lo and lo[0][1] == 0, body
            # The exporter's own pages.
            text, status = exporter.get("/nowhere")
            assert status.startswith("404"), status
    finally:
        unload(progs[0]["id"])
        os.unlink(pin)


def test_chain_length_follows_attachments():
    lib.ensure_daemon()
    iface = f"ex{os.getpid() % 100000}"
    lib.run(["ip", "link", "add", iface + "a", "type", "veth", "peer", "name", iface + "b"])
    progs, _ = load("tcx_counter", "-p", "tcx_count_a", "-p", "tcx_count_b")
    try:
        for i, p in enumerate(progs):
            lib.bpfctl("attach", str(p["id"]), "tcx", "--iface", iface + "a", "--direction", "ingress",
                       "--priority", str(10 + i))
        with Exporter() as exporter:
            def length():
                s = samples(exporter.get()[0])
                got = find(s, "bpfd_interface_chain_length", interface=iface + "a", hook="tc_ingress")
                return got and got[0][1] == 2
            lib.wait_for(length, what="a chain of two on ingress")
    finally:
        unload(*[p["id"] for p in progs])
        lib.run(["ip", "link", "del", iface + "a"], check=False)


def test_request_statistics():
    lib.ensure_daemon()
    with Exporter() as exporter:
        before = samples(exporter.get()[0])
        missing = lib.busctl("call", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE, "Unload", "u", "4294967295",
                             user=lib.BOB, check=False)
        assert missing.returncode != 0 and "No program" in missing.stderr, missing.stderr
        lib.busctl("call", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE, "ListLinks", "a{sv}", "0")
        body = exporter.get()[0]
        promtool_check(body)
        after = samples(body)

    def count(s, name, **labels):
        return sum(v for _, v in find(s, name, **labels))
    want = {"method": "Manager.Unload", "result": "org.bpfd.Error.ProgramNotFound"}
    assert count(after, "bpfd_requests_total", **want) == count(before, "bpfd_requests_total", **want) + 1, body
    want_ok = {"method": "Manager.ListLinks", "result": "ok"}
    assert count(after, "bpfd_requests_total", **want_ok) >= count(before, "bpfd_requests_total", **want_ok) + 1
    # The histogram agrees with the counter; +Inf holds every call.
    n = count(after, "bpfd_requests_total", **want)
    assert count(after, "bpfd_request_duration_seconds_count", **want) == n
    assert count(after, "bpfd_request_duration_seconds_bucket", le="+Inf", **want) == n
    # Bus side: the raw statistics are open to everybody.
    raw = lib.busctl_json("call", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE, "GetRequestStatistics",
                          user=lib.BOB)
    rows, bounds = raw["data"]
    assert any(r[0] == "Manager.Unload" and r[1] == "org.bpfd.Error.ProgramNotFound" for r in rows), rows
    assert all(len(r[4]) == len(bounds) + 1 for r in rows), rows


def test_stats_switch_and_counters_rise():
    lib.ensure_daemon()
    # Refused for a user polkit does not allow, and nothing changes.
    was = stats_enabled()
    p = set_stats(True, user=lib.BOB, check=False)
    assert p.returncode != 0 and "org.bpfd.stats" in p.stderr, p.stderr
    assert stats_enabled() == was
    progs, _ = load("tracepoint_counter", "-p", "count_getppid", "tracepoint", "--tracepoint",
                    "syscalls/sys_enter_getppid")
    pid = progs[0]["id"]
    try:
        set_stats(True)
        assert stats_enabled()
        with Exporter() as exporter:
            def value(name):
                return find(samples(exporter.get()[0]), name, id=pid)[0][1]
            runs, time_ = value("bpfd_program_run_count_total"), value("bpfd_program_run_time_seconds_total")
            lib.run(["python3", "-c", "import os\nfor _ in range(100): os.getppid()"])
            assert value("bpfd_program_run_count_total") >= runs + 100
            assert value("bpfd_program_run_time_seconds_total") > time_
            assert find(samples(exporter.get()[0]), "bpfd_stats_enabled")[0][1] == 1
        set_stats(False)
        with open("/proc/sys/kernel/bpf_stats_enabled") as f:
            if f.read().strip() == "0":
                assert not stats_enabled()
    finally:
        set_stats(False, check=False)
        unload(pid)


def test_socket_activation_and_bpfd_down():
    """The exporter takes its socket from systemd (sd_listen_fds); without bpfd on the bus it says bpfd_up 0."""
    lib.ensure_daemon()
    with Exporter(port=PORT + 1, socket_activated=True) as exporter:
        body, status = exporter.get()
        assert status.startswith("200"), status
        assert samples(body)[("bpfd_up", frozenset())] == 1
        lib.stop_daemon()
        try:
            # bpfd is not bus-activatable in the test environment: the name has no owner.
            body, status = exporter.get()
            assert status.startswith("200"), status
            promtool_check(body)
            assert samples(body)[("bpfd_up", frozenset())] == 0
        finally:
            lib.ensure_daemon()


def test_installed_units_and_binary():
    """The installed units are valid (systemd-analyze verify) and name the installed binary, which serves
    /metrics from the socket it is handed, as an unprivileged user."""
    libexec = stage.build_option("prefix") + "/" + stage.build_option("libexecdir")
    unit_dir = stage.installed(os.path.dirname(stage.destination("bpfd-exporter.service")))
    service = open(os.path.join(unit_dir, "bpfd-exporter.service")).read()
    socket_unit = open(os.path.join(unit_dir, "bpfd-exporter.socket")).read()
    assert f"ExecStart={libexec}/bpfd-exporter\n" in service, service
    assert "DynamicUser=yes" in service and "ListenStream=127.0.0.1:9435" in socket_unit
    # verify checks that ExecStart exists: show it the staged binary where the unit expects it.
    os.makedirs(libexec, exist_ok=True)
    p = lib.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                 f'mount --bind "$1" "$2" && exec systemd-analyze verify --man=no "$3" "$4"', "sh",
                 stage.installed(libexec), libexec, os.path.join(unit_dir, "bpfd-exporter.socket"),
                 os.path.join(unit_dir, "bpfd-exporter.service")], check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "bpfd-exporter" not in p.stdout + p.stderr, p.stdout + p.stderr

    lib.ensure_daemon()
    with Exporter(port=PORT + 2, socket_activated=True, binary=stage.installed(libexec + "/bpfd-exporter")) as e:
        body, status = e.get()
        assert status.startswith("200"), status
        promtool_check(body)
        assert samples(body)[("bpfd_up", frozenset())] == 1


def test_usage():
    p = lib.run([EXPORTER, "--help"])
    assert "--listen" in p.stdout
    p = lib.run([EXPORTER], check=False)
    assert p.returncode == 1 and "--listen" in p.stderr, p.stderr
    p = lib.run([EXPORTER, "--listen", "nonsense"], check=False)
    assert p.returncode == 1 and "cannot listen" in p.stderr, p.stderr
