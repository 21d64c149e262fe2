# SPDX-License-Identifier: LGPL-2.1-or-later
"""A user whom polkit lets do something only with an administrator's password, as a person meets it: bpfctl
run from a terminal asks for the password there (it starts pkttyagent once bpfd's answer says a password is
needed, and calls again allowing interactive authentication); run without a terminal, it says to run it from
one, never to leave out an option that was not given. The test rules (tests/env/rules/40-bpfd-trust.rules)
want an administrator's password of bpfd-bob for loading count_getppid."""

import fcntl
import os
import select
import subprocess
import termios
import time

import lib

BOB = "bpfd-bob"
EXIT_NOT_ALLOWED = 3


def _program_ids():
    return {p["id"] for p in lib.bpfctl("--json", "list").json or []}


def _in_terminal(args, answer, timeout=120):
    """Run ARGS in a new session whose controlling terminal is a new pseudo-terminal; once the terminal shows
    "Password:", type ANSWER. Returns (exit status, everything the terminal showed)."""
    master, slave = os.openpty()

    def controlling_terminal():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    p = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, preexec_fn=controlling_terminal, cwd="/")
    os.close(slave)
    shown, answered = b"", False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                if p.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 4096)
            except OSError:    # EIO: every process holding the terminal has gone
                break
            if not data:
                break
            shown += data
            if not answered and b"Password:" in shown:
                os.write(master, answer + b"\n")
                answered = True
        else:
            p.kill()
        return p.wait(timeout=30), shown.decode(errors="replace")
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
            p.wait()


def test_terminal_user_is_asked_for_the_password():
    """bob at a terminal: polkit's question appears there (the action and the program), a wrong password is
    refused with exit status 3, and nothing is loaded."""
    lib.ensure_daemon()
    before = _program_ids()
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    status, shown = _in_terminal(["runuser", "-u", BOB, "--", lib.BPFCTL, "load", "--by-path", obj,
                                  "-p", "count_getppid"], b"not-the-password")
    assert "AUTHENTICATING FOR org.bpfd.load" in shown, f"no password was asked for:\n{shown}"
    assert "count_getppid" in shown and "Password:" in shown, shown
    assert status == EXIT_NOT_ALLOWED and "PermissionDenied" in shown, f"exit {status}:\n{shown}"
    assert _program_ids() == before


def test_without_a_terminal_says_to_use_one():
    """bob without a terminal and without --no-ask-password: told that a password is needed and to run the
    command from a terminal, not to leave out an option he did not give."""
    lib.ensure_daemon()
    before = _program_ids()
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    p = lib.bpfctl("load", "--by-path", obj, "-p", "count_getppid", user=BOB, check=False)
    assert p.returncode == EXIT_NOT_ALLOWED and "PermissionDenied" in p.stderr, p.stderr
    assert "password is needed" in p.stderr and "from a terminal" in p.stderr, p.stderr
    assert "--no-ask-password" not in p.stderr, p.stderr
    # with the option, the answer names it
    p = lib.bpfctl("--no-ask-password", "load", "--by-path", obj, "-p", "count_getppid", user=BOB, check=False)
    assert p.returncode == EXIT_NOT_ALLOWED and "leave out --no-ask-password" in p.stderr, p.stderr
    assert _program_ids() == before
