# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a user whom polkit refuses reads: what was refused, the polkit action, and what to do about it (an
administrator's polkit rule, bpfd(8)); image refusals in words that fit a pull and a removal as well as a
load; and a mistyped kind gets the kinds there are. bpfd-carol is allowed nothing but unloading others'
programs (tests/env/rules)."""

import lib

CAROL = "bpfd-carol"
EXIT_NOT_ALLOWED = 3


def _refused(p):
    assert p.returncode == EXIT_NOT_ALLOWED and "(org.bpfd.Error.PermissionDenied)" in p.stderr, \
        (p.returncode, p.stdout, p.stderr)
    return " ".join(p.stderr.split())


def test_not_allowed_says_what_to_do():
    lib.ensure_daemon()
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    text = _refused(lib.bpfctl("--no-ask-password", "load", "--by-path", obj, "-p", "count_getpid", user=CAROL,
                               check=False))
    assert "not allowed to load BPF programs (polkit action org.bpfd.load" in text, text
    assert "an administrator can allow it with a polkit rule, see bpfd(8)" in text, text
    assert "Refused: load the tracepoint program 'count_getpid'" in text, text


def test_image_refusals_fit_pull_and_remove():
    lib.ensure_daemon()
    ref = "127.0.0.1:5999/refused/image:v1"
    for args, what in ((("image", "pull", ref), "pull the BPF image"),
                       (("image", "rm", ref), "remove the BPF image")):
        text = _refused(lib.bpfctl("--no-ask-password", *args, user=CAROL, check=False))
        assert "not allowed to use this BPF image (polkit action org.bpfd.load-image" in text, text
        assert f"Refused: {what} {ref}" in text, text
        assert "load BPF programs" not in text, text


def test_unknown_kind_filter_lists_the_kinds():
    """A mistyped --kind of 'list' is refused with the kinds there are."""
    lib.ensure_daemon()
    p = lib.bpfctl("list", "--kind", "tracepont", check=False)
    assert p.returncode == 9 and "(org.bpfd.Error.InvalidArgument)" in p.stderr, (p.returncode, p.stderr)
    assert "Unknown program kind 'tracepont'" in p.stderr and "tracepoint, uprobe" in p.stderr, p.stderr
