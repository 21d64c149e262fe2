# SPDX-License-Identifier: LGPL-2.1-or-later
"""busctl-examples/*.sh work against the live daemon, with busctl and with gdbus.

Every script is run in a sequence that loads, lists, attaches, detaches and
unloads, and each step's effect is checked through bpfctl.
"""

import glob
import os
import re

import lib

EXAMPLES_DIR = os.path.join(lib.SRC_DIR, "busctl-examples")
OBJECT = lib.bpf_obj("tracepoint_counter")
PROGRAM_PREFIX = f"{lib.MANAGER_PATH}/program/"
LINK_PREFIX = f"{lib.MANAGER_PATH}/link/"


# The scripts for images, which need a registry: test_image_examples.
IMAGE_SCRIPTS = {"list-images.sh", "pull-image.sh", "load-from-image.sh", "remove-image.sh"}


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
                  "BPFD_EXAMPLE_TRACEPOINT", "BPFD_EXAMPLE_KIND", "BPFD_EXAMPLE_OBJECT_PATH", "BPFD_EXAMPLE_MAP",
                  "BPFD_EXAMPLE_IMAGE", "BPFD_EXAMPLE_PULL_POLICY"):
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

    _maps_lists_and_stats(ex)

    missing = _all_scripts() - IMAGE_SCRIPTS - ex.ran
    assert not missing, f"scripts not exercised: {sorted(missing)}"


def _value_hex(text):
    """The bytes of MapLookup's answer as hex: busctl's "ay 8 42 0 ..." or gdbus's ([byte 0x2a, ...],)."""
    if text.startswith("ay "):
        words = text.split()
        return "".join(f"{int(b):02x}" for b in words[2:2 + int(words[1])])
    return "".join(re.findall(r"0x([0-9a-f]{2})", text))


def _maps_lists_and_stats(ex):
    """The Program's map methods on a loaded program's maps (an array and a hash map), the lists of
    interfaces and specs, and the statistics."""
    p = ex.run("load-from-path.sh", OBJECT, "count_getpid")
    (prog,) = _ids_in(_call_output(p), PROGRAM_PREFIX)
    out = _call_output(ex.run("map-info.sh"))
    assert "array" in out and "key_size" in out, out
    ex.run("map-update.sh", str(prog), "counter", "01000000", "2a00000000000000")
    assert _value_hex(_call_output(ex.run("map-lookup.sh", str(prog), "counter", "01000000"))) == "2a00000000000000"
    assert lib.bpfctl("map", "get", str(prog), "counter", "u32:1").stdout.strip() == "42"
    out = _call_output(ex.run("map-dump.sh", str(prog)))
    assert re.search(r"\b8 42 0 0 0 0 0 0 0\b|\[(byte )?0x2a, 0x00,", out), out
    # a wrong key size and an array entry: bpfd says why, the script fails
    p = ex.run("map-lookup.sh", str(prog), "counter", "0100", check=False)
    assert p.returncode != 0 and "4 bytes" in p.stderr, p.stderr
    p = ex.run("map-delete.sh", str(prog), check=False)
    assert p.returncode != 0 and "cannot be deleted" in p.stderr, p.stderr
    ex.run("unload.sh", str(prog))

    p = ex.run("load-from-path.sh", lib.bpf_obj("hash_map"), "", BPFD_EXAMPLE_OBJECT=lib.bpf_obj("hash_map"))
    (prog,) = _ids_in(_call_output(p), PROGRAM_PREFIX)
    ex.run("map-update.sh", str(prog), "entries", "07000000", "0500000000000000", "1")
    assert lib.bpfctl("map", "get", str(prog), "entries", "u32:7").stdout.strip() == "5"
    p = ex.run("map-update.sh", str(prog), "entries", "07000000", "0600000000000000", "1", check=False)
    assert p.returncode != 0, p.stdout    # only create: the key is there
    ex.run("map-delete.sh", str(prog), "entries", "07000000")
    p = ex.run("map-lookup.sh", str(prog), "entries", "07000000", check=False)
    assert p.returncode != 0 and "no entry" in p.stderr, p.stderr
    ex.run("unload.sh", str(prog))

    out = _call_output(ex.run("list-interfaces.sh"))
    assert "lo" in out and "/org/bpfd/Manager/interface/lo" in out, out
    ex.run("apply-spec.sh", "listed")
    out = _call_output(ex.run("list-specs.sh"))
    assert f"{lib.MANAGER_PATH}/spec/listed" in out and "Applied" in out, out
    ex.run("remove-spec.sh", "listed")

    ex.run("stats.sh", "on")
    assert lib.busctl("get-property", "org.bpfd", lib.MANAGER_PATH, "org.bpfd.Manager",
                      "StatsEnabled").stdout.strip() == "b true"
    out = ex.run("stats.sh", "off").stdout
    assert lib.busctl("get-property", "org.bpfd", lib.MANAGER_PATH, "org.bpfd.Manager",
                      "StatsEnabled").stdout.strip() == "b false"
    assert "Manager.SetStatsEnabled" in out and "Program.MapUpdate" in out, out
    assert _programs() == {}


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


def _image_examples(tool):
    """pull-image.sh, list-images.sh, load-from-image.sh and remove-image.sh against a registry on 127.0.0.1
    that the daemon's registries.conf names, with a signed image."""
    from test_image import new_key, push, registry, scratch, sign, write_config
    from test_image_load import daemon_with_images

    with registry() as reg:
        digest = push(reg, "v1")
        config = write_config(reg, require_signature=True, keys=[sign(reg, digest, new_key())])
        ref = reg.ref("v1")
        with daemon_with_images(config, scratch()):
            ex = Examples(tool)
            assert "digest" not in _call_output(ex.run("list-images.sh"))
            out = _call_output(ex.run("pull-image.sh", ref))
            assert digest in out and "count_getpid" in out, out
            out = _call_output(ex.run("list-images.sh"))
            assert ref in out and digest in out, out
            p = ex.run("load-from-image.sh", ref, "count_getpid", "syscalls/sys_enter_getpid",
                       BPFD_EXAMPLE_PULL_POLICY="Never")
            (prog,) = _ids_in(_call_output(p), PROGRAM_PREFIX)
            (link,) = _ids_in(_call_output(p), LINK_PREFIX)
            got = lib.bpfctl("--json", "get", str(prog)).json
            assert got["image_reference"] == ref and got["image_digest"] == digest, got
            assert _links()[link]["program_id"] == prog
            ex.run("remove-image.sh", ref)
            assert ref not in _call_output(ex.run("list-images.sh"))
            assert prog in _programs(), "a program loaded from an image stays when the image goes"
            p = ex.run("remove-image.sh", ref, check=False)
            assert p.returncode != 0 and "not cached" in p.stderr, p.stderr
            p = ex.run("pull-image.sh", check=False)
            assert p.returncode != 0 and "no image reference" in p.stderr, p.stderr
            ex.run("unload.sh", str(prog))
            assert ex.ran == IMAGE_SCRIPTS | {"unload.sh"}, ex.ran


def test_image_examples_with_busctl():
    _image_examples("busctl")


def test_image_examples_with_gdbus():
    _image_examples("gdbus")
