# SPDX-License-Identifier: LGPL-2.1-or-later
"""Metadata keys bpfd.* are bpfd's own: bpfd.spec and bpfd.spec.object say which spec made a program (bpfctl list
shows it; a restarted bpfd unloads the programs of an interrupted apply by them). A load over the bus may not
claim them, whoever makes it; spec files may not either (test_spec)."""

import lib


def _program_ids():
    return {p["id"] for p in lib.bpfctl("--json", "list").json or []}


def test_loads_cannot_claim_a_spec():
    lib.ensure_daemon()
    path = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    before = _program_ids()
    for user in (lib.ALICE, None):
        for key in ("bpfd.spec", "bpfd.spec.object"):
            p = lib.run(["gdbus", "call", "--system", "--dest", lib.BUS_NAME, "--object-path", lib.MANAGER_PATH,
                         "--method", f"{lib.MANAGER_IFACE}.LoadFromPath", path,
                         f"{{'programs': <['count_getpid']>, 'metadata': <{{'{key}': 'edge', 'team': 'x'}}>}}"],
                        user=user, check=False)
            assert p.returncode != 0 and "org.bpfd.Error.InvalidArgument" in p.stderr and "bpfd." in p.stderr, \
                f"{user or 'root'} loaded a program claiming {key}=edge:\n{p.stdout}{p.stderr}"
    new = _program_ids() - before
    for i in new:
        lib.bpfctl("unload", str(i), check=False)
    assert not new
    # Other keys stay the caller's.
    p = lib.bpfctl("--json", "load", path, "-p", "count_getpid", "-m", "team=net", "tracepoint", user=lib.ALICE)
    prog = p.json["programs"][0]
    try:
        assert dict(prog.get("metadata") or {}).get("team") == "net", prog
    finally:
        lib.unload(prog["id"])
