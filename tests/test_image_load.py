# SPDX-License-Identifier: LGPL-2.1-or-later
"""Programs from OCI bytecode images through bpfd: pulled from a real registry on 127.0.0.1 with its cosign
signature checked, shown with their image on the bus, kept across a daemon restart without pulling again,
refused when unsigned, and authorized by registry."""

import contextlib
import json
import os

import lib
from lib import unload
from test_image import new_key, push, registry, scratch, sign, write_config


@contextlib.contextmanager
def daemon_with_images(config, cache):
    """The shared daemon, restarted with these image settings (and back to the defaults afterwards)."""
    args = ["--image-config", config, "--image-cache", cache]
    lib.ensure_daemon()
    lib.daemon.stop()
    lib.daemon.start(args)
    try:
        yield args
    finally:
        lib.daemon.stop()
        lib.daemon.start()


def load_image(ref, user=None, check=True, policy="IfNotPresent"):
    return lib.run(["gdbus", "call", "--system", "--dest", lib.BUS_NAME, "--object-path", lib.MANAGER_PATH,
                    "--method", "org.bpfd.Manager.LoadFromImage", ref,
                    f"{{'programs': <['count_getpid']>, 'pull_policy': <'{policy}'>, "
                    f"'attach': <[{{'kind': <'tracepoint'>}}]>}}"], user=user, check=check)


def programs():
    return lib.bpfctl("--json", "list").json


def test_load_signed_image_and_restart_without_pulling():
    with registry() as reg:
        digest = push(reg, "v1")
        key = new_key()
        pub = sign(reg, digest, key)
        config = write_config(reg, require_signature=True, keys=[pub])
        cache = scratch()
        ref = reg.ref("v1")
        with daemon_with_images(config, cache) as args:
            load_image(ref)
            (prog,) = programs()
            try:
                assert prog["image_reference"] == ref and prog["image_digest"] == digest, prog
                assert prog["source"] == "image:" + ref
                pin = lib.counter_pin(prog)
                before = lib.counter(pin, 0)
                for _ in range(50):
                    os.getpid()
                assert lib.counter(pin, 0) - before >= 50
                listing = programs()
                # the registry goes away; a restarted daemon shows the same, without pulling again
                reg.stop()
                lib.daemon.kill()
                lib.daemon.start(args)
                assert programs() == listing
            finally:
                unload(prog["id"])


def test_unsigned_image_refused_and_policies():
    with registry() as reg:
        push(reg, "unsigned")
        pub = new_key()[:-4] + ".pub"
        config = write_config(reg, require_signature=True, keys=[pub])
        with daemon_with_images(config, scratch()):
            p = load_image(reg.ref("unsigned"), check=False)
            assert "org.bpfd.Error.NoSignature" in p.stderr, p.stderr
            p = load_image(reg.ref("nosuchtag"), check=False)
            assert "org.bpfd.Error.ImageNotFound" in p.stderr, p.stderr
            p = load_image(reg.ref("unsigned"), check=False, policy="Never")
            assert "org.bpfd.Error.ImageNotCached" in p.stderr, p.stderr
            p = load_image(reg.ref("unsigned"), check=False, policy="Sometimes")
            assert "org.bpfd.Error.InvalidArgument" in p.stderr, p.stderr
            p = load_image("not a reference", check=False)
            assert "org.bpfd.Error.InvalidArgument" in p.stderr, p.stderr
            reg.stop()
            p = load_image(reg.ref("unsigned"), check=False, policy="Always")
            assert "org.bpfd.Error.RegistryUnreachable" in p.stderr, p.stderr
            assert programs() == []


def test_polkit_sees_the_registry():
    """The test rules let group bpfd load tracepoint programs from registries on 127.0.0.1 only."""
    with registry() as reg:
        push(reg, "v1")
        config = write_config(reg)
        with open(config, "a") as f:
            f.write(f"\n[localhost:{reg.port}]\ninsecure=true\n")
        os.chmod(os.path.dirname(config), 0o755)
        with daemon_with_images(config, scratch()):
            p = load_image(f"localhost:{reg.port}/bpfd/test:v1", user=lib.ALICE, check=False)
            assert "org.bpfd.Error.PermissionDenied" in p.stderr and "org.bpfd.load-image" in p.stderr, p.stderr
            assert programs() == []
            load_image(reg.ref("v1"), user=lib.ALICE)
            (prog,) = programs()
            try:
                assert prog["owner_uid"] == lib.uid_of(lib.ALICE)
            finally:
                unload(prog["id"])


def manager_call(method, *args, check=True):
    return lib.run(["gdbus", "call", "--system", "--dest", lib.BUS_NAME, "--object-path", lib.MANAGER_PATH,
                    "--method", f"org.bpfd.Manager.{method}", *args], check=check)


def test_pull_list_and_remove():
    with registry() as reg:
        digest = push(reg, "v2")
        config = write_config(reg)
        with daemon_with_images(config, scratch()):
            out = manager_call("PullImage", reg.ref("v2"), "Always").stdout
            assert digest in out and "count_getpid" in out and "'from_cache': <false>" in out, out
            out = manager_call("PullImage", reg.ref("v2"), "").stdout
            assert "'from_cache': <true>" in out, out
            listing = manager_call("ListImages").stdout
            assert reg.ref("v2") in listing and digest in listing, listing
            manager_call("RemoveImage", reg.ref("v2"))
            assert reg.ref("v2") not in manager_call("ListImages").stdout
            p = manager_call("RemoveImage", reg.ref("v2"), check=False)
            assert "org.bpfd.Error.ImageNotCached" in p.stderr, p.stderr
            p = manager_call("PullImage", "nohost", "", check=False)
            assert "org.bpfd.Error.InvalidArgument" in p.stderr, p.stderr
