# SPDX-License-Identifier: LGPL-2.1-or-later
"""bash completion of bpfctl (completion/bpfctl.bash), driven by a scripted bash as bash-completion
would call it: commands, options, kinds, option values, interfaces, tracepoints, the functions of an
object file, and the ids of the programs, links and maps of the running daemon."""

import os
import subprocess

import lib

SCRIPT = os.path.join(lib.SRC_DIR, "completion", "bpfctl.bash")
DRIVER = r"""
. /usr/share/bash-completion/bash_completion
. "$1"
shift
for line in "$@"; do
        COMP_LINE=$line COMP_POINT=${#line}
        read -ra COMP_WORDS <<< "$line"
        [[ $line == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        COMPREPLY=()
        _bpfctl bpfctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
        printf '%s\n' "${COMPREPLY[@]}" | sort -u | tr '\n' ' '
        echo
done
"""


def complete(*lines):
    """The completions of each command line (ending where the cursor is), as sets."""
    env = dict(os.environ, PATH=os.path.dirname(lib.BPFCTL) + ":" + os.environ["PATH"])
    p = subprocess.run(["bash", "-c", DRIVER, "driver", SCRIPT, *lines], capture_output=True, text=True,
                       env=env, timeout=60, cwd=lib.BUILD_DIR)
    assert p.returncode == 0, p.stderr
    out = p.stdout.split("\n")[:len(lines)]
    return [set(o.split()) for o in out]


def test_commands_options_and_values():
    (commands, lo, options, kinds, directions, modes, policies, attach_types, common, kind_filter) = complete(
        "bpfctl ", "bpfctl lo", "bpfctl load x.o --", "bpfctl load x.o ", "bpfctl load x.o tcx --direction ",
        "bpfctl load x.o xdp --mode ", "bpfctl image pull r --pull-policy ",
        "bpfctl attach 1 cgroup --attach-type egr", "bpfctl --js", "bpfctl list --kind tc")
    assert {"load", "attach", "detach", "unload", "list", "get", "interface", "status", "map", "image", "apply",
            "remove-spec"} <= commands
    assert lo == {"load"}
    assert {"--program", "--global", "--metadata", "--by-path", "--map-owner-id", "--iface", "--tracepoint",
            "--quiet", "--json"} <= options, options
    assert {"tracepoint", "uprobe", "xdp", "tc", "tcx", "cgroup"} <= kinds, kinds
    assert directions == {"ingress", "egress"} and modes == {"native", "skb", "hw"}
    assert policies == {"Always", "IfNotPresent", "Never"}
    assert attach_types == {"egress"} and common == {"--json"} and kind_filter == {"tc", "tcx"}


def test_files_functions_interfaces_and_tracepoints():
    examples = os.path.join(lib.BUILD_DIR, "examples")
    obj = lib.bpf_obj("tracepoint_counter")
    files, functions, ifaces, tracepoints, subcommands = complete(
        f"bpfctl load {examples}/", f"bpfctl load {obj} -p ", "bpfctl attach 7 xdp --iface l",
        "bpfctl attach 7 tracepoint --tracepoint syscalls/sys_enter_getp", "bpfctl list ")
    assert f"{examples}/counter.bpf.o" in files and f"{examples}/xdp_count.bpf.o" in files, files
    assert not any(f.endswith(".c") for f in files), files
    assert functions == {"count_getpid", "count_getppid"}, functions
    assert "lo" in ifaces, ifaces
    assert tracepoints == {"syscalls/sys_enter_getpid", "syscalls/sys_enter_getppid", "syscalls/sys_enter_getpgid",
                           "syscalls/sys_enter_getpgrp", "syscalls/sys_enter_getpeername",
                           "syscalls/sys_enter_getpriority"}, tracepoints
    assert subcommands == {"programs", "links", "interfaces", "specs"}


def test_ids_from_the_running_daemon():
    lib.ensure_daemon()
    p = lib.bpfctl("--json", "load", lib.bpf_obj("tracepoint_counter"), "-p", "count_getpid", "tracepoint")
    prog, link = p.json["programs"][0]["id"], p.json["links"][0]["id"]
    try:
        attach, detach, unload, maps, get_link, map_verbs = complete(
            "bpfctl attach ", "bpfctl detach ", "bpfctl unload ", f"bpfctl map dump {prog} ", "bpfctl get link ",
            "bpfctl map ")
        assert str(prog) in attach and str(prog) in unload, (attach, unload)
        assert str(link) in detach and str(link) in get_link, (detach, get_link)
        assert "counter" in maps and all(m.startswith(("counter", "tracepoi.")) for m in maps), maps
        assert map_verbs == {"dump", "get", "set", "delete", "info"}
        assert str(link) not in unload and str(prog) not in detach or prog == link
    finally:
        lib.bpfctl("-q", "unload", str(prog))
    (after,) = complete("bpfctl unload ")
    assert str(prog) not in after


def test_options_fit_what_is_typed():
    """After a kind only that kind's options (and --pull-policy only for images); each list only its own
    options; a comma-separated --proceed-on keeps the actions already typed."""
    (tracepoint, tcx_attach, image_xdp, file_any, specs, links, programs, proceed, proceed_dr) = complete(
        "bpfctl load x.o tracepoint --", "bpfctl attach 7 tcx --", "bpfctl load image r/x:y xdp --",
        "bpfctl load x.o --", "bpfctl list specs --", "bpfctl list links --", "bpfctl list --",
        "bpfctl load x.o xdp --proceed-on pass,", "bpfctl load x.o xdp --proceed-on pass,dr")
    assert "--tracepoint" in tracepoint and not {"--iface", "--target", "--pull-policy"} & tracepoint, tracepoint
    assert {"--iface", "--direction", "--priority"} <= tcx_attach and "--tracepoint" not in tcx_attach, tcx_attach
    assert {"--iface", "--mode", "--pull-policy"} <= image_xdp and "--direction" not in image_xdp, image_xdp
    assert {"--tracepoint", "--iface", "--program"} <= file_any and "--pull-policy" not in file_any, file_any
    assert not {"--all", "--kind", "--owner", "--program"} & specs, specs
    assert "--program" in links and not {"--all", "--kind"} & links, links
    assert {"--all", "--kind", "--owner"} <= programs and "--program" not in programs, programs
    assert {"pass,drop", "pass,dispatcher_return"} <= proceed and "drop" not in proceed, proceed
    assert proceed_dr == {"pass,drop"}, proceed_dr
