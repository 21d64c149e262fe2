# SPDX-License-Identifier: LGPL-2.1-or-later
"""bpfd's promises across restarts: programs outlive the daemon, a restarted
daemon shows exactly what it showed before, a crash in the middle of a load
or unload leaves nothing half done, a reboot (a fresh bpffs) starts clean,
and idle exit keeps the programs."""

import json
import os
import random
import shutil
import signal
import subprocess
import time

import lib

FS_DIR = os.path.join(lib.RUNTIME_DIR, "fs")
STATE_DIR = os.path.join(lib.RUNTIME_DIR, "state")
TP_OBJ = lib.bpf_obj("tracepoint_counter")
TP_NAMES = ("count_getpid", "count_getppid")
VOLATILE_KEYS = {"run_count", "run_time_ns"}
VOLATILE_PROPS = {"RunCount", "RunTimeNs"}


# ---- helpers ----

def list_programs():
    return sorted(({k: v for k, v in p.items() if k not in VOLATILE_KEYS}
                   for p in lib.bpfctl("--json", "list").json or []), key=lambda p: p["id"])


def list_links():
    return sorted(lib.bpfctl("--json", "list", "links").json or [], key=lambda l: l["id"])


def get_all(path, iface):
    out = lib.busctl_json("call", lib.BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll", "s", iface)
    return {k: v for k, v in out["data"][0].items() if k not in VOLATILE_PROPS}


def snapshot():
    progs = list_programs()
    links = list_links()
    props = {}
    for p in progs:
        props[p["object_path"]] = get_all(p["object_path"], "org.bpfd.Program")
    for l in links:
        props[l["object_path"]] = get_all(l["object_path"], "org.bpfd.Link")
    mgr = get_all(lib.MANAGER_PATH, lib.MANAGER_IFACE)
    counts = {k: mgr[k] for k in ("ProgramCount", "LinkCount", "BpffsPath")}
    return {"programs": progs, "links": links, "props": props, "manager": counts}


def diff_snapshots(a, b):
    """A readable description of the first differences between two snapshots."""
    lines = []
    for key in ("programs", "links"):
        ia = {o["id"]: o for o in a[key]}
        ib = {o["id"]: o for o in b[key]}
        if set(ia) != set(ib):
            lines.append(f"{key}: ids before {sorted(ia)}, after {sorted(ib)}")
        for i in sorted(set(ia) & set(ib)):
            for k in sorted(set(ia[i]) | set(ib[i])):
                if ia[i].get(k) != ib[i].get(k):
                    lines.append(f"{key} {i} {k}: before {ia[i].get(k)!r}, after {ib[i].get(k)!r}")
    for path in sorted(set(a["props"]) | set(b["props"])):
        pa, pb = a["props"].get(path), b["props"].get(path)
        if pa is None or pb is None:
            lines.append(f"{path}: before {'present' if pa else 'absent'}, after {'present' if pb else 'absent'}")
            continue
        for k in sorted(set(pa) | set(pb)):
            if pa.get(k) != pb.get(k):
                lines.append(f"{path} {k}: before {pa.get(k)!r}, after {pb.get(k)!r}")
    if a["manager"] != b["manager"]:
        lines.append(f"manager: before {a['manager']!r}, after {b['manager']!r}")
    return "\n".join(lines)


def counter_of(prog, key):
    pins = [m[2] for m in prog["maps"] if m[1] == "counter"]
    assert pins, f"program {prog['id']} has no counter map: {prog['maps']}"
    return lib.counter(pins[0], key)


def poke_getpid(n=50):
    for _ in range(n):
        os.getpid()


def poke_uprobe(n=20):
    lib.run([lib.UPROBE_TARGET, str(n)])


def poke_cgroup(cg, n=20):
    """Send N UDP datagrams from a process inside cgroup CG."""
    code = ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            f"for i in range({n}): s.sendto(b'x', ('127.0.0.1', 9))\n")
    lib.run(["sh", "-c", 'echo $$ > "$1/cgroup.procs" && exec python3 -c "$2"', "sh", cg, code])


def make_cgroup(tag):
    root = os.environ.get("BPFD_TEST_CGROUP2")
    if not root:
        raise lib.Skip("no cgroup v2 hierarchy (BPFD_TEST_CGROUP2)")
    cg = os.path.join(root, f"bpfd-test-{tag}-{os.getpid()}")
    os.makedirs(cg, exist_ok=True)
    return cg


def remove_cgroup(cg):
    for _ in range(50):
        try:
            os.rmdir(cg)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)   # the sender may still be exiting


def unload_all():
    ids = [p["id"] for p in list_programs()]
    if ids:
        lib.bpfctl("unload", *ids)
    assert list_programs() == []


def kernel_prog_ids():
    return {p["id"] for p in json.loads(lib.run(["bpftool", "prog", "show", "-j"]).stdout)}


def kernel_progs_of_object(prefix):
    """Kernel programs named count_getpid/count_getppid whose .rodata map is
    named PREFIX.rodata, i.e. loaded from an object file whose name starts
    with PREFIX (other runs may load the same programs at the same time)."""
    maps = {m["id"]: m.get("name", "") for m in json.loads(lib.run(["bpftool", "map", "show", "-j"]).stdout)}
    ours = set()
    for p in json.loads(lib.run(["bpftool", "prog", "show", "-j"]).stdout):
        if p.get("name") not in TP_NAMES:
            continue
        if any(maps.get(m) == f"{prefix}.rodata" for m in p.get("map_ids", [])):
            ours.add(p["id"])
    return ours


def kernel_has_prog(pid):
    return lib.run(["bpftool", "prog", "show", "id", str(pid)], check=False).returncode == 0


# The kernel's bpf_preload puts these iterators in every bpffs.
KERNEL_PRELOAD = {"maps.debug", "progs.debug"}


def pins():
    """Everything in bpfd's bpffs, relative to it (without the kernel's own files)."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(FS_DIR):
        rel = os.path.relpath(dirpath, FS_DIR)
        for n in filenames + dirnames:
            found.add(n if rel == "." else os.path.join(rel, n))
    return found - KERNEL_PRELOAD


def check_consistent(what):
    """bpfd's view, its pins, its records and the kernel agree."""
    progs = list_programs()
    links = list_links()
    prog_ids = {p["id"] for p in progs}
    link_ids = {l["id"] for l in links}
    groups = {p["load_group"] for p in progs}
    kernel = kernel_prog_ids()

    # "maps" holds the load groups' maps; "xdp" is libxdp's directory for its dispatchers (none here)
    expected = {"maps", "xdp"}
    for p in progs:
        assert p["id"] in kernel, f"{what}: listed program {p['id']} is not in the kernel"
        assert p["pin_path"] == os.path.join(FS_DIR, f"prog_{p['id']}"), p["pin_path"]
        assert os.path.exists(p["pin_path"]), f"{what}: pin of program {p['id']} is missing"
        expected.add(f"prog_{p['id']}")
        for m in p["maps"]:
            assert os.path.exists(m[2]), f"{what}: map pin {m[2]} of program {p['id']} is missing"
            expected.add(os.path.relpath(m[2], FS_DIR))
        for lp in p["links"]:
            assert int(lp.rsplit("/", 1)[1]) in link_ids, f"{what}: program {p['id']} names unlisted link {lp}"
    for g in groups:
        expected.add(os.path.join("maps", str(g)))
    for l in links:
        assert l["program_id"] in prog_ids, f"{what}: link {l['id']} of unlisted program {l['program_id']}"
        assert os.path.exists(l["pin_path"]), f"{what}: pin of link {l['id']} is missing"
        expected.add(f"link_{l['id']}")
    leaked = pins() - expected
    assert not leaked, f"{what}: pins that belong to no listed program or link: {sorted(leaked)}"

    state = os.listdir(STATE_DIR)
    tmp = [n for n in state if n.endswith(".tmp")]
    assert not tmp, f"{what}: leftover temporary records {tmp}"
    records = {int(n[len("group-"):-len(".conf")]) for n in state
               if n.startswith("group-") and n.endswith(".conf")}
    assert records == groups, f"{what}: records {sorted(records)} but load groups {sorted(groups)}"
    return progs, links


def restart_after_kill():
    if lib.daemon.running:
        lib.daemon.kill(signal.SIGKILL)
    lib.daemon.start()


# ---- tests ----

def test_programs_survive_sigkill():
    lib.ensure_daemon()
    unload_all()
    cg = make_cgroup("restart")
    try:
        tp = lib.bpfctl("--json", "load", TP_OBJ, "-p", "count_getpid", "-p", "count_getppid",
                        "-m", "purpose=restart-test", "tracepoint", "--tracepoint", "syscalls/sys_enter_getpid",
                        "--attach-program", "count_getpid").json
        tp_getpid = next(p for p in tp["programs"] if p["name"] == "count_getpid")
        tp_getppid = next(p for p in tp["programs"] if p["name"] == "count_getppid")
        lib.bpfctl("attach", tp_getppid["id"], "tracepoint", "--tracepoint", "syscalls/sys_enter_getppid")
        up = lib.bpfctl("--json", "load", lib.bpf_obj("uprobe_counter"), "-p", "count_uprobe", "uprobe",
                        "--target", lib.UPROBE_TARGET, "--fn", "bpfd_test_target").json["programs"][0]
        cgp = lib.bpfctl("--json", "load", lib.bpf_obj("cgroup_counter"), "cgroup", "--cgroup", cg
                         ).json["programs"][0]

        before = snapshot()
        assert len(before["programs"]) == 4 and len(before["links"]) == 4, before
        for p in before["programs"]:
            assert set(before["props"][p["object_path"]]) >= {"Id", "Name", "Kind", "Links", "Maps"}

        c_tp = counter_of(tp_getpid, 0)
        c_tp2 = counter_of(tp_getppid, 1)
        c_up = counter_of(up, 0)
        c_cg = counter_of(cgp, 0)

        lib.daemon.kill(signal.SIGKILL)
        assert lib.name_owner_pid(lib.BUS_NAME) is None

        # The daemon is dead; its programs keep running.
        poke_getpid()
        for _ in range(20):
            os.getppid()
        poke_uprobe()
        poke_cgroup(cg)
        d_tp, d_tp2 = counter_of(tp_getpid, 0), counter_of(tp_getppid, 1)
        d_up, d_cg = counter_of(up, 0), counter_of(cgp, 0)
        assert d_tp >= c_tp + 50, f"getpid counter {c_tp} -> {d_tp} while bpfd was dead"
        assert d_tp2 >= c_tp2 + 20, f"getppid counter {c_tp2} -> {d_tp2} while bpfd was dead"
        assert d_up >= c_up + 20, f"uprobe counter {c_up} -> {d_up} while bpfd was dead"
        assert d_cg >= c_cg + 20, f"cgroup counter {c_cg} -> {d_cg} while bpfd was dead"

        lib.daemon.start()
        after = snapshot()
        assert after == before, "bpfd shows other objects after a restart:\n" + diff_snapshots(before, after)
        check_consistent("after SIGKILL and restart")

        poke_getpid()
        poke_uprobe()
        poke_cgroup(cg)
        assert counter_of(tp_getpid, 0) >= d_tp + 50
        assert counter_of(up, 0) >= d_up + 20
        assert counter_of(cgp, 0) >= d_cg + 20

        # A clean stop and start changes nothing either.
        lib.daemon.restart()
        again = snapshot()
        assert again == before, "bpfd shows other objects after a stop/start:\n" + diff_snapshots(before, again)

        unload_all()
        assert list_links() == []
        for p in before["programs"]:
            lib.wait_for(lambda: not kernel_has_prog(p["id"]), timeout=5,
                         what=f"program {p['id']} to leave the kernel")
        check_consistent("after unloading everything")
    finally:
        if lib.daemon.running:
            unload_all()
        remove_cgroup(cg)


def test_sigkill_during_load_and_unload():
    lib.ensure_daemon()
    unload_all()
    # A uniquely named copy of the object: its .rodata map is named after
    # the file, which tells our programs from those of other runs.
    prefix = "r%07d" % random.randrange(10 ** 7)
    obj = os.path.join(os.environ.get("BPFD_TEST_TMPDIR") or "/tmp", prefix + ".bpf.o")
    shutil.copyfile(TP_OBJ, obj)
    load_args = [lib.BPFCTL, "--json", "load", obj, "-p", "count_getpid",
                 "tracepoint", "--tracepoint", "syscalls/sys_enter_getpid"]
    rng = random.Random()
    deadline = time.monotonic() + 150
    iterations = 0
    outcomes = {"unload_done": 0, "unload_not_done": 0, "load_ok_reply": 0, "interrupted_calls": 0}
    try:
        # A few programs to unload in the first round.
        for _ in range(2):
            lib.bpfctl(*load_args[1:])
        while iterations < 15 and time.monotonic() < deadline:
            iterations += 1
            before = {p["id"]: p for p in list_programs()}
            before_links = {l["id"]: l for l in list_links()}
            victims = rng.sample(sorted(before), min(len(before), rng.randint(1, 3)))
            procs = []
            for _ in range(rng.randint(1, 3)):
                procs.append(("load", None, subprocess.Popen(load_args, stdout=subprocess.PIPE,
                                                             stderr=subprocess.PIPE, text=True)))
            for v in victims:
                procs.append(("unload", v, subprocess.Popen([lib.BPFCTL, "unload", str(v)], stdout=subprocess.PIPE,
                                                            stderr=subprocess.PIPE, text=True)))
            # Mostly early: a bpfctl call takes only a few milliseconds.
            time.sleep(rng.uniform(0, 0.008) if rng.random() < 0.6 else rng.uniform(0, 0.030))
            lib.daemon.kill(signal.SIGKILL)
            replies = []
            for kind, arg, p in procs:
                out, err = p.communicate(timeout=60)
                replies.append((kind, arg, p.returncode, out, err))

            lib.daemon.start()
            what = f"iteration {iterations}"
            progs, links = check_consistent(what)
            listed = {p["id"]: p for p in progs}
            link_ids = {l["id"] for l in links}

            # Every load is all or nothing: a listed program has its link.
            for p in progs:
                assert len(p["links"]) == 1 and len(p["attach_points"]) == 1, \
                    f"{what}: program {p['id']} was loaded with an attachment but has links {p['links']}"
            # A load bpfd confirmed is there.
            for kind, arg, rc, out, err in replies:
                if rc != 0:
                    outcomes["interrupted_calls"] += 1
                if kind == "load" and rc == 0:
                    outcomes["load_ok_reply"] += 1
                    for p in json.loads(out)["programs"]:
                        assert p["id"] in listed, f"{what}: load of {p['id']} was confirmed but is gone"
                if kind == "unload" and rc == 0:
                    assert arg not in listed, f"{what}: unload of {arg} was confirmed but it is listed"
            # An unload happened fully or not at all.
            for v in victims:
                old = before[v]
                old_links = [int(lp.rsplit("/", 1)[1]) for lp in old["links"]]
                if v in listed:
                    outcomes["unload_not_done"] += 1
                    assert listed[v] == old, f"{what}: program {v} changed by an interrupted unload:\n" \
                        f"before {old}\nafter {listed[v]}"
                    for lid in old_links:
                        assert lid in link_ids and os.path.exists(before_links[lid]["pin_path"]), \
                            f"{what}: link {lid} of program {v} lost by an interrupted unload"
                else:
                    outcomes["unload_done"] += 1
                    assert not os.path.exists(old["pin_path"]), f"{what}: unloaded program {v} still pinned"
                    for lid in old_links:
                        assert lid not in link_ids, f"{what}: link {lid} of unloaded program {v} still listed"
                        assert not os.path.exists(before_links[lid]["pin_path"])
                    lib.wait_for(lambda: not kernel_has_prog(v), timeout=5,
                                 what=f"{what}: unloaded program {v} to leave the kernel")
            # No half-loaded program survives in the kernel: once the dead
            # daemon's descriptors are released, only what bpfd lists is left.
            lib.wait_for(lambda: kernel_progs_of_object(prefix) <= set(listed), timeout=10,
                         what=f"{what}: kernel programs of {prefix} "
                              f"{sorted(kernel_progs_of_object(prefix))} to be a subset of the listed "
                              f"{sorted(listed)}")
            # Keep the number of programs small.
            if len(listed) > 6:
                lib.bpfctl("unload", *sorted(listed)[:len(listed) - 4])
            while len(list_programs()) < 2:
                lib.bpfctl(*load_args[1:])
        assert iterations >= 5, f"only {iterations} iterations ran"

        # The recovered daemon still works: unload everything, nothing is left.
        unload_all()
        check_consistent("after the crash loop")
        lib.wait_for(lambda: not kernel_progs_of_object(prefix), timeout=10,
                     what=f"programs of {prefix} to leave the kernel")
        print(f"    {iterations} iterations; {outcomes}", flush=True)
    finally:
        if not lib.daemon.running:
            lib.daemon.start()
        unload_all()


def test_reboot_starts_clean():
    lib.ensure_daemon()
    unload_all()
    prog = lib.bpfctl("--json", "load", TP_OBJ, "-p", "count_getpid", "tracepoint", "--tracepoint",
                      "syscalls/sys_enter_getpid").json["programs"][0]
    assert os.listdir(STATE_DIR), "no state record after a load"
    lib.daemon.stop()
    # A reboot empties the bpffs (a tmpfs /run goes too, but bpfd must cope
    # with stale records on a fresh bpffs).
    lib.run(["umount", FS_DIR])
    lib.wait_for(lambda: not kernel_has_prog(prog["id"]), timeout=10,
                 what=f"program {prog['id']} to vanish with its bpffs")
    lib.daemon.start()
    try:
        fstype = lib.run(["stat", "-f", "-c", "%T", FS_DIR]).stdout.strip()
        assert fstype == "bpf_fs", f"{FS_DIR} is {fstype}, not a fresh bpffs"
        assert list_programs() == [] and list_links() == [], "bpfd lists programs of before the reboot"
        assert lib.bpfctl("list", "--all").returncode == 0
        # the directory of kept objects may stay, empty
        leftovers = [n for n in os.listdir(STATE_DIR)
                     if n != "objects" or os.listdir(os.path.join(STATE_DIR, n))]
        assert leftovers == [], f"records of before the reboot are left: {leftovers}"
        assert pins() <= {"maps", "xdp"}, f"unexpected pins on the fresh bpffs: {sorted(pins())}"

        new = lib.bpfctl("--json", "load", TP_OBJ, "-p", "count_getpid", "tracepoint", "--tracepoint",
                         "syscalls/sys_enter_getpid").json["programs"][0]
        c = counter_of(new, 0)
        poke_getpid()
        assert counter_of(new, 0) >= c + 50
        check_consistent("after the reboot and a new load")
        lib.daemon.kill(signal.SIGKILL)
        lib.daemon.start()
        assert [p["id"] for p in list_programs()] == [new["id"]]
    finally:
        unload_all()


def test_exit_idle_keeps_programs():
    lib.stop_daemon()
    d = lib.daemon
    d.start(["--exit-idle-time", "2"])
    try:
        prog = lib.bpfctl("--json", "load", TP_OBJ, "-p", "count_getpid", "tracepoint", "--tracepoint",
                          "syscalls/sys_enter_getpid").json["programs"][0]
        before = snapshot()
        start = time.monotonic()
        try:
            rc = d.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError("bpfd --exit-idle-time 2 did not exit by itself within 30 s:\n" + d.log_tail())
        idle = time.monotonic() - start
        d.returncode = rc
        assert rc == 0, f"bpfd exited with {rc} on idle:\n{d.log_tail()}"
        assert idle >= 1.0, f"bpfd exited after {idle:.1f}s, before its idle time of 2 s"
        lib.wait_for(lambda: lib.name_owner_pid(lib.BUS_NAME) is None, timeout=5, what="org.bpfd to be released")

        # Its program stays loaded and attached.
        assert kernel_has_prog(prog["id"])
        c = counter_of(prog, 0)
        poke_getpid()
        assert counter_of(prog, 0) >= c + 50, "the program stopped counting after bpfd exited on idle"

        d.start()
        after = snapshot()
        assert after == before, "bpfd shows other objects after idle exit:\n" + diff_snapshots(before, after)
        check_consistent("after idle exit and restart")
    finally:
        if not d.running:
            d.start()
        unload_all()
        # Leave the shared daemon as other tests expect it: without idle exit.
        d.stop()
        d.start()
