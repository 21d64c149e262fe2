# SPDX-License-Identifier: LGPL-2.1-or-later
"""Images through bpfd, as an attacker and as a busy node would try them (issue 12), against real
registries on 127.0.0.1 (Debian's docker-registry), the real bus and polkitd:
polkit is asked before the registry or the cache is touched; a digest reference is served from the
cache only for the registry and repository it came from; one registry has one name under a signing
requirement; image rm and the size limit free the bytes; bad objects never stay under a tag; others'
images are theirs to remove; a stalled pull delays nobody's file load; bpfctl names its options."""

import json
import os
import socket
import subprocess
import threading

import lib
from lib import unload
from test_image import Registry, free_port, new_key, push, registry, scratch, sign, write_config
from test_image_load import daemon_with_images, load_image, manager_call, programs


def access_log_size(reg):
    """Bytes of the registry's log (access log on): what it was asked so far."""
    reg.log.flush()
    return os.path.getsize(f"{reg.dir}/registry.log")


def requests_since(reg, offset):
    with open(f"{reg.dir}/registry.log", "rb") as f:
        f.seek(offset)
        return [line for line in f.read().decode(errors="replace").splitlines() if "/v2/" in line]


def logging_registry():
    reg = Registry()
    with open(reg.config) as f:
        config = f.read()
    config = config.replace("  level: error", "  level: info").replace("    disabled: true", "    disabled: false")
    with open(reg.config, "w") as f:
        f.write(config)
    return reg


def cache_bytes(cache):
    total = 0
    for sub in ("blobs", "objects"):
        for root, _, files in os.walk(os.path.join(cache, sub)):
            total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def open_for_all(path):
    os.chmod(os.path.dirname(path), 0o755)


def test_refused_caller_causes_no_registry_request():
    reg = logging_registry().start()
    try:
        push(reg, "v1")
        config = write_config(reg)
        with open(config, "a") as f:
            f.write(f"\n[localhost:{reg.port}]\ninsecure=true\n")
        open_for_all(config)
        cache = scratch()
        with daemon_with_images(config, cache):
            before = access_log_size(reg)
            # bob may load nothing; alice may pull from 127.0.0.1 only, and localhost is another registry
            for user, ref in ((lib.BOB, reg.ref("v1")), (lib.ALICE, f"localhost:{reg.port}/bpfd/test:v1")):
                p = load_image(ref, user=user, check=False)
                assert "org.bpfd.Error.PermissionDenied" in p.stderr and "org.bpfd.load-image" in p.stderr, p.stderr
                p = manager_call_as(user, "PullImage", ref, "Always")
                assert "org.bpfd.Error.PermissionDenied" in p.stderr, p.stderr
            assert requests_since(reg, before) == [], requests_since(reg, before)
            assert cache_bytes(cache) == 0
            # another spelling of localhost's name is still localhost
            p = load_image(f"LOCALHOST:0{reg.port}/bpfd/test:v1", user=lib.ALICE, check=False)
            assert "org.bpfd.Error.PermissionDenied" in p.stderr, p.stderr
            assert requests_since(reg, before) == [] and cache_bytes(cache) == 0
            assert "reference" not in manager_call("ListImages").stdout
            # allowed: the registry is asked
            load_image(reg.ref("v1"), user=lib.ALICE)
            (prog,) = programs()
            unload(prog["id"])
            assert requests_since(reg, before) != []
    finally:
        reg.stop()


def manager_call_as(user, method, *args):
    return lib.run(["gdbus", "call", "--system", "--dest", lib.BUS_NAME, "--object-path", lib.MANAGER_PATH,
                    "--method", f"org.bpfd.Manager.{method}", *args], user=user, check=False)


def test_digest_reference_only_from_where_it_came():
    with registry() as a, registry() as b:
        digest = push(a, "v1")
        push(b, "other")
        config = write_config(a)
        with open(config, "a") as f:
            f.write(f"\n[{b.addr}]\ninsecure=true\n")
        open_for_all(config)
        with daemon_with_images(config, scratch()):
            manager_call("PullImage", a.ref("v1"), "Always")
            # b never had that manifest: the shared cache must not vouch for it
            for policy in ("IfNotPresent", "Never"):
                p = load_image(f"{b.addr}/bpf/anything@{digest}", user=lib.ALICE, check=False, policy=policy)
                unload(*[p["id"] for p in programs()])
                assert ("org.bpfd.Error.ImageNotFound" if policy == "IfNotPresent"
                        else "org.bpfd.Error.ImageNotCached") in p.stderr, p.stderr
            try:
                assert programs() == []
                # from where it came, the digest is served (from the cache, registry gone)
                a.stop()
                load_image(f"{a.addr}/bpfd/test@{digest}", user=lib.ALICE, policy="Never")
                assert len(programs()) == 1
            finally:
                unload(*[p["id"] for p in programs()])


def test_one_registry_one_name_under_a_signing_requirement():
    with registry() as reg:
        push(reg, "unsigned")
        pub = new_key()[:-4] + ".pub"
        config = write_config(reg, require_signature=True, keys=[pub])
        with daemon_with_images(config, scratch()):
            for ref in (f"localhost:{reg.port}/bpfd/test:unsigned", f"127.0.0.1:0{reg.port}/bpfd/test:unsigned",
                        reg.ref("unsigned")):
                p = load_image(ref, check=False)
                unload(*[p["id"] for p in programs()])
                assert "org.bpfd.Error.NoSignature" in p.stderr, (ref, p.stderr)
            assert programs() == []


def test_image_rm_and_the_limit_free_the_bytes():
    with registry() as reg:
        d1 = push(reg, "v1")
        push(reg, "v2", "--labels", "v1")
        pub = sign(reg, d1, new_key())
        config = write_config(reg, keys=[pub])
        cache = scratch()
        with daemon_with_images(config, cache):
            manager_call("PullImage", reg.ref("v1"), "Always")
            manager_call("PullImage", reg.ref("v2"), "Always")
            assert cache_bytes(cache) > 0
            manager_call("RemoveImage", reg.ref("v1"))
            assert cache_bytes(cache) > 0
            manager_call("RemoveImage", reg.ref("v2"))
            assert cache_bytes(cache) == 0, os.listdir(os.path.join(cache, "blobs", "sha256"))
        # A limit smaller than two images: the least recently used one goes.
        cache = scratch()
        lib.daemon.stop()
        lib.daemon.start(["--image-config", config, "--image-cache", cache, "--image-cache-max", "1"])
        try:
            manager_call("PullImage", reg.ref("v1"), "Always")
            one = cache_bytes(cache)
            manager_call("PullImage", reg.ref("v2"), "Always")
            listing = manager_call("ListImages").stdout
            assert reg.ref("v2") in listing and reg.ref("v1") not in listing, listing
            manager_call("PullImage", reg.ref("v1"), "Always")
            assert cache_bytes(cache) == one
            # what a loaded program came from is not evicted; once unloaded it is
            load_image(reg.ref("v1"), policy="Never")
            try:
                manager_call("PullImage", reg.ref("v2"), "Always")
                listing = manager_call("ListImages").stdout
                assert reg.ref("v2") in listing and reg.ref("v1") in listing, listing
            finally:
                unload(*[p["id"] for p in programs()])
            manager_call("PullImage", reg.ref("v2"), "Always")
            listing = manager_call("ListImages").stdout
            assert reg.ref("v2") in listing and reg.ref("v1") not in listing, listing
        finally:
            lib.daemon.stop()
            lib.daemon.start()


def test_bad_object_never_stays_under_its_tag():
    bad = os.path.join(scratch(), "tracepoint_counter.bpf.o")
    with open(bad, "wb") as f:
        f.write(b"\x7fELF" + os.urandom(4096))
    with registry() as reg:
        lib.run([os.path.join(lib.TESTS_DIR, "image", "make-image"), "--registry", reg.addr, "--tag", "t",
                 "--object", bad, "--workdir", scratch()], timeout=120)
        with daemon_with_images(write_config(reg), scratch()):
            p = load_image(reg.ref("t"), check=False)
            assert "org.bpfd.Error.InvalidImage" in p.stderr, p.stderr
            assert reg.ref("t") not in manager_call("ListImages").stdout
            push(reg, "t")   # fixed, same tag
            load_image(reg.ref("t"))
            (prog,) = programs()
            unload(prog["id"])


def test_others_images_are_theirs_to_remove():
    with registry() as reg:
        push(reg, "v1")
        config = write_config(reg)
        open_for_all(config)
        with daemon_with_images(config, scratch()):
            load_image(reg.ref("v1"))   # root's program
            (prog,) = programs()
            try:
                p = manager_call_as(lib.ALICE, "RemoveImage", reg.ref("v1"))
                assert "org.bpfd.Error.PermissionDenied" in p.stderr and "org.bpfd.manage-others" in p.stderr, p.stderr
                assert reg.ref("v1") in manager_call("ListImages").stdout
                load_image(reg.ref("v1"), policy="Never")
            finally:
                unload(*[p["id"] for p in programs()])
            # nobody's program comes from it any more: alice may
            p = manager_call_as(lib.ALICE, "RemoveImage", reg.ref("v1"))
            assert p.returncode == 0, p.stderr


class StalledRegistry:
    """Accepts connections and reads the request, then answers nothing until released."""

    def __init__(self):
        self.port = free_port()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(8)
        self.got_request = threading.Event()
        self.conns = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            if b"GET /v2/" in c.recv(4096):
                self.got_request.set()

    def release(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def bpfd_helpers():
    """The status of every process under bpfd (children and theirs)."""
    procs = {}
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/status") as f:
                procs[pid] = {k: v.strip() for k, v in
                              (line.split(":", 1) for line in f.read().splitlines() if ":" in line)}
        except OSError:
            continue
    under, todo = [], [str(lib.daemon.pid)]
    while todo:
        parent = todo.pop()
        for pid, status in procs.items():
            if status.get("PPid") == parent:
                under.append(status)
                todo.append(pid)
    return under


def test_stalled_pull_delays_nobody():
    stalled = StalledRegistry()
    config = os.path.join(scratch(), "registries.conf")
    with open(config, "w") as f:
        f.write(f"[127.0.0.1:{stalled.port}]\ninsecure=true\n")
    with daemon_with_images(config, scratch()):
        pull = subprocess.Popen(["gdbus", "call", "--system", "--dest", lib.BUS_NAME, "--object-path",
                                 lib.MANAGER_PATH, "--method", "org.bpfd.Manager.PullImage",
                                 f"127.0.0.1:{stalled.port}/bpfd/test:v1", "Always"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert stalled.got_request.wait(60), "the puller never asked the registry"
            # the puller and its pull: not root, no capabilities, empty bounding set, no_new_privs
            helpers = [h for h in bpfd_helpers() if h["Name"] == "bpfd-image"]
            assert len(helpers) >= 2, helpers
            for h in helpers:
                assert all(int(uid) != 0 for uid in h["Uid"].split()), h
                assert all(int(gid) != 0 for gid in h["Gid"].split()) and h["Groups"] == "", h
                assert int(h["CapBnd"], 16) == 0 and int(h["CapEff"], 16) == 0, h
                assert int(h["CapPrm"], 16) == 0 and h["NoNewPrivs"] == "1", h
            # another user's file load goes through while the pull hangs
            p = lib.bpfctl("--json", "load", lib.bpf_obj("tracepoint_counter"), "-p", "count_getpid",
                           user=lib.ALICE)
            ids = [x["id"] for x in p.json["programs"]]
            unload(*ids)
            assert pull.poll() is None, "the pull ended before the file load could run"
        finally:
            stalled.release()
            _, err = pull.communicate(timeout=120)
        assert "org.bpfd.Error.RegistryUnreachable" in err, err


def test_cli_names_options():
    with registry() as reg:
        push(reg, "v1")
        with daemon_with_images(write_config(reg), scratch()):
            p = lib.bpfctl("load", "image", reg.ref("v1"), "tracepoint", check=False)
            assert p.returncode != 0 and "--attach-program" in p.stderr and "'program'" not in p.stderr, p.stderr
            assert programs() == []


def test_cached_load_sees_a_changed_cache():
    """The puller answers cached loads from memory while the files are as they were; a change is seen."""
    with registry() as reg:
        digest = push(reg, "v1")
        cache = scratch()
        config = write_config(reg)
        with daemon_with_images(config, cache):
            for policy in ("IfNotPresent", "Never", "Never", "Never"):
                load_image(reg.ref("v1"), policy=policy)
                (prog,) = programs()
                assert prog["image_digest"] == digest
                unload(prog["id"])
            # the administrator now requires signatures: what was remembered no longer holds
            with open(config) as f:
                unsigned = f.read()
            with open(config, "w") as f:
                f.write(unsigned + f"require_signature=true\nkeys={new_key()[:-4]}.pub\n")
            p = load_image(reg.ref("v1"), check=False, policy="Never")
            assert "org.bpfd.Error.NoSignature" in p.stderr, p.stderr
            with open(config, "w") as f:
                f.write(unsigned)
            load_image(reg.ref("v1"), policy="Never")
            unload(*[p["id"] for p in programs()])
            # the cache belongs to the puller's user, not root
            st = os.stat(os.path.join(cache, "blobs", "sha256", digest.split(":")[1]))
            assert st.st_uid != 0 and st.st_uid == os.stat(cache).st_uid
            manifest = json.load(open(os.path.join(cache, "blobs", "sha256", digest.split(":")[1])))
            layer = os.path.join(cache, "blobs", "sha256", manifest["layers"][0]["digest"].split(":")[1])
            with open(layer, "r+b") as f:
                f.seek(20)
                f.write(b"\xff\xfe\xfd")
            p = load_image(reg.ref("v1"), check=False, policy="Never")
            assert "org.bpfd.Error.DigestMismatch" in p.stderr, p.stderr
            assert programs() == []


def test_killed_puller_means_a_fresh_daemon():
    """A puller killed with SIGKILL cannot be started again without the privileges bpfd dropped: bpfd
    ends (failure) so that its manager starts it again, with a new puller; loaded programs stay."""
    with registry() as reg:
        push(reg, "v1")
        with daemon_with_images(write_config(reg), scratch()) as args:
            load_image(reg.ref("v1"))
            (prog,) = programs()
            try:
                (serve,) = [h for h in bpfd_helpers() if h["Name"] == "bpfd-image" and h["PPid"] == str(lib.daemon.pid)]
                os.kill(int(serve["Pid"]), 9)
                lib.wait_for(lambda: not lib.daemon.running, timeout=60, what="bpfd to end after its puller")
                assert lib.daemon.proc.returncode == 1, lib.daemon.log_tail()
                assert "image puller ended" in lib.daemon.log(), lib.daemon.log_tail()
                lib.daemon.start(args)
                assert [p["id"] for p in programs()] == [prog["id"]]
                load_image(reg.ref("v1"), policy="Never")
                assert len(programs()) == 2
            finally:
                unload(*[p["id"] for p in programs()])
