# SPDX-License-Identifier: LGPL-2.1-or-later
"""The test environment itself (tests/env/with-env)."""

import lib


def test_polkit_on_bus():
    assert lib.in_test_env(), "not inside tests/env/with-env"
    p = lib.busctl("call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                   "NameHasOwner", "s", "org.freedesktop.PolicyKit1")
    assert p.stdout.strip() == "b true", p.stdout


def test_bpfd_actions_registered():
    p = lib.busctl("call", "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                   "org.freedesktop.PolicyKit1.Authority", "EnumerateActions", "s", "")
    for action in ("org.bpfd.load", "org.bpfd.attach", "org.bpfd.manage-others", "org.bpfd.stats"):
        assert f'"{action}"' in p.stdout, f"{action} missing from polkit's actions"
