# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a new user reads agrees with itself and with bpfctl: every option a command's --help names is in
bpfctl --help, in bpfctl(1) and in the bash completion; every list bpfctl has is in 'list --help' and in its
error for an unknown list; and the EXIT STATUS of bpfctl --help and of bpfctl(1) names every org.bpfd.Error
of common/bpfd-error.c under the status bpfctl gives it; README's install command names every package the
build needs."""

import os
import re
import shlex
import shutil

import lib
import test_man

COMMANDS = ("load", "attach", "detach", "unload", "list", "get", "interface", "status", "map", "image", "apply",
            "remove-spec")
OPTION = r"(?<![\w-])(--[a-z][a-z-]+)"


def _help(*args):
    return lib.bpfctl(*args, "--help").stdout


def test_every_command_option_is_in_help_man_and_completion():
    main_help = _help()
    man = test_man.rendered("bpfctl")
    with open(os.path.join(lib.SRC_DIR, "completion", "bpfctl.bash")) as f:
        completion = f.read()
    missing = []
    for command in COMMANDS:
        for option in sorted(set(re.findall(OPTION, _help(command)))):
            for where, text in (("bpfctl --help", main_help), ("bpfctl(1)", man), ("completion", completion)):
                if not re.search(rf"(?<![\w-]){option}(?![\w-])", text):
                    missing.append(f"{where} lacks {option} of '{command}'")
    assert not missing, "\n".join(missing)
    # the short forms too
    for short, long in (("-q", "--quiet"), ("-p", "--program"), ("-g", "--global"), ("-m", "--metadata")):
        assert re.search(rf"{short}, {long}\b", main_help), f"bpfctl --help lacks {short}, {long}"


def test_every_list_is_in_list_help_and_its_error():
    lib.ensure_daemon()
    usage = _help("list").split("\n\n", 1)[0]
    p = lib.bpfctl("list", "bogus", check=False)
    assert p.returncode == 2, p.stderr
    for what in ("programs", "links", "interfaces", "specs"):
        lib.bpfctl("list", what)
        assert re.search(rf"list \[?{what}\b", usage), f"'list --help' lacks 'list {what}':\n{usage}"
        assert what in p.stderr, f"the error for an unknown list does not offer {what}: {p.stderr}"


def _statuses():
    """{short error name: exit status} of bpfd's own errors, from common/bpfd-error.{h,c}."""
    with open(os.path.join(lib.SRC_DIR, "common", "bpfd-error.h")) as f:
        numbers = {m.group(1): int(m.group(2)) for m in re.finditer(r"(EXIT_STATUS_\w+) = (\d+)", f.read())}
    with open(os.path.join(lib.SRC_DIR, "common", "bpfd-error.c")) as f:
        table = re.findall(r'"org\.bpfd\.Error\.(\w+)",\s*\w+,\s*(EXIT_STATUS_\w+)', f.read())
    assert len(table) >= 20 and len(numbers) >= 10, (table, numbers)
    return {name: numbers[status] for name, status in table}


def _sections(text, status_line):
    """{status: the text under it} of an EXIT STATUS section whose lines each status starts."""
    sections, current = {}, None
    for line in text.splitlines():
        m = re.match(status_line, line)
        if m:
            current = int(m.group(1))
            sections[current] = line[m.end():]
        elif current is not None and line.strip():
            sections[current] += " " + line.strip()
    return sections


def test_exit_status_names_every_error():
    statuses = _statuses()
    main_help = _help().split("EXIT STATUS", 1)[1].split("ENVIRONMENT", 1)[0]
    man = test_man.rendered("bpfctl").split("EXIT STATUS", 1)[1].split("ENVIRONMENT", 1)[0]
    wrong = []
    for where, sections in (("bpfctl --help", _sections(main_help, r"^  (\d+)\s")),
                            ("bpfctl(1)", _sections(man, r"^\s+(\d+)\s*$"))):
        assert set(range(11)) <= set(sections), (where, sorted(sections))
        for name, status in statuses.items():
            under = [s for s, text in sections.items() if re.search(rf"\b{name}\b", text)]
            if under != [status]:
                wrong.append(f"{where}: {name} is under {under or 'no status'}, bpfctl exits {status}")
    assert not wrong, "\n".join(wrong)


def test_readme_install_names_every_build_dependency():
    """README's install command names the package of every library and program the build requires (this
    machine has them all, so a missing one would only show on a fresh one): the owner of each required
    dependency's pkg-config file, and of each program meson finds."""
    from test_install import readme_block
    words = shlex.split(readme_block("Installing")[0])
    named = {w.partition("/")[0] for w in words[words.index("--no-install-recommends") + 1:]}
    wanted = {}
    for root, _, files in os.walk(lib.SRC_DIR):
        if "meson.build" not in files or any(part in root for part in ("/tests", "/fuzz", "/build", "/.git")):
            continue
        with open(os.path.join(root, "meson.build")) as f:
            text = f.read()
        for name, rest in re.findall(r"dependency\('([\w.+-]+)'([^)]*)\)", text):
            if name != "threads" and "required" not in rest:
                path = lib.run(["pkg-config", "--path", name]).stdout.strip()
                wanted[name] = lib.run(["dpkg", "-S", path]).stdout.split(":")[0]
        for name, rest in re.findall(r"find_program\('([\w.+-]+)'([^)]*)\)", text):
            path = os.path.realpath(shutil.which(name))
            wanted[name] = lib.run(["dpkg", "-S", path]).stdout.split(":")[0]
    assert len(wanted) >= 14, wanted
    missing = sorted(f"{package} (for {name})" for name, package in wanted.items()
                     if package not in named and not (package.startswith("clang-") and "clang" in named))
    assert not missing, f"README's install command lacks {missing}"


def test_apply_exit_statuses_as_its_help_says():
    """'apply --help': 5 for a FILE bpfctl cannot read, 9 for one that is no valid spec, 4 for remove-spec
    of an unknown spec."""
    lib.ensure_daemon()
    text = " ".join(_help("apply").split())
    assert "5 if bpfctl cannot read a FILE, 9 if it is no valid spec" in text, text
    d = os.environ.get("BPFD_TEST_TMPDIR") or "/tmp"
    bad = os.path.join(d, "not-a-spec.conf")
    with open(bad, "w") as f:
        f.write("[Spec]\nNoSuchKey=1\n")
    try:
        assert lib.bpfctl("apply", os.path.join(d, "missing.conf"), check=False).returncode == 5
        p = lib.bpfctl("apply", bad, check=False)
        assert p.returncode == 9 and "NoSuchKey" in p.stderr, (p.returncode, p.stderr)
        assert lib.bpfctl("remove-spec", "no-such-spec", check=False).returncode == 4
    finally:
        os.unlink(bad)
