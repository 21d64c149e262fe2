# SPDX-License-Identifier: LGPL-2.1-or-later
"""Specs (bpfd.spec(5)): programs declared in key files and applied idempotently through ApplySpec and
RemoveSpec, through the real bus, polkitd and kernel. Apply, re-apply (nothing changes), change one target
(only its link changes), remove; the spec directory at start, with a failing spec next to a good one; a spec
waiting for an interface that appears later; kill -9 at fixed points of an apply leaves the old or the new
state; polkit asks about each program the spec loads."""

import json
import os
import signal
import subprocess
import tempfile
import time

import lib

TP_OBJ = lib.bpf_obj("tracepoint_counter")
TCX_OBJ = lib.bpf_obj("tcx_counter")
SPEC_PREFIX = lib.MANAGER_PATH + "/spec/"


def spec_path(name):
    # sd_bus_path_encode: letters and digits stay, anything else is _XX
    return SPEC_PREFIX + "".join(c if c.isalnum() else "_%02x" % ord(c) for c in name)


def write_spec(directory, name, text, mode=0o644):
    path = os.path.join(directory, name + ".conf")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def tmpdir():
    d = tempfile.mkdtemp(prefix="spec-", dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")
    os.chmod(d, 0o755)
    return d


def counters_spec(obj=TP_OBJ, ppid_tracepoint="syscalls/sys_enter_getppid"):
    return f"""[Spec]
Description=test counters

[Object counters]
Path={obj}
Programs=count_getpid;count_getppid
Metadata=app=spec-test

[Attach getpid]
Program=count_getpid
Tracepoint=syscalls/sys_enter_getpid

[Attach getppid]
Program=count_getppid
Kind=tracepoint
Tracepoint={ppid_tracepoint}
"""


def spec_props(name):
    """The org.bpfd.Spec properties of spec NAME (plain values), or None if there is no such object."""
    p = lib.busctl("--json=short", "call", lib.BUS_NAME, spec_path(name), "org.freedesktop.DBus.Properties",
                   "GetAll", "s", "org.bpfd.Spec", check=False)
    if p.returncode != 0:
        return None
    return {k: v["data"] for k, v in json.loads(p.stdout)["data"][0].items()}


def apply(path, *args, user=None, check=True):
    return lib.bpfctl("--json", "apply", path, *args, user=user, check=check)


def remove_spec(name):
    lib.bpfctl("remove-spec", name, check=False)


def programs_of_spec(name):
    return [p for p in lib.bpfctl("--json", "list").json or []
            if dict(p.get("metadata") or {}).get("bpfd.spec") == name]


def metadata_of(prog):
    md = prog.get("metadata") or {}
    return dict(md) if not isinstance(md, dict) else md


# ---- tests ----

def test_apply_reapply_change_remove():
    lib.ensure_daemon()
    d = tmpdir()
    path = write_spec(d, "counters", counters_spec())
    try:
        first = apply(path).json
        assert first["Status"] == "Applied" and first["Error"] == "" and first["Name"] == "counters", first
        assert len(first["Programs"]) == 2 and len(first["Links"]) == 2, first
        assert first["Description"] == "test counters"
        progs = {p["id"]: p for p in lib.bpfctl("--json", "list").json}
        for pid in first["Programs"]:
            md = metadata_of(progs[pid])
            assert md.get("bpfd.spec") == "counters" and md.get("bpfd.spec.object") == "counters", md
            assert md.get("app") == "spec-test", md
        links = lib.kernel_links()
        assert all(l in links for l in first["Links"]), (first, sorted(links))
        load_times = {pid: progs[pid]["load_time"] for pid in first["Programs"]} if "load_time" in \
            progs[first["Programs"][0]] else None

        # Applying the same spec again changes nothing: same ids, same generation.
        again = apply(path).json
        assert again["Programs"] == first["Programs"] and again["Links"] == first["Links"], (first, again)
        assert again["Generation"] == first["Generation"], (first, again)
        if load_times:
            progs = {p["id"]: p for p in lib.bpfctl("--json", "list").json}
            assert {pid: progs[pid]["load_time"] for pid in again["Programs"]} == load_times
        # bpfctl apply --dir, in text: one line per spec with its status and ids.
        text = lib.bpfctl("apply", "--dir", d).stdout
        want = "counters: Applied, programs %d %d, links %d %d" % (*first["Programs"], *first["Links"])
        assert text.strip() == want, (text, want)

        # Changing one attach target touches only that link.
        write_spec(d, "counters", counters_spec(ppid_tracepoint="syscalls/sys_enter_gettid"))
        changed = apply(path).json
        assert changed["Status"] == "Applied", changed
        assert changed["Programs"] == first["Programs"], (first, changed)
        assert changed["Links"][0] == first["Links"][0], (first, changed)
        assert changed["Links"][1] != first["Links"][1], (first, changed)
        assert changed["Generation"] == first["Generation"] + 1
        lib.wait_link_gone(first["Links"][1])
        link = lib.bpfctl("--json", "get", "link", str(changed["Links"][1])).json
        assert "sys_enter_gettid" in json.dumps(link), link

        # Remove: everything the spec made goes, and so does its object.
        lib.bpfctl("remove-spec", "counters")
        assert spec_props("counters") is None
        listed = {p["id"] for p in lib.bpfctl("--json", "list").json or []}
        assert not (set(first["Programs"]) & listed), listed
        for pid in first["Programs"]:
            lib.wait_prog_gone(pid)
        p = lib.bpfctl("remove-spec", "counters", check=False)
        assert p.returncode == 4 and "SpecNotFound" in p.stderr, p.stderr
    finally:
        remove_spec("counters")


def test_bad_specs_are_refused_and_change_nothing():
    lib.ensure_daemon()
    d = tmpdir()
    cases = {
        "unknown-key": "[Object o]\nPath=/x.o\nColour=red\n",
        "no-source": "[Object o]\nPrograms=a\n",
        "two-sources": f"[Object o]\nPath={TP_OBJ}\nImage=quay.io/x/y:1\n",
        "bad-image": "[Object o]\nImage=no-registry-here:1\n",
        "bad-owner": f"[Object o]\nPath={TP_OBJ}\nMapOwner=later\n[Object later]\nPath={TP_OBJ}\n",
        "bad-attach": f"[Object o]\nPath={TP_OBJ}\n[Object p]\nPath={TP_OBJ}\n[Attach a]\nTracepoint=x/y\n",
        "reserved-metadata": f"[Object o]\nPath={TP_OBJ}\nMetadata=bpfd.spec=other\n",
        "signed-hex": f"[Object o]\nPath={TP_OBJ}\nGlobalData=target_tgid=-1000000\n",
    }
    before = {p["id"] for p in lib.bpfctl("--json", "list").json or []}
    for name, text in cases.items():
        p = lib.bpfctl("apply", write_spec(d, name, text), check=False)
        assert p.returncode == 9 and p.stderr.strip(), (name, p.stderr)
        assert spec_props(name) is None, name
    # A name that is no spec name, straight over the bus.
    p = lib.busctl("call", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE, "ApplySpec", "sa{sv}", "../x", "0",
                   check=False)
    assert p.returncode != 0 and "is not a spec name" in p.stderr, p.stderr
    # Wrong types inside the a{sv}.
    p = lib.busctl("call", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE, "ApplySpec", "sa{sv}", "x", "1",
                   "objects", "s", "nope", check=False)
    assert p.returncode != 0 and "must be of type 'aa{sv}'" in p.stderr, p.stderr
    # A key bpfctl would have refused, straight over the bus: bpfd checks too.
    p = lib.busctl("call", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE, "ApplySpec", "sa{sv}", "x", "1",
                   "objects", "aa{sv}", "1", "2", "name", "s", "o", "colour", "s", "red", check=False)
    assert p.returncode != 0 and "Unknown key 'colour'" in p.stderr, p.stderr
    assert {p["id"] for p in lib.bpfctl("--json", "list").json or []} == before


def restart_with(args=(), env=None):
    """Restart the shared daemon with ARGS and extra environment ENV (for this start only)."""
    if lib.daemon.running:
        lib.daemon.stop()
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        lib.daemon.start(list(args))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_spec_directory_at_start():
    """Specs in --spec-dir are applied after recovery, each on its own: a failing one (a program the object
    does not have, a file others may write) does not stop a good one, and each reports its own status."""
    d = tmpdir()
    write_spec(d, "good", counters_spec())
    write_spec(d, "broken", f"[Object o]\nPath={TP_OBJ}\nPrograms=no_such_program\n")
    write_spec(d, "writable", counters_spec(), mode=0o666)
    write_spec(d, "garbled", "[Object o\nPath=\n")
    try:
        restart_with(["--spec-dir", d])
        states = lib.wait_for(lambda: all(spec_props(n) and spec_props(n)["Status"] != "Pending"
                                          for n in ("good", "broken", "writable", "garbled"))
                              and {n: spec_props(n) for n in ("good", "broken", "writable", "garbled")},
                              timeout=30, what="the specs of the spec directory")
        good = states["good"]
        assert good["Status"] == "Applied" and len(good["Programs"]) == 2 and len(good["Links"]) == 2, good
        assert good["Origin"] == os.path.join(d, "good.conf") and good["OwnerUid"] == 0, good
        assert states["broken"]["Status"] == "Failed" and "no_such_program" in states["broken"]["Error"], states
        assert states["broken"]["Programs"] == [], states["broken"]
        assert states["writable"]["Status"] == "Failed" and "not root's" in states["writable"]["Error"], states
        assert states["garbled"]["Status"] == "Failed" and states["garbled"]["Error"], states
        assert len(programs_of_spec("good")) == 2
        assert programs_of_spec("broken") == [] and programs_of_spec("writable") == []

        # bpfctl list specs (ListSpecs): every spec with its status, in name order.
        listed = {s["name"]: s for s in lib.bpfctl("--json", "list", "specs").json}
        assert {"good", "broken", "writable", "garbled"} <= set(listed), listed
        assert listed["good"]["status"] == "Applied" and listed["good"]["programs"] == good["Programs"], listed
        assert listed["good"]["object_path"] == spec_path("good")
        assert listed["broken"]["status"] == "Failed" and "no_such_program" in listed["broken"]["error"]
        names = [s["name"] for s in lib.bpfctl("--json", "list", "specs").json]
        assert names == sorted(names), names
        text = lib.bpfctl("list", "specs").stdout.splitlines()
        assert text[0].split() == ["NAME", "STATUS", "PROGRAMS", "LINKS", "DETAIL"], text
        row = next(line for line in text if line.startswith("good "))
        assert row.split()[:4] == ["good", "Applied", str(good["Programs"][0]), str(good["Programs"][1])], row

        # A restart re-applies the directory: a spec made root's while bpfd was away is applied (proof that
        # the start applied the directory; it comes after good in name order), nothing changes for the
        # applied spec.
        os.chmod(os.path.join(d, "writable.conf"), 0o644)
        restart_with(["--spec-dir", d])
        fixed = lib.wait_for(lambda: (spec_props("writable") or {}).get("Status") == "Applied" and spec_props("writable"),
                             timeout=30, what="spec writable to be applied at start")
        assert fixed["Error"] == "" and len(fixed["Programs"]) == 2, fixed
        again = spec_props("good")
        assert again["Programs"] == good["Programs"] and again["Links"] == good["Links"], (good, again)
        assert again["Generation"] == good["Generation"]

        # The directory is the desired state: a file removed while bpfd was away takes its spec along.
        os.unlink(os.path.join(d, "good.conf"))
        restart_with(["--spec-dir", d])
        lib.wait_for(lambda: spec_props("good") is None, timeout=30, what="spec good to be removed")
        for pid in good["Programs"]:
            lib.wait_prog_gone(pid)

        # On change: SIGHUP (systemctl reload bpfd) applies the directory again.
        write_spec(d, "later", counters_spec())
        lib.daemon.proc.send_signal(signal.SIGHUP)
        later = lib.wait_for(lambda: (spec_props("later") or {}).get("Status") == "Applied" and spec_props("later"),
                             timeout=30, what="spec later to be applied on SIGHUP")
        write_spec(d, "later", counters_spec(ppid_tracepoint="syscalls/sys_enter_gettid"))
        lib.daemon.proc.send_signal(signal.SIGHUP)
        changed = lib.wait_for(lambda: (spec_props("later") or {}).get("Generation") == later["Generation"] + 1
                               and spec_props("later"), timeout=30, what="spec later to change on SIGHUP")
        assert changed["Programs"] == later["Programs"] and changed["Links"][0] == later["Links"][0], changed
        os.unlink(os.path.join(d, "later.conf"))
        lib.daemon.proc.send_signal(signal.SIGHUP)
        lib.wait_for(lambda: spec_props("later") is None, timeout=30, what="spec later to go on SIGHUP")
        assert lib.daemon.running
    finally:
        restart_with()
        for n in ("good", "broken", "writable", "garbled", "later"):
            remove_spec(n)


def test_spec_file_only_root_reads_is_not_quoted_to_others():
    """A Spec's Error is everybody's to read: a bad spec file only root may read (0600) is not quoted there (a
    GKeyFile error quotes the line, a bad value is quoted), only in bpfd's log; a readable one still is."""
    d = tmpdir()
    secret = "hunter2-spec-secret"
    write_spec(d, "garbledsecret", f"[Object o\nPassword={secret}\n", mode=0o600)
    write_spec(d, "badvalue", f"[Object o]\nPath={TP_OBJ}\nGlobalData={secret}\n", mode=0o600)
    write_spec(d, "badpublic", f"[Object o]\nPath={TP_OBJ}\nGlobalData=public-value\n", mode=0o644)
    names = ("garbledsecret", "badvalue", "badpublic")
    try:
        restart_with(["--spec-dir", d])
        lib.wait_for(lambda: all((spec_props(n) or {}).get("Status") == "Failed" for n in names),
                     timeout=30, what="the bad specs to fail")
        for n in ("garbledsecret", "badvalue"):
            p = lib.busctl("get-property", lib.BUS_NAME, spec_path(n), "org.bpfd.Spec", "Error", user=lib.BOB)
            assert secret not in p.stdout and "log says why" in p.stdout, p.stdout
            listed = lib.bpfctl("--json", "list", "specs", user=lib.BOB).stdout
            assert secret not in listed, listed
        assert "public-value" in spec_props("badpublic")["Error"], spec_props("badpublic")
        assert secret in lib.daemon.log(), "the reason is not in bpfd's log"
    finally:
        restart_with()
        for n in names:
            remove_spec(n)


def test_spec_waits_for_interface():
    """A spec with a tcx attachment on an interface that does not exist yet is Pending (nothing of it is
    loaded); when the interface appears (rtnetlink), bpfd applies it."""
    lib.ensure_daemon()
    d = tmpdir()
    ifname = "spw%d" % (os.getpid() % 10000)
    text = f"""[Object net]
Path={TCX_OBJ}
Programs=tcx_count_a

[Attach ingress]
Kind=tcx
Interface={ifname}
Direction=ingress
Priority=100
"""
    path = write_spec(d, "waits", text)
    try:
        pending = apply(path).json
        assert pending["Status"] == "Pending" and pending["WaitingFor"] == ifname, pending
        assert pending["Programs"] == [] and programs_of_spec("waits") == [], pending
        # It stays pending across a kill -9 and restart.
        lib.daemon.kill()
        restart_with()
        again = spec_props("waits")
        assert again and again["Status"] == "Pending" and again["WaitingFor"] == ifname, again
        lib.run(["ip", "link", "add", ifname, "type", "veth", "peer", "name", ifname + "p"])
        applied = lib.wait_for(lambda: (spec_props("waits") or {}).get("Status") == "Applied" and spec_props("waits"),
                               timeout=30, what="the spec to be applied when the interface came")
        assert applied["WaitingFor"] == "" and len(applied["Programs"]) == 1 and len(applied["Links"]) == 1, applied
        link = lib.bpfctl("--json", "get", "link", str(applied["Links"][0])).json
        assert ifname in json.dumps(link), link
        # Applying it again now changes nothing.
        again = apply(path).json
        assert again["Programs"] == applied["Programs"] and again["Links"] == applied["Links"], (applied, again)
    finally:
        remove_spec("waits")
        lib.run(["ip", "link", "del", ifname], check=False)


def kernel_prog_ids():
    return set(lib.kernel_progs())


def test_kill_during_apply_leaves_old_or_new_state():
    """kill -9 at fixed points of an apply (BPFD_TEST_SPEC_CRASH): after everything new was made but before
    the commit, the restarted bpfd shows the old state and what was made is gone; after the commit but before
    the old links were detached, it shows the new state and the old links are gone."""
    d = tmpdir()
    path = write_spec(d, "crashy", counters_spec())
    try:
        restart_with()
        old = apply(path).json
        assert old["Status"] == "Applied", old
        write_spec(d, "crashy", counters_spec(ppid_tracepoint="syscalls/sys_enter_gettid"))

        # Before the commit: back to the old state.
        restart_with(env={"BPFD_TEST_SPEC_CRASH": "created"})
        p = apply(path, check=False)
        assert p.returncode != 0
        lib.wait_for(lambda: lib.daemon.proc.poll() is not None, what="bpfd to be killed at 'created'")
        lib.daemon.kill()
        links_before = set(lib.kernel_links())
        restart_with()
        after = spec_props("crashy")
        assert after["Programs"] == old["Programs"] and after["Links"] == old["Links"], (old, after)
        assert after["Generation"] == old["Generation"] and after["Status"] == "Applied", after
        assert sorted(p["id"] for p in programs_of_spec("crashy")) == sorted(old["Programs"])
        made = links_before - set(lib.kernel_links()) - set(old["Links"])
        assert made, "the interrupted apply made no link, so the test tests nothing"
        listed = {l["id"] for l in lib.bpfctl("--json", "list", "links").json or []}
        assert not (made & listed), (made, listed)
        for l in made:
            lib.wait_link_gone(l)

        # After the commit: the new state, with the old link gone.
        restart_with(env={"BPFD_TEST_SPEC_CRASH": "committed"})
        p = apply(path, check=False)
        assert p.returncode != 0
        lib.wait_for(lambda: lib.daemon.proc.poll() is not None, what="bpfd to be killed at 'committed'")
        lib.daemon.kill()
        assert old["Links"][1] in lib.kernel_links(), "the old link went before the commit"
        restart_with()
        new = spec_props("crashy")
        assert new["Generation"] == old["Generation"] + 1 and new["Status"] == "Applied", new
        assert new["Programs"] == old["Programs"] and new["Links"][0] == old["Links"][0], (old, new)
        assert new["Links"][1] != old["Links"][1], (old, new)
        lib.wait_link_gone(old["Links"][1])
        listed = {l["id"] for l in lib.bpfctl("--json", "list", "links").json or []}
        assert old["Links"][1] not in listed and new["Links"][1] in listed, listed

        # RemoveSpec killed after its commit: the restarted bpfd finishes it.
        restart_with(env={"BPFD_TEST_SPEC_CRASH": "removing"})
        lib.bpfctl("remove-spec", "crashy", check=False)
        lib.wait_for(lambda: lib.daemon.proc.poll() is not None, what="bpfd to be killed at 'removing'")
        lib.daemon.kill()
        assert all(pid in lib.kernel_progs() for pid in new["Programs"]), "unloaded before the commit"
        restart_with()
        assert spec_props("crashy") is None
        assert programs_of_spec("crashy") == []
        for pid in new["Programs"]:
            lib.wait_prog_gone(pid)

        # A first apply killed before its commit leaves nothing at all.
        first = write_spec(d, "fresh", counters_spec())
        restart_with(env={"BPFD_TEST_SPEC_CRASH": "created"})
        progs_before = kernel_prog_ids()
        apply(first, check=False)
        lib.wait_for(lambda: lib.daemon.proc.poll() is not None, what="bpfd to be killed")
        lib.daemon.kill()
        assert kernel_prog_ids() - progs_before, "the interrupted first apply loaded nothing"
        restart_with()
        assert spec_props("fresh") is None
        assert programs_of_spec("fresh") == []
    finally:
        if not lib.daemon.running or lib.daemon.proc.poll() is not None:
            lib.daemon.kill()
            restart_with()
        remove_spec("crashy")
        remove_spec("fresh")


def test_polkit_checks_each_program_of_a_spec():
    """org.bpfd.apply alone is not enough: alice (group bpfd: apply, and load/attach tracepoints) may apply a
    spec of tracepoint programs but not one that also loads a uprobe program; bob may apply nothing; a spec
    alice applied is hers: bob may not remove it, carol (manage-others) may."""
    lib.ensure_daemon()
    d = tmpdir()
    obj = lib.world_readable_copy(TP_OBJ)
    up_obj = lib.world_readable_copy(lib.bpf_obj("uprobe_counter"))
    tp = write_spec(d, "alice-tp", counters_spec(obj=obj))
    mixed = write_spec(d, "alice-mixed", counters_spec(obj=obj).replace("[Attach getpid]\n", "[Attach getpid]\nObject=counters\n")
                       .replace("[Attach getppid]\n", "[Attach getppid]\nObject=counters\n") + f"""
[Object probes]
Path={up_obj}
Programs=count_uprobe

[Attach probe]
Object=probes
Kind=uprobe
Target={lib.UPROBE_TARGET}
Function=bpfd_test_target
""")
    before = kernel_prog_ids()
    try:
        p = lib.bpfctl("--no-ask-password", "apply", tp, user=lib.BOB, check=False)
        assert p.returncode == 3 and "org.bpfd.apply" in p.stderr, p.stderr
        assert spec_props("alice-tp") is None

        p = lib.bpfctl("--no-ask-password", "apply", mixed, user=lib.ALICE, check=False)
        assert p.returncode == 3 and "org.bpfd.load" in p.stderr and "count_uprobe" in p.stderr, p.stderr
        assert spec_props("alice-mixed") is None and programs_of_spec("alice-mixed") == []

        ok = lib.bpfctl("--json", "--no-ask-password", "apply", tp, user=lib.ALICE).json
        assert ok["Status"] == "Applied" and ok["OwnerUid"] == lib.uid_of(lib.ALICE), ok
        assert all(p["owner_uid"] == lib.uid_of(lib.ALICE) for p in programs_of_spec("alice-tp"))

        p = lib.bpfctl("--no-ask-password", "remove-spec", "alice-tp", user=lib.BOB, check=False)
        assert p.returncode == 3 and "manage-others" in p.stderr, p.stderr
        assert spec_props("alice-tp")["Programs"] == ok["Programs"]
        lib.bpfctl("--no-ask-password", "remove-spec", "alice-tp", user=lib.CAROL)
        assert spec_props("alice-tp") is None and programs_of_spec("alice-tp") == []
        for pid in ok["Programs"]:
            lib.wait_prog_gone(pid)

        # A spec root applied is root's: alice may not apply over it.
        rooted = apply(write_spec(d, "root-owned", counters_spec(obj=obj))).json
        p = lib.bpfctl("--no-ask-password", "apply", write_spec(d, "root-owned", counters_spec(
            obj=obj, ppid_tracepoint="syscalls/sys_enter_gettid")), user=lib.ALICE, check=False)
        assert p.returncode == 3 and "manage-others" in p.stderr, p.stderr
        after = spec_props("root-owned")
        assert after["Links"] == rooted["Links"] and after["OwnerUid"] == 0, after
    finally:
        remove_spec("alice-tp")
        remove_spec("alice-mixed")
        remove_spec("root-owned")


def bus_signals(action):
    """Run action() while busctl monitors org.bpfd; return its signals as (member, path, interface, payload)."""
    mon = subprocess.Popen(["busctl", "--system", "monitor", lib.BUS_NAME, "--json=short"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "Monitoring" in mon.stderr.readline()
        action()
        # a last call whose reply comes after every signal of the action
        lib.busctl("call", lib.BUS_NAME, lib.MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping")
        time.sleep(0.5)
    finally:
        mon.terminate()
        out, _ = mon.communicate(timeout=10)
    signals = []
    for line in out.splitlines():
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if m.get("type") == "signal":
            signals.append((m["member"], m["path"], m["interface"], m["payload"]["data"]))
    return signals


def test_spec_object_signals():
    """A watcher sees the spec object appear, its Status and Links change with PropertiesChanged, and the
    object go on RemoveSpec."""
    lib.ensure_daemon()
    d = tmpdir()
    path = write_spec(d, "watched", counters_spec())
    ids = {}

    def action():
        ids["first"] = apply(path).json
        write_spec(d, "watched", counters_spec(ppid_tracepoint="syscalls/sys_enter_gettid"))
        ids["second"] = apply(path).json
        lib.bpfctl("remove-spec", "watched")

    try:
        signals = bus_signals(action)
    finally:
        remove_spec("watched")
    sp = spec_path("watched")
    added = [data for member, path, iface, data in signals if member == "InterfacesAdded" and data[0] == sp]
    removed = [data for member, path, iface, data in signals if member == "InterfacesRemoved" and data[0] == sp]
    assert added and "org.bpfd.Spec" in added[0][1], signals
    assert removed and "org.bpfd.Spec" in removed[0][1], signals
    changed = [data[1] for member, path, iface, data in signals
               if member == "PropertiesChanged" and path == sp and data[0] == "org.bpfd.Spec"]
    links = [c["Links"]["data"] for c in changed if "Links" in c]
    assert ids["second"]["Links"] in links, (changed, ids)
    assert all(c["Status"]["data"] == "Applied" for c in changed if "Status" in c), changed


def test_xdp_attachment_changed_in_place():
    """XDP runs one program per interface on kernels without program extensions (this one): changing the
    XDP attachment of an interface (its priority, or the object: a new version) cannot make the new link
    before the old one goes. bpfd detaches the old one first for that hook, and still keeps the program."""
    lib.ensure_daemon()
    d = tmpdir()
    ifname = "spx%d" % (os.getpid() % 10000)

    def spec(obj, prio):
        return f"""[Object filter]
Path={lib.bpf_obj(obj)}
Programs={'xdp_pass_prog' if obj == 'xdp_pass' else 'xdp_count_a'}

[Attach uplink]
Kind=xdp
Interface={ifname}
Mode=skb
Priority={prio}
"""
    lib.run(["ip", "link", "add", ifname, "type", "veth", "peer", "name", ifname + "p"])
    try:
        path = write_spec(d, "xdpspec", spec("xdp_pass", 50))
        first = apply(path).json
        assert first["Status"] == "Applied", first
        write_spec(d, "xdpspec", spec("xdp_pass", 60))
        second = apply(path).json
        assert second["Status"] == "Applied", second
        assert second["Programs"] == first["Programs"] and second["Links"] != first["Links"], (first, second)
        # A new version of the object on the same interface.
        write_spec(d, "xdpspec", spec("xdp_counter", 60))
        third = apply(path).json
        assert third["Status"] == "Applied", third
        assert third["Programs"] != first["Programs"], (first, third)
        lib.wait_prog_gone(first["Programs"][0])
        listed = {l["id"] for l in lib.bpfctl("--json", "list", "links").json or []}
        assert third["Links"][0] in listed and second["Links"][0] not in listed, listed

        # kill -9 after the old XDP link was detached to make room, before anything new was made: the
        # restarted bpfd attaches the old one again (a new link of the same program and target).
        write_spec(d, "xdpspec", spec("xdp_counter", 70))
        restart_with(env={"BPFD_TEST_SPEC_CRASH": "swapped"})
        apply(path, check=False)
        lib.wait_for(lambda: lib.daemon.proc.poll() is not None, what="bpfd to be killed at 'swapped'")
        lib.daemon.kill()
        restart_with()
        back = spec_props("xdpspec")
        assert back["Status"] == "Applied" and back["Generation"] == third["Generation"], back
        assert back["Programs"] == third["Programs"] and len(back["Links"]) == 1, (third, back)
        link = lib.bpfctl("--json", "get", "link", str(back["Links"][0])).json
        assert ifname in json.dumps(link) and link["program_id"] == third["Programs"][0], link
        assert link["target"]["priority"] == 60, link
    finally:
        if not lib.daemon.running or lib.daemon.proc.poll() is not None:
            lib.daemon.kill()
            restart_with()
        remove_spec("xdpspec")
        lib.run(["ip", "link", "del", ifname], check=False)


def test_bus_dictionary_keys_in_any_order():
    """Clients with unordered maps (Go's godbus, for a cluster agent) send dictionary keys in any order."""
    lib.ensure_daemon()
    try:
        p = lib.busctl("call", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE, "ApplySpec", "sa{sv}", "anyorder", "2",
                       "attach", "aa{sv}", "1", "3", "tracepoint", "s", "syscalls/sys_enter_getpid",
                       "object", "s", "o", "name", "s", "a",
                       "objects", "aa{sv}", "1", "3", "programs", "as", "1", "count_getpid", "path", "s", TP_OBJ,
                       "name", "s", "o")
        assert spec_path("anyorder") in p.stdout, p.stdout
        props = spec_props("anyorder")
        assert props["Status"] == "Applied" and len(props["Programs"]) == 1 and len(props["Links"]) == 1, props
    finally:
        remove_spec("anyorder")


def test_failed_apply_keeps_the_old_state():
    """All or nothing: an apply whose second step fails (a new object loads, then an attachment fails)
    undoes the first, keeps the old state and says Failed with the error; a fixed spec then applies."""
    lib.ensure_daemon()
    d = tmpdir()
    path = write_spec(d, "allornothing", counters_spec())
    try:
        old = apply(path).json
        bad = counters_spec(ppid_tracepoint="syscalls/no_such_tracepoint") + f"""
[Object extra]
Path={TP_OBJ}
Programs=count_getpid

[Attach extra]
Object=extra
Tracepoint=syscalls/sys_enter_getpid
"""
        bad = bad.replace("[Attach getpid]\n", "[Attach getpid]\nObject=counters\n").replace(
            "[Attach getppid]\n", "[Attach getppid]\nObject=counters\n")
        write_spec(d, "allornothing", bad)
        p = apply(path, check=False)
        assert p.returncode != 0 and "no_such_tracepoint" in p.stderr, p.stderr
        failed = spec_props("allornothing")
        assert failed["Status"] == "Failed" and "no_such_tracepoint" in failed["Error"], failed
        assert failed["Programs"] == old["Programs"] and failed["Links"] == old["Links"], (old, failed)
        assert failed["Generation"] == old["Generation"]
        assert sorted(p["id"] for p in programs_of_spec("allornothing")) == sorted(old["Programs"])
        # nothing of the failed apply is managed any more (the kernel frees it in its own time)
        assert {l["program_id"] for l in lib.bpfctl("--json", "list", "links").json or []
                if l["program_id"] in old["Programs"]} == set(old["Programs"])
        write_spec(d, "allornothing", counters_spec())
        fixed = apply(path).json
        assert fixed["Status"] == "Applied" and fixed["Error"] == "", fixed
        assert fixed["Programs"] == old["Programs"] and fixed["Links"] == old["Links"], (old, fixed)
    finally:
        remove_spec("allornothing")


def test_spec_waits_for_registry_and_image():
    """At boot the registry may not be reachable yet: a spec of the spec directory from an image is Pending
    for its registry and applied again on the next network change (rtnetlink), not by polling. One with pull
    policy Never waits for the image to be pulled through bpfd."""
    from test_image import Registry, push, write_config, scratch
    import shutil

    reg = Registry()          # its port is chosen; nothing listens there yet
    config = write_config(reg)
    d = tmpdir()
    ifname = "spr%d" % (os.getpid() % 10000)
    write_spec(d, "fromimage", f"""[Object counters]
Image={reg.ref("v1")}
Programs=count_getpid

[Attach getpid]
Tracepoint=syscalls/sys_enter_getpid
""")
    write_spec(d, "neverpull", f"""[Object counters]
Image={reg.ref("v1")}
ImagePullPolicy=Never
Programs=count_getppid

[Attach getppid]
Tracepoint=syscalls/sys_enter_getppid
""")
    args = ["--spec-dir", d, "--image-config", config, "--image-cache", scratch()]
    try:
        restart_with(args)
        states = lib.wait_for(lambda: all((spec_props(n) or {}).get("Status") for n in ("fromimage", "neverpull"))
                              and {n: spec_props(n) for n in ("fromimage", "neverpull")}, timeout=60,
                              what="the image specs")
        assert states["fromimage"]["Status"] == "Pending", states
        assert states["fromimage"]["WaitingFor"] == reg.addr, states
        assert states["neverpull"]["Status"] == "Pending", states
        assert states["neverpull"]["WaitingFor"] == reg.ref("v1"), states
        assert programs_of_spec("fromimage") == [] and programs_of_spec("neverpull") == []

        reg.start()
        push(reg, "v1")
        # The network changes (an interface comes): the registry spec is applied again.
        lib.run(["ip", "link", "add", ifname, "type", "veth", "peer", "name", ifname + "p"])
        applied = lib.wait_for(lambda: (spec_props("fromimage") or {}).get("Status") == "Applied"
                               and spec_props("fromimage"), timeout=60, what="the registry spec to be applied")
        assert len(applied["Programs"]) == 1 and len(applied["Links"]) == 1, applied
        assert spec_props("neverpull")["Status"] == "Pending"

        # Pulling the image through bpfd applies the one that never pulls by itself.
        lib.bpfctl("image", "pull", reg.ref("v1"))
        never = lib.wait_for(lambda: (spec_props("neverpull") or {}).get("Status") == "Applied"
                             and spec_props("neverpull"), timeout=60, what="the Never spec to be applied")
        assert len(never["Programs"]) == 1, never
        (prog,) = programs_of_spec("neverpull")
        assert prog["image_reference"] == reg.ref("v1"), prog
    finally:
        restart_with()
        remove_spec("fromimage")
        remove_spec("neverpull")
        lib.run(["ip", "link", "del", ifname], check=False)
        reg.stop()
        shutil.rmtree(reg.dir, ignore_errors=True)


def test_attachment_moved_to_a_new_object():
    """An [Attach] that moves from a kept object to one loaded in the same apply: its old link goes, the
    kept object's program stays and has no link left."""
    lib.ensure_daemon()
    d = tmpdir()
    v1 = f"""[Object a]
Path={TP_OBJ}
Programs=count_getpid

[Attach x]
Object=a
Tracepoint=syscalls/sys_enter_getpid
"""
    v2 = v1.replace("[Attach x]\nObject=a\n", "[Attach x]\nObject=c\n") + f"""
[Object c]
Path={TP_OBJ}
Programs=count_getppid
"""
    path = write_spec(d, "moved", v1)
    try:
        first = apply(path).json
        write_spec(d, "moved", v2)
        second = apply(path).json
        assert second["Status"] == "Applied", second
        assert second["Programs"][0] == first["Programs"][0] and len(second["Programs"]) == 2, (first, second)
        links = {l["id"]: l for l in lib.bpfctl("--json", "list", "links").json or []}
        assert first["Links"][0] not in links, links
        assert links[second["Links"][0]]["program_id"] == second["Programs"][1], (second, links)
        assert not [l for l in links.values() if l["program_id"] == first["Programs"][0]], links
    finally:
        remove_spec("moved")


def test_global_data_and_shared_maps():
    """GlobalData= sets a program's globals (target_tgid: only this test process is counted); MapOwner=
    makes an object use the maps of an earlier one (one counter map for both); changing the owner reloads
    both (the maps are new), changing only the sharer reloads only it."""
    import sys
    lib.ensure_daemon()
    d = tmpdir()
    tgid = os.getpid().to_bytes(4, sys.byteorder).hex()

    def spec(owner_meta="v1", sharer_meta="v1"):
        return f"""[Object owner]
Path={TP_OBJ}
Programs=count_getpid
GlobalData=target_tgid={tgid}
Metadata=rev={owner_meta}

[Object sharer]
Path={TP_OBJ}
Programs=count_getppid
MapOwner=owner
Metadata=rev={sharer_meta}

[Attach getpid]
Object=owner
Tracepoint=syscalls/sys_enter_getpid

[Attach getppid]
Object=sharer
Tracepoint=syscalls/sys_enter_getppid
"""
    path = write_spec(d, "shared", spec())
    try:
        first = apply(path).json
        owner, sharer = (lib.bpfctl("--json", "get", str(i)).json for i in first["Programs"])
        assert owner["global_data"] == ["target_tgid"], owner
        owner_maps = {name: mid for mid, name, _ in owner["maps"]}
        sharer_maps = {name: mid for mid, name, _ in sharer["maps"]}
        assert owner_maps["counter"] == sharer_maps["counter"], (owner["maps"], sharer["maps"])
        pin = lib.counter_pin(owner)
        base = lib.counter(pin, 0)
        for _ in range(30):
            os.getpid()
        assert lib.counter(pin, 0) - base >= 30
        for _ in range(20):
            os.getppid()
        assert lib.counter(pin, 1) >= 20    # counted by the sharer, in the owner's map

        write_spec(d, "shared", spec(sharer_meta="v2"))
        only_sharer = apply(path).json
        assert only_sharer["Programs"][0] == first["Programs"][0], (first, only_sharer)
        assert only_sharer["Programs"][1] != first["Programs"][1], (first, only_sharer)

        write_spec(d, "shared", spec(owner_meta="v2", sharer_meta="v2"))
        both = apply(path).json
        assert not (set(both["Programs"]) & set(only_sharer["Programs"])), (only_sharer, both)
        owner2, sharer2 = (lib.bpfctl("--json", "get", str(i)).json for i in both["Programs"])
        assert {n: m for m, n, _ in owner2["maps"]}["counter"] == {n: m for m, n, _ in sharer2["maps"]}["counter"]
        assert {n: m for m, n, _ in owner2["maps"]}["counter"] != owner_maps["counter"]
    finally:
        remove_spec("shared")
