# SPDX-License-Identifier: LGPL-2.1-or-later
"""Other users' words never reach the terminal of whoever runs bpfctl as escape sequences.

bpfctl prints what other users chose: metadata, file names (Source), spec descriptions, image labels, and
error messages that quote them. alice, allowed to load tracepoint programs, put an OSC (set the window
title) and a CSI (clear the screen) into her program's metadata: 'bpfctl get' run by root printed them as
they were, so her bytes drove root's terminal (retitle, clear, move the cursor over lines of 'bpfctl list',
and on some terminals write the clipboard). Control characters are now printed as '?'; --json escapes them."""

import json

import lib

HOSTILE = "x\x1b]0;pwned\x07\x1b[2J\x9b2Jy"


def test_metadata_of_others_is_printed_without_escape_sequences():
    lib.ensure_daemon()
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    prog = lib.bpfctl("--json", "--no-ask-password", "load", obj, "-p", "count_getpid", "-m", f"app={HOSTILE}",
                      "tracepoint", user=lib.ALICE).json["programs"][0]
    try:
        out = lib.bpfctl("get", str(prog["id"])).stdout
        assert "app=x?]0;pwned??[2J?" in out, repr(out)
        assert not any(ord(c) < 0x20 and c not in "\n\t" or 0x7f <= ord(c) <= 0x9f for c in out), repr(out)
        # the JSON output keeps the value exactly, escaped
        raw = lib.bpfctl("--json", "get", str(prog["id"])).stdout
        assert "\x1b" not in raw and "\x9b" not in raw, repr(raw)
        assert json.loads(raw)["metadata"]["app"] == HOSTILE, raw
        # errors that quote a caller's words too
        p = lib.bpfctl("get", "interface", "no\x1b[2Jsuch", check=False)
        assert "\x1b" not in p.stderr and "\x1b" not in p.stdout, repr(p.stderr)
    finally:
        lib.unload(prog["id"])
