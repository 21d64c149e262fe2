# SPDX-License-Identifier: LGPL-2.1-or-later
"""The build installed into a staged prefix (meson install --destdir), for tests that run the installed files."""

import json
import os
import tempfile

import lib

_staged = None


def _install():
    """Installs the build into a fresh directory (meson install --destdir); returns (root, share dir)."""
    root = tempfile.mkdtemp(prefix="stage-", dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")
    os.chmod(root, 0o755)
    lib.run(["meson", "install", "-C", lib.BUILD_DIR, "--no-rebuild", "--quiet", "--destdir", root], timeout=300)
    options = {o["name"]: o["value"] for o in json.loads(lib.run(["meson", "introspect", "--buildoptions",
                                                                  lib.BUILD_DIR]).stdout)}
    share = os.path.join(root + options["prefix"], options["datadir"])
    # Readable by the test users (cockpit-ws and the exporter run as them): a+rX.
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            path = os.path.join(dirpath, n)
            mode = os.lstat(path).st_mode
            os.chmod(path, mode | 0o444 | (0o111 if n in dirnames or mode & 0o100 else 0))
    return root, share


def stage_install():
    """(root, share dir) of one staged install per test run."""
    global _staged
    if _staged is None:
        _staged = _install()
    return _staged


def installed(path):
    """PATH (as installed, e.g. /usr/local/libexec/bpfd-exporter) inside the staged install."""
    return stage_install()[0] + path


def build_option(name):
    options = json.loads(lib.run(["meson", "introspect", "--buildoptions", lib.BUILD_DIR]).stdout)
    return next(o["value"] for o in options if o["name"] == name)


def destination(name):
    """Where the build installs the file named NAME (its directory comes from the platform for units, bus
    and polkit files: meson introspect --installed knows)."""
    installed_files = json.loads(lib.run(["meson", "introspect", "--installed", lib.BUILD_DIR]).stdout)
    return next(d for d in installed_files.values() if os.path.basename(d) == name)
