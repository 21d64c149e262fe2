# SPDX-License-Identifier: LGPL-2.1-or-later
"""SIGTERM with requests in flight: every caller gets an answer — OK, and the program is loaded; or an error,
and nothing was loaded — never NoReply (a caller that retries after NoReply loads twice)."""

import re
import subprocess

import lib

N = 16


def start_load(path):
    return subprocess.Popen(
        ["runuser", "-u", lib.ALICE, "--", "gdbus", "call", "--system", "--timeout", "60", "--dest", lib.BUS_NAME,
         "--object-path", lib.MANAGER_PATH, "--method", f"{lib.MANAGER_IFACE}.LoadFromPath", path,
         "{'programs': <['count_getpid']>}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/")


def bpfd_program_ids():
    return {p["id"] for p in lib.bpfctl("--json", "list").json or []}


def test_sigterm_answers_every_request_in_flight():
    path = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    daemon = lib.ensure_daemon()
    before = bpfd_program_ids()
    loaded = set()
    try:
        for _round in range(3):
            daemon = lib.ensure_daemon()
            clients = [start_load(path) for _ in range(N)]
            # Once the first answer is there, the others are somewhere between the bus and the kernel.
            lib.wait_for(lambda: any(c.poll() is not None for c in clients), timeout=120,
                         what="a first answer")
            daemon.stop(timeout=120)
            for c in clients:
                out, err = c.communicate(timeout=120)
                assert "NoReply" not in err and "Timeout was reached" not in err and \
                    "disconnected" not in err.lower(), f"a caller got no answer:\n{err}"
                if c.returncode == 0:
                    ids = [int(i) for i in re.findall(r"/program/(\d+)", out)]
                    assert len(ids) == 1, out
                    loaded.update(ids)
                else:
                    assert "Error" in err, err
            lib.ensure_daemon()
            now = bpfd_program_ids() - before
            assert now == loaded, f"answered OK: {sorted(loaded)}, loaded: {sorted(now)}"
    finally:
        lib.ensure_daemon()
        lib.unload(*(bpfd_program_ids() - before))
