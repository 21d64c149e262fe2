# SPDX-License-Identifier: LGPL-2.1-or-later
"""Authorization before privilege (issue 11), tried as an attacker would, through the real bus and polkitd.

The caller is who the bus says; its bytes are read and parsed by an unprivileged, sandboxed helper
(bpfd-inspect) before polkit is asked; files a target names are opened as the caller and polkit sees their
canonical paths; a load that attaches asks org.bpfd.attach too; nothing privileged happens for a caller
before polkit said yes. Rules: tests/env/rules/40-bpfd-trust.rules.
"""

import ctypes
import glob
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time

import lib

ALICE, BOB = lib.ALICE, lib.BOB
QUIET_TRACEPOINT = "syscalls/sys_enter_getpgid"   # few other tests attach here
TRACEPOINT_OBJ = lib.bpf_obj("tracepoint_counter")
EXIT_NOT_ALLOWED = 3


def _tmpdir(prefix):
    d = tempfile.mkdtemp(prefix=prefix, dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")
    os.chmod(d, 0o755)
    return d


def _program_ids():
    return {p["id"] for p in lib.bpfctl("--json", "list").json or []}


def _unload_new(before):
    for i in _program_ids() - before:
        lib.bpfctl("unload", str(i), check=False)


def _status(path):
    fields = {}
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return fields


def _worker_tid(pid):
    for task in glob.glob(f"/proc/{pid}/task/*"):
        st = _status(os.path.join(task, "status"))
        if st and st.get("Name") == "bpfd-worker":
            return int(os.path.basename(task))
    raise AssertionError(f"bpfd (pid {pid}) has no bpfd-worker thread")


def _denied(p, what, words=()):
    assert p.returncode == EXIT_NOT_ALLOWED and "PermissionDenied" in p.stderr, \
        f"{what}: expected a refusal, got exit {p.returncode}:\n{p.stdout}\n{p.stderr}"
    for w in words:
        assert w in p.stderr, f"{what}: the refusal does not say {w!r}:\n{p.stderr}"


# ---- identity: the bus's, never /proc's ----

class _Inotify:
    IN_OPEN, IN_ACCESS = 0x20, 0x01

    def __init__(self, path):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0
        wd = self.libc.inotify_add_watch(self.fd, path.encode(), self.IN_OPEN | self.IN_ACCESS)
        assert wd >= 0, os.strerror(ctypes.get_errno())

    def events(self):
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return []
        out, i = [], 0
        while i + 16 <= len(data):
            _wd, mask, _cookie, n = struct.unpack_from("iIII", data, i)
            out.append(mask)
            i += 16 + n
        return out

    def close(self):
        os.close(self.fd)


SETGID_CALLER = r'''
import dbus, os, signal, sys, time
obj, sleeper, gid = sys.argv[1], sys.argv[2], int(sys.argv[3])
bus = dbus.SystemBus()            # the bus records who connects: this process, as it is now
child = os.fork()
if child:
    os.execv(sleeper, [sleeper, "120"])   # the connection's process becomes a setgid program
parent = os.getppid()
for _ in range(3000):                 # until the exec happened
    st = open(f"/proc/{parent}/status").read()
    if int(st.split("\nGid:")[1].split()[1]) == gid:
        break
    time.sleep(0.01)
else:
    print("NO-EXEC"); sys.stdout.flush(); os.kill(parent, signal.SIGKILL); sys.exit(1)
mgr = dbus.Interface(bus.get_object("org.bpfd", "/org/bpfd/Manager"), "org.bpfd.Manager")
try:
    mgr.LoadFromPath(obj, dbus.Dictionary({"programs": dbus.Array(["count_getpid"], signature="s")},
                                          signature="sv"), timeout=120)
    print("LOADED")
except dbus.DBusException as e:
    print("ERROR", e.get_dbus_name(), e.get_dbus_message())
sys.stdout.flush()
os.kill(parent, signal.SIGKILL)
'''


def test_setgid_exec_trick_refused_and_file_never_opened():
    """A client connects, then its process executes a setgid program (group shadow) while a child sends
    LoadFromPath on the inherited connection for a root:shadow 0640 object. bpfd must refuse, and must
    never open the file (inotify)."""
    lib.ensure_daemon()
    before = _program_ids()
    shadow = 42
    d = _tmpdir("setgid-")
    secret = os.path.join(d, "secret.bpf.o")
    shutil.copy(TRACEPOINT_OBJ, secret)
    os.chown(secret, 0, shadow)
    os.chmod(secret, 0o640)
    sleeper = os.path.join(d, "sleep-setgid")
    shutil.copy(shutil.which("sleep"), sleeper)
    os.chown(sleeper, 0, shadow)
    os.chmod(sleeper, 0o2755)
    script = os.path.join(d, "caller.py")
    with open(script, "w") as f:
        f.write(SETGID_CALLER)
    os.chmod(script, 0o644)
    watch = _Inotify(secret)
    try:
        # alice may load tracepoint programs: she must still not get one from a file she cannot read.
        p = lib.run(["/usr/bin/python3", script, secret, sleeper, str(shadow)], user=ALICE, check=False, timeout=150)
        out = p.stdout.strip()
        assert out.startswith("ERROR org.bpfd.Error.PermissionDenied"), f"{out}\n{p.stderr}"
        assert "setgid" in out, out
        assert watch.events() == [], "bpfd opened the caller's file before refusing"
        assert _program_ids() == before, "a program was loaded from a file the caller cannot read"
    finally:
        watch.close()
        _unload_new(before)


# ---- a load that attaches is an attachment ----

def test_load_with_attach_asks_attach_per_target():
    """Rule: alice may load tracepoint programs, but not attach them to syscalls/sys_enter_sync."""
    lib.ensure_daemon()
    before = _program_ids()
    obj = lib.world_readable_copy(TRACEPOINT_OBJ)
    try:
        p = lib.bpfctl("--no-ask-password", "load", "--by-path", obj, "-p", "count_getpid", "tracepoint",
                       "--tracepoint", "syscalls/sys_enter_sync", user=ALICE, check=False)
        _denied(p, "load with attach under load-yes/attach-no", ("org.bpfd.attach", "count_getpid"))
        assert _program_ids() == before, "the refused load left a program"
        # The load alone is allowed, and so is attaching elsewhere; attaching there is not.
        p = lib.bpfctl("--json", "--no-ask-password", "load", "--by-path", obj, "-p", "count_getpid", user=ALICE)
        prog = p.json["programs"][0]["id"]
        p = lib.bpfctl("--no-ask-password", "attach", str(prog), "tracepoint", "--tracepoint",
                       "syscalls/sys_enter_sync", user=ALICE, check=False)
        _denied(p, "Attach under attach-no")
        lib.bpfctl("--no-ask-password", "attach", str(prog), "tracepoint", "--tracepoint",
                   QUIET_TRACEPOINT, user=ALICE)
    finally:
        _unload_new(before)


# ---- targets as the caller, canonical ----

def test_uprobe_symlink_and_dotdot_refused_by_prefix_rule():
    """Rule: uprobes only on binaries in a directory trust-allowed. A symbolic link in it pointing out, and
    trust-allowed/../, are outside it: polkit sees the canonical path."""
    lib.ensure_daemon()
    before = _program_ids()
    d = _tmpdir("uprobe-")
    allowed, elsewhere = os.path.join(d, "trust-allowed"), os.path.join(d, "elsewhere")
    os.mkdir(allowed)
    os.mkdir(elsewhere)
    os.chmod(allowed, 0o755)
    os.chmod(elsewhere, 0o755)
    inside = os.path.join(allowed, "app")
    outside = os.path.join(elsewhere, "app")
    shutil.copy(lib.UPROBE_TARGET, inside)
    shutil.copy(lib.UPROBE_TARGET, outside)
    link = os.path.join(allowed, "link")
    os.symlink(outside, link)
    obj = lib.world_readable_copy(lib.bpf_obj("uprobe_counter"))

    def load(target):
        return lib.bpfctl("--json", "--no-ask-password", "load", "--by-path", obj, "-p", "count_uprobe", "uprobe",
                          "--target", target, "--fn", "bpfd_test_target", user=ALICE, check=False)
    try:
        p = load(inside)
        assert p.returncode == 0, f"the rule does not allow trust-allowed/app:\n{p.stderr}"
        link_dict = p.json["links"][0]
        assert link_dict["attach_point"].startswith(f"uprobe {inside}:"), link_dict
        _denied(load(link), "a symbolic link out of trust-allowed")
        _denied(lib.bpfctl("--no-ask-password", "load", "--by-path", obj, "-p", "count_uprobe", "uprobe", "--target",
                           inside, "--fn", "bpfd_test_target", "--pid", "1", user=ALICE, check=False),
                "a uprobe on pid 1 (detail pid)")
        _denied(load(os.path.join(allowed, "..", "elsewhere", "app")), "trust-allowed/../elsewhere/app")
        assert len(_program_ids() - before) == 1
    finally:
        _unload_new(before)


def _cgroup_root():
    root = os.environ.get("BPFD_TEST_CGROUP2")
    assert root and os.path.exists(os.path.join(root, "cgroup.procs")), "no cgroup v2 hierarchy"
    return root


def test_cgroup_dotdot_and_attach_type_rule():
    """Rule: cgroup programs only on cgroups named trust-alice*, and never connect4. trust-alice/.. is the
    parent (canonical detail); attach_type tells a cgroup_skb/egress counter from a cgroup/connect4 program."""
    lib.ensure_daemon()
    before = _program_ids()
    cg = os.path.join(_cgroup_root(), f"trust-alice-{os.getpid()}")
    os.mkdir(cg)
    egress = lib.world_readable_copy(lib.bpf_obj("cgroup_counter"))
    connect4 = lib.world_readable_copy(lib.bpf_obj("trust_connect4"))

    def load(obj, cgroup):
        return lib.bpfctl("--json", "--no-ask-password", "load", "--by-path", obj, "cgroup", "--cgroup", cgroup,
                          user=ALICE, check=False)
    try:
        p = load(egress, cg)
        assert p.returncode == 0, f"the rule does not allow an egress counter on {cg}:\n{p.stderr}"
        _denied(load(connect4, cg), "cgroup/connect4 under a rule refusing attach_type connect4",
                ("connect4", "allow_connect4"))
        _denied(load(egress, os.path.join(cg, "..")), "trust-alice/.. (the parent cgroup)")
        assert len(_program_ids() - before) == 1
    finally:
        _unload_new(before)
        for _ in range(50):
            try:
                os.rmdir(cg)
                break
            except OSError:
                time.sleep(0.1)   # the link's release is deferred


def test_network_details_priority_proceed_on_netns():
    """Rule: alice's XDP programs on eth1 (group rule) never with priority 1, proceed_on drop, or in the network
    namespace /run/netns/trust-forbidden, which ".." or a symbolic link do not disguise: polkit sees the
    namespace's canonical name, and bpfd enters the namespace polkit was told of."""
    lib.ensure_daemon()
    before = _program_ids()
    obj = lib.world_readable_copy(lib.bpf_obj("xdp_counter"))
    made = lib.run(["ip", "link", "show", "eth1"], check=False).returncode != 0
    if made:
        lib.run(["ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"])
    for ns in ("trust-forbidden", "trust-ok"):
        lib.run(["ip", "netns", "add", ns])
        lib.run(["ip", "-n", ns, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"])
    links = _tmpdir("trust-netns-")
    os.symlink("/run/netns/trust-forbidden", os.path.join(links, "harmless"))
    args = ("--json", "--no-ask-password", "load", obj, "-p", "xdp_count_a", "xdp", "--iface", "eth1")
    try:
        _denied(lib.bpfctl(*args, "--priority", "1", user=ALICE, check=False), "XDP priority 1", ("xdp_count_a",))
        _denied(lib.bpfctl(*args, "--proceed-on", "pass,drop", user=ALICE, check=False), "XDP proceed_on drop")
        for netns in ("/run/netns/trust-forbidden", "/run/netns/../netns/trust-forbidden",
                      "/run/netns/./trust-forbidden", os.path.join(links, "harmless")):
            _denied(lib.bpfctl(*args, "--netns", netns, user=ALICE, check=False), f"XDP in netns {netns}")
        # bpfd's own namespace under the opener's name is not the caller's: said before polkit is asked
        p = lib.bpfctl(*args, "--netns", "/proc/self/ns/net", user=ALICE, check=False)
        assert p.returncode != 0 and "InvalidArgument" in p.stderr and "/proc/PID/ns/net" in p.stderr, p.stderr
        assert _program_ids() == before
        p = lib.bpfctl(*args, "--priority", "60", "--netns", "/run/netns/../netns/trust-ok", user=ALICE, check=False)
        assert p.returncode == 0, f"the rules do not allow XDP at priority 60 on eth1 in trust-ok:\n{p.stderr}"
        (link,) = p.json["links"] if isinstance(p.json, dict) else [l for l in p.json if "target" in l]
        assert "/run/netns/trust-ok" in json.dumps(link), f"the link does not record the canonical netns: {link}"
        p = lib.bpfctl(*args, "--priority", "60", user=ALICE, check=False)
        assert p.returncode == 0, f"the rules do not allow XDP at priority 60 on eth1:\n{p.stderr}"
    finally:
        _unload_new(before)
        for ns in ("trust-forbidden", "trust-ok"):
            lib.run(["ip", "netns", "del", ns], check=False)
        if made:
            lib.run(["ip", "link", "del", "eth1"], check=False)


def test_image_load_shows_the_digest():
    """Rule: alice loads from images only if polkit is shown the manifest digest (image_digest)."""
    from test_image import push, registry, scratch, write_config
    from test_image_load import daemon_with_images, load_image
    before = _program_ids()
    with registry() as reg:
        digest = push(reg, "v1")
        with daemon_with_images(write_config(reg), scratch()):
            p = load_image(reg.ref("v1"), user=ALICE, check=False)
            progs = lib.bpfctl("--json", "list").json or []
            try:
                assert p.returncode == 0, p.stderr
                (prog,) = progs
                assert prog["image_digest"] == digest, prog
            finally:
                for prog in progs:
                    lib.bpfctl("unload", str(prog["id"]), check=False)
    assert _program_ids() == before


# ---- nothing privileged before polkit's yes ----

def _libbpf_path(pid):
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            path = line.split()[-1]
            if re.search(r"/libbpf\.so", path):
                return path
    raise AssertionError("bpfd has no libbpf mapped")


def test_caller_allowed_nothing_causes_no_parse_in_worker():
    """A uprobe on libbpf's bpf_object__open_mem, for bpfd's worker thread only, counts the worker's parses:
    bob's load (he may do nothing) makes none; alice's allowed load makes one."""
    daemon = lib.ensure_daemon()
    before = _program_ids()
    tid = _worker_tid(daemon.pid)
    libbpf = _libbpf_path(daemon.pid)
    progs, _ = lib.load("uprobe_counter", "-p", "count_uprobe", "uprobe", "--target", libbpf,
                        "--fn", "bpf_object__open_mem", "--pid", str(tid))
    pin = lib.counter_pin(progs[0])
    obj = lib.world_readable_copy(TRACEPOINT_OBJ)
    try:
        assert lib.counter(pin, 0) == 0
        p = lib.bpfctl("--no-ask-password", "load", "--by-path", obj, "-p", "count_getpid", user=BOB, check=False)
        _denied(p, "bob's load")
        p = lib.bpfctl("--no-ask-password", "load", obj, "-p", "count_getpid", user=BOB, check=False)
        _denied(p, "bob's load by descriptor")
        assert lib.counter(pin, 0) == 0, "the worker parsed the object of a caller polkit refused"
        lib.bpfctl("--no-ask-password", "load", "--by-path", obj, "-p", "count_getppid", user=ALICE)
        assert lib.counter(pin, 0) >= 1, "the probe does not see the worker's parses"
    finally:
        _unload_new(before)


def test_map_owner_refused_before_any_shape_is_compared():
    """bob names alice's program as map owner with a map "counter" of another shape: he is refused for
    the share itself (org.bpfd.map-others) and learns nothing of the map's layout."""
    lib.ensure_daemon()
    before = _program_ids()
    obj = lib.world_readable_copy(TRACEPOINT_OBJ)
    odd = lib.world_readable_copy(lib.bpf_obj("trust_shape"))
    try:
        p = lib.bpfctl("--json", "--no-ask-password", "load", "--by-path", obj, "-p", "count_getpid", user=ALICE)
        owner = p.json["programs"][0]["id"]
        for user in (BOB, ALICE):   # alice may load, but not share others'... her own program: shape refused
            p = lib.bpfctl("--no-ask-password", "load", "--by-path", odd, "--map-owner-id", str(owner),
                           user=user, check=False)
            if user == BOB:
                _denied(p, "bob sharing alice's maps")
                assert "array" not in p.stderr and "key 4" not in p.stderr and "8 entries" not in p.stderr, \
                    f"bob learned the layout of alice's map:\n{p.stderr}"
            else:
                assert p.returncode != 0 and "does not match" in p.stderr, p.stderr
        # The detail map_owner_uid: a rule refuses count_getppid sharing anybody's maps.
        p = lib.bpfctl("--no-ask-password", "load", "--by-path", obj, "-p", "count_getppid", "--map-owner-id",
                       str(owner), user=ALICE, check=False)
        _denied(p, "a load sharing maps under a rule keyed on map_owner_uid", ("count_getppid",))
        lib.bpfctl("--no-ask-password", "load", "--by-path", obj, "-p", "count_getpid", "--map-owner-id", str(owner),
                   user=ALICE)
        # carol may manage others' programs but not their maps: the share needs map-others first.
        p = lib.bpfctl("--no-ask-password", "load", "--by-path", odd, "--map-owner-id", str(owner),
                       user=lib.CAROL, check=False)
        assert p.returncode != 0 and "does not match" not in p.stderr, p.stderr
    finally:
        _unload_new(before)


# ---- least privilege, seen from /proc ----

def _children(pid):
    out = []
    for st_path in glob.glob("/proc/[0-9]*/status"):
        st = _status(st_path)
        if st and st.get("PPid") == str(pid):
            out.append((int(st_path.split("/")[2]), st))
    return out


def _fd0(pid):
    try:
        return os.readlink(f"/proc/{pid}/fd/0")
    except OSError:
        return None


def _check_bpfd_threads(pid):
    privileged = []
    for task in glob.glob(f"/proc/{pid}/task/*/status"):
        st = _status(task)
        if st and st["Name"] == "bpfd-reaper":
            # ends bpfd's helpers: CAP_KILL and nothing else (tests/test_privilege.py checks it in full)
            assert int(st["CapEff"], 16) | int(st["CapPrm"], 16) == 1 << CAPS["CAP_KILL"], st
        elif st and int(st["CapEff"], 16) | int(st["CapPrm"], 16):
            privileged.append(st["Name"])
    assert privileged == ["bpfd-worker"], f"threads with capabilities: {privileged}"


LOAD_FROM_FD = r'''
import dbus, sys
mgr = dbus.Interface(dbus.SystemBus().get_object("org.bpfd", "/org/bpfd/Manager"), "org.bpfd.Manager")
progs, links = mgr.LoadFromFd(dbus.types.UnixFd(int(sys.argv[1])),
                              dbus.Dictionary({"programs": dbus.Array(["count_getpid"], signature="s")},
                                              signature="sv"), timeout=120)
print("LOADED", len(progs))
'''


def test_helpers_are_sandboxed_while_working():
    """While bpfd-inspect reads an object from a pipe (held open by the test), it runs with no capabilities,
    an empty bounding set, a non-zero uid, no_new_privs, a seccomp filter and only its three descriptors;
    bpfd has exactly one thread with capabilities. Then the load completes."""
    daemon = lib.ensure_daemon()
    before = _program_ids()
    r, w = os.pipe()
    call = subprocess.Popen(["/usr/bin/python3", "-c", LOAD_FROM_FD, str(r)], pass_fds=(r,), cwd="/",
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(r)
    try:
        # the helper at work on this pipe (not the spare waiting beside it, see test_inspect_zygote.py)
        pipe = f"pipe:[{os.fstat(w).st_ino}]"
        helpers = lib.wait_for(lambda: [c for c in _children(daemon.pid)
                                        if c[1]["Name"] == "bpfd-inspect" and _fd0(c[0]) == pipe],
                               timeout=30, what="bpfd-inspect to start")
        (hpid, st), = helpers
        text = "\n".join(f"{k}: {v}" for k, v in st.items() if k.startswith(("Cap", "Uid", "Gid", "NoNew", "Secc")))
        assert all(int(x) != 0 for x in st["Uid"].split()), text
        assert all(int(x) != 0 for x in st["Gid"].split()), text
        for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert int(st[cap], 16) == 0, text
        assert st["NoNewPrivs"] == "1", text
        assert st["Seccomp"] == "2", text
        fds = {int(f): os.readlink(f"/proc/{hpid}/fd/{f}") for f in os.listdir(f"/proc/{hpid}/fd")}
        # 0 the object (the pipe), 1 the socket to bpfd, 2 bpfd's log, and the memfd it fills
        assert fds[0].startswith("pipe:") and fds[1].startswith("socket:"), fds
        assert [n for n, t in fds.items() if n > 2] == [3] and fds[3].startswith("/memfd:bpfd-object"), fds
        _check_bpfd_threads(daemon.pid)
        with open(TRACEPOINT_OBJ, "rb") as f:
            os.write(w, f.read())
        os.close(w)
        w = None
        out, err = call.communicate(timeout=60)
        assert call.returncode == 0, err
        assert out.startswith("LOADED 1"), out
        _check_bpfd_threads(daemon.pid)
    finally:
        if w is not None:
            os.close(w)
        if call.poll() is None:
            call.kill()
        _unload_new(before)


class _OpenGate:
    """fanotify's FAN_OPEN_PERM on one file: every open() of it waits until the test answers, so the opening
    process can be looked at while it opens (no timing involved: it waits for us)."""
    FAN_CLOEXEC, FAN_CLASS_CONTENT, FAN_MARK_ADD, FAN_OPEN_PERM, FAN_ALLOW = 0x1, 0x4, 0x1, 0x10000, 0x1

    def __init__(self, path):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.fanotify_init(self.FAN_CLOEXEC | self.FAN_CLASS_CONTENT, os.O_RDONLY | os.O_LARGEFILE)
        assert self.fd >= 0, f"fanotify_init: {os.strerror(ctypes.get_errno())}"
        r = self.libc.fanotify_mark(self.fd, self.FAN_MARK_ADD, ctypes.c_uint64(self.FAN_OPEN_PERM), -100,
                                    path.encode())
        assert r == 0, f"fanotify_mark: {os.strerror(ctypes.get_errno())}"

    def next_open(self, timeout=60):
        """(event fd, pid) of the next open of the file, which waits for allow()."""
        import select
        ready, _, _ = select.select([self.fd], [], [], timeout)
        assert ready, "nobody opened the file"
        data = os.read(self.fd, 4096)
        _, _, _, _, _, fd, pid = struct.unpack_from("=IBBHQii", data)
        return fd, pid

    def allow(self, event_fd):
        os.write(self.fd, struct.pack("=iI", event_fd, self.FAN_ALLOW))
        os.close(event_fd)

    def close(self):
        os.close(self.fd)


def test_opener_holds_only_its_socket_while_opening():
    """The child that opens a caller's file as the caller (LoadFromPath, uprobe binaries, cgroups, netns) is
    caught inside its open() with fanotify: it runs as the caller's uid and groups with no capabilities and
    holds one descriptor, the socket back to the worker: no eventfd, signalfd, bus socket or program of
    bpfd's. Then the open is allowed and the load completes."""
    lib.ensure_daemon()
    before = _program_ids()
    obj = lib.world_readable_copy(TRACEPOINT_OBJ)
    gate = _OpenGate(obj)
    call = subprocess.Popen(["runuser", "-u", ALICE, "--", "busctl", "--system", "--timeout=120", "call", "org.bpfd",
                             "/org/bpfd/Manager", "org.bpfd.Manager", "LoadFromPath", "sa{sv}", obj,
                             "1", "programs", "as", "1", "count_getppid"],
                            cwd="/", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    event_fd = None
    try:
        event_fd, pid = gate.next_open()
        st = _status(f"/proc/{pid}/status")
        fds = {int(f): os.readlink(f"/proc/{pid}/fd/{f}") for f in os.listdir(f"/proc/{pid}/fd")}
        text = "\n".join(f"{k}: {v}" for k, v in st.items() if k.startswith(("Cap", "Uid", "Gid", "Groups")))
        alice = lib.uid_of(ALICE)
        assert all(int(x) == alice for x in st["Uid"].split()), text
        for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
            assert int(st[cap], 16) == 0, text
        assert st["NoNewPrivs"] == "1", text
        # 0 the socket to the worker; 1 and 2 only if they are the daemon's stdout/stderr, nothing else
        assert list(fds) == [0] and fds[0].startswith("socket:"), \
            f"the opener holds more than its socket: {fds}"
        gate.allow(event_fd)
        event_fd = None
        out, err = call.communicate(timeout=120)
        assert call.returncode == 0, err
        assert "/org/bpfd/Manager/program" in out, out
    finally:
        if event_fd is not None:
            gate.allow(event_fd)
        gate.close()
        if call.poll() is None:
            call.kill()
        _unload_new(before)


CAPS = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3, "CAP_KILL": 5,
        "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_ADMIN": 12,
        "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18,
        "CAP_SYS_PTRACE": 19, "CAP_SYS_ADMIN": 21, "CAP_SYS_RESOURCE": 24, "CAP_PERFMON": 38, "CAP_BPF": 39}


def test_readme_lists_the_workers_capabilities():
    """README.md's "Who may do what" names exactly the capabilities the worker thread has."""
    daemon = lib.ensure_daemon()
    with open(os.path.join(lib.SRC_DIR, "README.md")) as f:
        readme = f.read()
    m = re.search(r"The worker thread keeps exactly these capabilities: ([^.]*)\.", readme)
    assert m, "README.md does not list the worker's capabilities"
    listed = {c.strip(" `") for c in m.group(1).replace(" and ", ", ").split(",") if c.strip()}
    tid = _worker_tid(daemon.pid)
    eff = int(_status(f"/proc/{daemon.pid}/task/{tid}/status")["CapEff"], 16)
    have = {name for name, bit in CAPS.items() if eff & (1 << bit)}
    assert eff == sum(1 << CAPS[n] for n in have), f"the worker has capabilities the test does not know: {eff:x}"
    assert listed == have, f"README lists {sorted(listed)}, the worker has {sorted(have)}"
    assert "CAP_DAC_READ_SEARCH" not in have
    # The unit's bounding set is the same list: under systemd bpfd has nothing more, and nothing less.
    with open(os.path.join(lib.SRC_DIR, "dbus", "bpfd.service.in")) as f:
        unit = re.search(r"^CapabilityBoundingSet=(.*)$", f.read(), re.M)
    assert unit and set(unit.group(1).split()) == have, (unit and unit.group(1), sorted(have))


# ---- polkit: distinct answers, a person's time ----

def test_password_needed_is_told_from_not_allowed():
    """A rule asks an administrator's password of bob for count_getppid: without interactive authorization,
    and with it but no agent, he is told a password is needed (two sentences); alice under a NO rule is
    told she is not allowed."""
    lib.ensure_daemon()
    before = _program_ids()
    obj = lib.world_readable_copy(TRACEPOINT_OBJ)
    try:
        p = lib.bpfctl("--no-ask-password", "load", "--by-path", obj, "-p", "count_getppid", user=BOB, check=False)
        _denied(p, "bob without interactive authorization",
                ("password is needed", "did not allow interactive", "count_getppid", "tracepoint"))
        p = lib.busctl("call", "--allow-interactive-authorization=yes", "org.bpfd", "/org/bpfd/Manager",
                       "org.bpfd.Manager", "LoadFromPath", "sa{sv}", obj, "1", "programs", "as", "1", "count_getppid",
                       user=BOB, check=False)
        assert p.returncode != 0 and "password is needed" in p.stderr and "agent" in p.stderr, p.stderr
        assert "did not allow" not in p.stderr, p.stderr
        p = lib.bpfctl("--no-ask-password", "load", "--by-path", obj, "-p", "count_getpid", "tracepoint",
                       "--tracepoint", "syscalls/sys_enter_sync", user=ALICE, check=False)
        _denied(p, "alice under a NO rule", ("not allowed", "count_getpid"))
        assert "password" not in p.stderr, p.stderr
        p = lib.bpfctl("--no-ask-password", "load", "--by-path", obj, "-p", "count_getppid", user=lib.CAROL,
                       check=False)
        _denied(p, "carol, allowed nothing", ("not allowed",))
        assert "password" not in p.stderr, p.stderr
        assert _program_ids() == before
    finally:
        _unload_new(before)


def test_polkit_answer_after_40_seconds_still_loads():
    """polkitd stopped (SIGSTOP) while alice's load waits for it, continued 40 s later: the load goes
    through (sd-bus's default 25 s would have failed it)."""
    lib.ensure_daemon()
    before = _program_ids()
    obj = lib.world_readable_copy(TRACEPOINT_OBJ)
    polkitd = lib.name_owner_pid("org.freedesktop.PolicyKit1")
    assert polkitd
    os.kill(polkitd, signal.SIGSTOP)
    try:
        load = subprocess.Popen(["runuser", "-u", ALICE, "--", lib.BPFCTL, "--no-ask-password", "load", "--by-path",
                                 obj, "-p", "count_getpid"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd="/")
        time.sleep(40)
        assert load.poll() is None, f"the load ended while polkitd was stopped: {load.communicate()}"
    finally:
        os.kill(polkitd, signal.SIGCONT)
    try:
        out, err = load.communicate(timeout=120)
        assert load.returncode == 0, err
        assert len(_program_ids() - before) == 1
    finally:
        _unload_new(before)
