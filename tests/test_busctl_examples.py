# SPDX-License-Identifier: LGPL-2.1-or-later
"""busctl-examples/*.sh work against the live daemon, with busctl and with gdbus.

Every script is run in a sequence that loads, lists, attaches, detaches and
unloads, and each step's effect is checked through bpfctl.
"""

import glob
import os

import lib

EXAMPLES_DIR = os.path.join(lib.SRC_DIR, "busctl-examples")
OBJECT = lib.bpf_obj("tracepoint_counter")
PROGRAM_PREFIX = f"{lib.MANAGER_PATH}/program/"
LINK_PREFIX = f"{lib.MANAGER_PATH}/link/"


def _all_scripts():
    return {os.path.basename(p) for p in glob.glob(os.path.join(EXAMPLES_DIR, "*.sh"))} - {"common.sh"}


class Examples:
    """Runs the scripts with one tool and remembers which ran."""

    def __init__(self, tool):
        self.tool = tool
        self.ran = set()

    def run(self, script, *args, check=True, **env):
        e = dict(os.environ, BPFD_EXAMPLE_TOOL=self.tool, BPFD_EXAMPLE_OBJECT=OBJECT)
        for k in ("BPFD_EXAMPLE_PROGRAM", "BPFD_EXAMPLE_PROGRAM_ID", "BPFD_EXAMPLE_LINK_ID",
                  "BPFD_EXAMPLE_TRACEPOINT", "BPFD_EXAMPLE_KIND", "BPFD_EXAMPLE_OBJECT_PATH"):
            e.pop(k, None)
        e.update(env)
        path = os.path.join(EXAMPLES_DIR, script)
        p = lib.run([path, *args], env=e, check=False, cwd="/")
        if check and p.returncode != 0:
            raise AssertionError(f"{script} {' '.join(args)} ({self.tool}) failed with {p.returncode}:\n"
                                 f"{p.stdout}\n{p.stderr}")
        # Every script says what it does and shows the command it runs.
        if check:
            assert p.stdout.startswith("# "), f"{script} did not say what it does:\n{p.stdout}"
            assert "\n$ " in p.stdout, f"{script} did not show its command:\n{p.stdout}"
        self.ran.add(script)
        return p


def _ids_in(text, prefix):
    """Ids of the object paths PREFIX<ID> in TEXT, in order of appearance."""
    ids = []
    for part in text.split(prefix)[1:]:
        digits = ""
        for ch in part:
            if not ch.isdigit():
                break
            digits += ch
        if digits and int(digits) not in ids:
            ids.append(int(digits))
    return ids


def _call_output(p):
    """The part of a script's output after its command line (the tool's answer)."""
    return p.stdout.split("\n$ ", 1)[1].split("\n", 1)[1] if "\n$ " in p.stdout else p.stdout


def _programs():
    return {p["id"]: p for p in (lib.bpfctl("--json", "list").json or [])}


def _links():
    return {link["id"]: link for link in (lib.bpfctl("--json", "list", "links").json or [])}


def _clean():
    lib.ensure_daemon()
    ids = [str(i) for i in _programs()]
    if ids:
        lib.bpfctl("unload", *ids)


def _sequence(tool):
    _clean()
    ex = Examples(tool)

    # Load by path: the program is listed, from that path.
    p = ex.run("load-from-path.sh")
    (prog1,) = _ids_in(_call_output(p), PROGRAM_PREFIX)
    progs = _programs()
    assert prog1 in progs, f"load-from-path.sh: program {prog1} not listed"
    assert progs[prog1]["name"] == "count_getpid" and progs[prog1]["source"] == OBJECT, progs[prog1]
    assert _links() == {}

    # Load from an fd (always gdbus): the source says fd:.
    p = ex.run("load-from-fd.sh", OBJECT, "count_getppid")
    (prog2,) = _ids_in(_call_output(p), PROGRAM_PREFIX)
    progs = _programs()
    assert prog2 in progs and progs[prog2]["name"] == "count_getppid", progs
    assert progs[prog2]["source"].startswith("fd:"), progs[prog2]

    # Listing.
    out = _call_output(ex.run("list-programs.sh"))
    assert set(_ids_in(out, PROGRAM_PREFIX)) == {prog1, prog2}, out
    out = _call_output(ex.run("list-programs.sh", "tracepoint"))
    assert set(_ids_in(out, PROGRAM_PREFIX)) == {prog1, prog2}, out
    out = _call_output(ex.run("list-programs.sh", BPFD_EXAMPLE_KIND="uprobe"))
    assert _ids_in(out, PROGRAM_PREFIX) == [], out
    out = _call_output(ex.run("list-all.sh"))
    assert {prog1, prog2} <= set(_ids_in(out, PROGRAM_PREFIX)), out
    out = _call_output(ex.run("get-program.sh", str(prog1)))
    assert "count_getpid" in out and f"{PROGRAM_PREFIX}{prog1}" in out, out
    # Default: the newest program.
    out = _call_output(ex.run("get-program.sh"))
    assert "count_getppid" in out, out

    # Attach through the Manager (the newest program by default) and through the program object.
    out = _call_output(ex.run("attach.sh", BPFD_EXAMPLE_PROGRAM_ID=str(prog1)))
    (link1,) = _ids_in(out, LINK_PREFIX)
    out = _call_output(ex.run("program-attach.sh", str(prog2), "syscalls/sys_enter_getppid"))
    (link2,) = _ids_in(out, LINK_PREFIX)
    links = _links()
    assert links[link1]["program_id"] == prog1, links
    assert links[link1]["attach_point"] == "tracepoint syscalls/sys_enter_getpid", links[link1]
    assert links[link2]["program_id"] == prog2, links
    assert links[link2]["attach_point"] == "tracepoint syscalls/sys_enter_getppid", links[link2]

    out = _call_output(ex.run("list-links.sh"))
    assert set(_ids_in(out, LINK_PREFIX)) == {link1, link2}, out
    out = _call_output(ex.run("list-links.sh", str(prog2)))
    assert _ids_in(out, LINK_PREFIX) == [link2], out
    out = _call_output(ex.run("get-link.sh", str(link1)))
    assert "syscalls/sys_enter_getpid" in out, out

    # Properties of each kind of object.
    out = ex.run("properties.sh").stdout
    assert "SupportedKinds" in out and "Version" in out, out
    out = ex.run("properties.sh", f"{PROGRAM_PREFIX}{prog1}").stdout
    assert "OwnerUid" in out and "count_getpid" in out, out
    out = ex.run("properties.sh", BPFD_EXAMPLE_OBJECT_PATH=f"{LINK_PREFIX}{link2}").stdout
    assert "AttachPoint" in out and "syscalls/sys_enter_getppid" in out, out

    # Detach through the Manager and through the link object: programs stay.
    ex.run("detach.sh", str(link1))
    assert link1 not in _links() and prog1 in _programs()
    ex.run("link-detach.sh")   # the newest link: link2
    assert _links() == {}, _links()
    assert set(_programs()) == {prog1, prog2}

    # Unload through the Manager and through the program object.
    ex.run("unload.sh", str(prog1))
    assert set(_programs()) == {prog2}
    ex.run("program-unload.sh", BPFD_EXAMPLE_PROGRAM_ID=str(prog2))
    assert _programs() == {}

    # Load and attach in one call; unloading removes the link too.
    p = ex.run("load-from-path.sh", OBJECT, "count_getppid", "syscalls/sys_enter_getppid")
    (prog3,) = _ids_in(_call_output(p), PROGRAM_PREFIX)
    (link3,) = _ids_in(_call_output(p), LINK_PREFIX)
    assert _links()[link3]["program_id"] == prog3
    ex.run("unload.sh")   # the newest program: prog3
    assert _programs() == {} and _links() == {}

    # Failures exit non-zero: nothing to unload, a bad id, a missing object.
    for script, args in (("unload.sh", ()), ("detach.sh", ()), ("get-program.sh", ("notanumber",)),
                         ("unload.sh", (str(prog3),)), ("get-link.sh", (str(link3),)),
                         ("load-from-path.sh", ("/nonexistent/x.bpf.o",))):
        p = ex.run(script, *args, check=False)
        assert p.returncode != 0, f"{script} {args} succeeded:\n{p.stdout}"
        assert p.stderr.strip(), f"{script} {args} failed silently"

    # Specs: apply, apply again (nothing changes), the status, remove.
    p = ex.run("apply-spec.sh", "example")
    assert f"{lib.MANAGER_PATH}/spec/example" in _call_output(p), p.stdout
    (spec_prog,) = _programs()
    assert _programs()[spec_prog]["name"] == "count_getpid"
    (spec_link,) = _links()
    ex.run("apply-spec.sh", "example")
    assert set(_programs()) == {spec_prog} and set(_links()) == {spec_link}
    out = _call_output(ex.run("spec-status.sh", "example"))
    assert "Applied" in out and str(spec_prog) in out and str(spec_link) in out, out
    ex.run("remove-spec.sh", "example")
    assert _programs() == {} and _links() == {}
    p = ex.run("remove-spec.sh", "example", check=False)
    assert p.returncode != 0 and p.stderr.strip(), p.stdout

    missing = _all_scripts() - ex.ran
    assert not missing, f"scripts not exercised: {sorted(missing)}"


def test_readme_lists_every_script():
    with open(os.path.join(EXAMPLES_DIR, "README.md")) as f:
        readme = f.read()
    missing = [s for s in sorted(_all_scripts()) if s not in readme]
    assert not missing, f"README.md does not mention {missing}"
    for s in _all_scripts():
        assert os.access(os.path.join(EXAMPLES_DIR, s), os.X_OK), f"{s} is not executable"


def test_examples_with_busctl():
    _sequence("busctl")


def test_examples_with_gdbus():
    _sequence("gdbus")
