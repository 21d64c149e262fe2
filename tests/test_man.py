# SPDX-License-Identifier: LGPL-2.1-or-later
"""The manual pages (man/*.scd, built by scdoc): each renders with man -l without a warning; every
Documentation= of the units names one of them; and they are complete: bpfctl(1) has every command and
option of bpfctl --help, bpfd(8) every option of bpfd --help, org.bpfd(5) every method, property and
signal of the contract org.bpfd.Manager.xml. tests/test_install.py checks that they are installed where
man finds them."""

import os
import re
import xml.etree.ElementTree as ET

import lib

MAN_DIR = os.path.join(lib.BUILD_DIR, "man")
PAGES = {"bpfctl": 1, "bpfd": 8, "org.bpfd": 5, "bpfd-registries.conf": 5}
UNITS = [os.path.join(lib.BUILD_DIR, "dbus", "bpfd.service"), os.path.join(lib.SRC_DIR, "dbus", "run-bpfd-fs.mount")]


def page(name):
    return os.path.join(MAN_DIR, f"{name}.{PAGES[name]}")


def rendered(name):
    p = lib.run(["man", "--warnings", "-l", page(name)], env=dict(os.environ, MANWIDTH="200", MAN_KEEP_FORMATTING=""))
    assert p.stderr == "", f"{name}: {p.stderr}"
    # overstrike and hyphenation at line ends undone, so that words can be looked for
    return re.sub("[\u2010-]\n\\s+", "", re.sub(r".\x08", "", p.stdout))


def test_every_page_renders_without_warnings():
    for name, section in PAGES.items():
        text = rendered(name)
        assert text.startswith(f"{name}({section})"), text[:200]
        for heading in ("NAME", "DESCRIPTION" if name != "org.bpfd" else "INTRODUCTION", "SEE ALSO"):
            assert re.search(rf"^{heading}$", text, re.M), (name, heading)
        # the pages point at each other
        for other, sec in PAGES.items():
            if other != name and other != "bpfd-registries.conf":
                assert f"{other}({sec})" in text, (name, other)


def test_documentation_of_the_units_resolves():
    for unit in UNITS:
        docs = [d for line in open(unit) if line.startswith("Documentation=") for d in line.split("=", 1)[1].split()]
        assert docs, unit
        for doc in docs:
            m = re.fullmatch(r"man:([\w.-]+)\((\d)\)", doc)
            assert m and PAGES.get(m.group(1)) == int(m.group(2)), (unit, doc)
            assert os.path.exists(page(m.group(1))), doc


def test_bpfctl_page_has_every_command_and_option():
    text = rendered("bpfctl")
    help_text = lib.bpfctl("--help").stdout
    options = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", help_text))
    assert len(options) > 30, options
    missing = sorted(o for o in options if o not in text)
    assert not missing, f"bpfctl(1) lacks {missing}"
    commands = re.findall(r"^  ([a-z]+)(?: [a-z]+)?(?= |$)", help_text.split("COMMANDS", 1)[1].split("LOAD OPTIONS")[0],
                          re.M)
    assert {"load", "attach", "detach", "unload", "list", "get", "map", "image", "status"} <= set(commands)
    for c in set(commands):
        assert re.search(rf"^ *{c}\b", text, re.M), f"bpfctl(1) lacks the command {c}"
    for short in ("-p", "-g", "-m", "-q"):
        assert short + "," in text, short


def test_bpfd_page_has_every_option():
    text = rendered("bpfd")
    help_text = lib.run([lib.BPFD, "--help"]).stdout
    options = set(re.findall(r"(--[a-z][a-z-]+)", help_text))
    assert {"--exit-idle-time", "--log-target", "--runtime-dir"} <= options, options
    missing = sorted(o for o in options if o not in text)
    assert not missing, f"bpfd(8) lacks {missing}"
    assert "60" in text and "syslog" in text


def test_bus_page_has_every_member_of_the_contract():
    text = rendered("org.bpfd")
    root = ET.parse(os.path.join(lib.SRC_DIR, "org.bpfd.Manager.xml")).getroot()
    missing = []
    for iface in root.iter("interface"):
        assert iface.get("name") in text, iface.get("name")
        for member in list(iface.iter("method")) + list(iface.iter("property")) + list(iface.iter("signal")):
            if not re.search(rf"\b{member.get('name')}\b", text):
                missing.append(f"{iface.get('name')}.{member.get('name')}")
    assert not missing, f"org.bpfd(5) lacks {missing}"
    for error in re.findall(r"org\.bpfd\.Error\.(\w+)", open(os.path.join(lib.SRC_DIR, "org.bpfd.Manager.xml")).read()):
        assert error in text, f"org.bpfd(5) lacks the error {error}"
