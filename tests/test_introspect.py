# SPDX-License-Identifier: LGPL-2.1-or-later
"""The running daemon's bus API matches the contract, org.bpfd.Manager.xml.

tests/introspect-check (tests/introspect-check.c) compares the interfaces;
here it is run against live introspection of the Manager, a program and a
link object, and shown to fail when the contract and the daemon differ.
"""

import os
import re
import tempfile
import xml.etree.ElementTree as ET

import lib

CHECKER = os.path.join(lib.BUILD_DIR, "tests", "introspect-check")
CONTRACT = os.path.join(lib.SRC_DIR, "org.bpfd.Manager.xml")


def _tmpdir():
    return tempfile.mkdtemp(prefix="introspect-", dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")


def _write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def _introspect(path):
    return lib.busctl("introspect", "--xml-interface", lib.BUS_NAME, path).stdout


def _check(contract, live, *interfaces):
    args = [CHECKER]
    for i in interfaces:
        args += ["--interface", i]
    return lib.run(args + [contract, live], check=False)


def _live_documents():
    """Introspection XML of (Manager, a program, a link, an interface): loads
    and attaches a tracepoint program, which stays loaded until _unload()."""
    if not os.path.exists(CHECKER):
        raise AssertionError(f"{CHECKER} is not built (ninja -C {lib.BUILD_DIR})")
    lib.ensure_daemon()
    p = lib.bpfctl("--json", "load", lib.bpf_obj("tracepoint_counter"), "-p", "count_getpid",
                   "tracepoint", "--tracepoint", "syscalls/sys_enter_getpid")
    prog = p.json["programs"][0]
    link = p.json["links"][0]
    docs = {
        "org.bpfd.Manager": _introspect(lib.MANAGER_PATH),
        "org.bpfd.Program": _introspect(prog["object_path"]),
        "org.bpfd.Link": _introspect(link["object_path"]),
        "org.bpfd.Interface": _introspect(lib.MANAGER_PATH + "/interface/lo"),
        "org.bpfd.Spec": _introspect(_spec_object()),
    }
    return prog["id"], docs


def _spec_object():
    """The object of a spec: one waiting for an interface that never comes, which loads nothing."""
    d = _tmpdir()
    spec = (f"[Object o]\nPath={lib.bpf_obj('tcx_counter')}\nPrograms=tcx_count_a\n"
            "[Attach a]\nKind=tcx\nInterface=nointrospect0\nDirection=ingress\n")
    lib.bpfctl("apply", _write(d, "introspect.conf", spec))
    return lib.MANAGER_PATH + "/spec/introspect"


def _unload(prog_id):
    lib.bpfctl("unload", str(prog_id))
    lib.bpfctl("remove-spec", "introspect", check=False)


def _assert_matches(p, what):
    assert p.returncode == 0, f"{what}: the daemon differs from the contract (exit {p.returncode}):\n" \
                              f"{p.stdout}{p.stderr}"


def test_objects_match_contract():
    prog, docs = _live_documents()
    try:
        d = _tmpdir()
        for iface, xml in docs.items():
            assert f'<interface name="{iface}">' in xml, f"{iface} is not on its object:\n{xml}"
            live = _write(d, iface + ".xml", xml)
            _assert_matches(_check(CONTRACT, live, iface), iface)
    finally:
        _unload(prog)


def test_merged_objects_match_whole_contract():
    # Without --interface every org.bpfd.* interface of either document is
    # compared: together, the three objects must carry exactly the contract's.
    prog, docs = _live_documents()
    try:
        root = ET.Element("node")
        for xml in docs.values():
            for iface in ET.fromstring(xml).findall("interface"):
                root.append(iface)
        d = _tmpdir()
        live = _write(d, "merged.xml", ET.tostring(root, encoding="unicode"))
        _assert_matches(_check(CONTRACT, live), "merged objects")
        # One object alone lacks the other interfaces, and that is reported.
        p = _check(CONTRACT, _write(d, "manager.xml", docs["org.bpfd.Manager"]))
        assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
        assert "org.bpfd.Program" in p.stdout and "org.bpfd.Link" in p.stdout, p.stdout
    finally:
        _unload(prog)


def test_checker_ignores_comments_and_whitespace():
    with open(CONTRACT) as f:
        text = f.read()
    stripped = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    squeezed = re.sub(r">\s+<", "><", stripped)
    reindented = squeezed.replace("><", ">\n\t\t<")
    d = _tmpdir()
    for name, t in (("stripped.xml", stripped), ("squeezed.xml", squeezed), ("reindented.xml", reindented)):
        p = _check(CONTRACT, _write(d, name, t))
        assert p.returncode == 0, f"{name}: {p.stdout}{p.stderr}"


# Each modification of the contract, and text the checker's report must contain.
MUTATIONS = [
    ("argument renamed",
     '<arg type="h" name="object" direction="in"/>', '<arg type="h" name="fd" direction="in"/>',
     "org.bpfd.Manager", "method LoadFromFd(in h fd,"),
    ("argument type changed",
     '<method name="Detach">\n      <arg type="u" name="link_id" direction="in"/>',
     '<method name="Detach">\n      <arg type="t" name="link_id" direction="in"/>',
     "org.bpfd.Manager", "method Detach(in t link_id)"),
    ("direction changed",
     '<arg type="a{sv}" name="target" direction="in"/>\n      <arg type="o" name="link" direction="out"/>\n'
     '    </method>\n    <!-- Remove one',
     '<arg type="a{sv}" name="target" direction="in"/>\n      <arg type="o" name="link" direction="in"/>\n'
     '    </method>\n    <!-- Remove one',
     "org.bpfd.Manager", "method Attach(in u program_id, in a{sv} target, in o link)"),
    ("arguments swapped",
     '<arg type="s" name="path" direction="in"/>\n      <arg type="a{sv}" name="options" direction="in"/>',
     '<arg type="a{sv}" name="options" direction="in"/>\n      <arg type="s" name="path" direction="in"/>',
     "org.bpfd.Manager", "method LoadFromPath(in a{sv} options, in s path,"),
    ("method added",
     '<method name="Unload"/>', '<method name="Unload"/>\n    <method name="Pin"/>',
     "org.bpfd.Program", "method Pin()"),
    ("method annotation added",
     '<method name="Detach"/>',
     '<method name="Detach">\n      <annotation name="org.freedesktop.DBus.Method.NoReply" value="true"/>\n'
     '    </method>',
     "org.bpfd.Link", 'method Detach @org.freedesktop.DBus.Method.NoReply = "true"'),
    ("signal added",
     '<interface name="org.bpfd.Link">',
     '<interface name="org.bpfd.Link">\n    <signal name="Detached"><arg type="u" name="id"/></signal>',
     "org.bpfd.Link", "signal Detached(out u id)"),
    ("property type changed",
     '<property name="ProgramCount" type="u" access="read"/>',
     '<property name="ProgramCount" type="t" access="read"/>',
     "org.bpfd.Manager", "property ProgramCount t read"),
    ("property access changed",
     '<property name="LinkCount" type="u" access="read"/>',
     '<property name="LinkCount" type="u" access="readwrite"/>',
     "org.bpfd.Manager", "property LinkCount u readwrite"),
    ("property annotation value changed",
     '<property name="StatsEnabled" type="b" access="read">\n'
     '      <annotation name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="false"/>',
     '<property name="StatsEnabled" type="b" access="read">\n'
     '      <annotation name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="true"/>',
     "org.bpfd.Manager", 'property StatsEnabled @org.freedesktop.DBus.Property.EmitsChangedSignal = "true"'),
    ("property removed",
     '<property name="PinPath" type="s" access="read">\n'
     '      <annotation name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="const"/>\n'
     '    </property>\n  </interface>\n\n  <!--',
     '  </interface>\n\n  <!--',
     "org.bpfd.Link", "property PinPath s read"),
]


def test_checker_fails_on_modified_contract():
    prog, docs = _live_documents()
    try:
        with open(CONTRACT) as f:
            contract = f.read()
        d = _tmpdir()
        lives = {iface: _write(d, f"live-{iface}.xml", xml) for iface, xml in docs.items()}
        for what, old, new, iface, expect in MUTATIONS:
            assert contract.count(old) == 1, f"{what}: the contract changed, update the test ({old!r})"
            bad = _write(d, "contract-modified.xml", contract.replace(old, new))
            p = _check(bad, lives[iface], iface)
            assert p.returncode == 1, f"{what}: the checker did not fail (exit {p.returncode}):\n" \
                                      f"{p.stdout}{p.stderr}"
            assert expect in p.stdout, f"{what}: {expect!r} not in the report:\n{p.stdout}"
            assert f"interface {iface}:" in p.stdout, p.stdout
            # The contract's side is marked -, the daemon's +; one line each at most.
            marked = [line for line in p.stdout.splitlines() if line.startswith(("  - ", "  + "))]
            assert 1 <= len(marked) <= 2, f"{what}: unexpected report:\n{p.stdout}"
    finally:
        _unload(prog)


def test_checker_missing_interface_and_errors():
    d = _tmpdir()
    other = _write(d, "other.xml", '<node><interface name="org.freedesktop.DBus.Peer">'
                                   '<method name="Ping"/></interface></node>')
    p = _check(CONTRACT, other, "org.bpfd.Manager")
    assert p.returncode == 1 and "missing from" in p.stdout, (p.returncode, p.stdout, p.stderr)
    p = _check(CONTRACT, _write(d, "broken.xml", "<node><interface"))
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    p = lib.run([CHECKER, CONTRACT], check=False)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
