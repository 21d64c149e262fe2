# SPDX-License-Identifier: LGPL-2.1-or-later
"""Specs whose objects come from images (issue 17 with issue 12's puller), through the real bus, polkitd,
kernel and a real registry on 127.0.0.1: a user's apply asks org.bpfd.load-image (operation pull) before
any registry or the cache is touched, exactly as LoadFromImage does; an allowed apply loads what the puller
verified (the image's labels naming the programs, Program.ImageReference and ImageDigest set); applying it
again touches no registry; a user's spec with pull policy Never and nothing cached fails at once; root's
spec waiting for an interface is pulled again (from the cache) when the interface comes."""

import os

import lib
from test_image import Registry, push, write_config, scratch
from test_image_load import daemon_with_images
from test_image_policy import access_log_size, cache_bytes, logging_registry, open_for_all, requests_since
from test_spec import TCX_OBJ, apply, programs_of_spec, remove_spec, spec_props, tmpdir, write_spec


def image_spec(ref, policy=None):
    """Both programs of the image, named by its labels (no Programs=), each on its tracepoint."""
    return f"""[Object counters]
Image={ref}
{f"ImagePullPolicy={policy}" if policy else ""}

[Attach getpid]
Program=count_getpid
Tracepoint=syscalls/sys_enter_getpid

[Attach getppid]
Program=count_getppid
Tracepoint=syscalls/sys_enter_getppid
"""


def apply_as(user, path):
    return lib.bpfctl("--json", "--no-ask-password", "apply", path, user=user, check=False)


def test_user_spec_from_image_is_authorized_before_the_pull():
    reg = logging_registry().start()
    d = tmpdir()
    try:
        digest = push(reg, "v1")
        config = write_config(reg)
        with open(config, "a") as f:
            f.write(f"\n[localhost:{reg.port}]\ninsecure=true\n")
        open_for_all(config)
        cache = scratch()
        with daemon_with_images(config, cache):
            before = access_log_size(reg)
            # alice may apply specs and pull from 127.0.0.1 only: localhost is another registry
            p = apply_as(lib.ALICE, write_spec(d, "elsewhere", image_spec(f"localhost:{reg.port}/bpfd/test:v1")))
            assert p.returncode == 3, (p.returncode, p.stderr)
            assert "org.bpfd.load-image" in p.stderr and "pull" in p.stderr, p.stderr
            assert requests_since(reg, before) == [] and cache_bytes(cache) == 0
            assert spec_props("elsewhere") is None and programs_of_spec("elsewhere") == []
            # bob may not apply at all: nothing is pulled for him either
            p = apply_as(lib.BOB, write_spec(d, "bobs", image_spec(reg.ref("v1"))))
            assert p.returncode == 3 and "org.bpfd.apply" in p.stderr, p.stderr
            assert requests_since(reg, before) == [] and cache_bytes(cache) == 0

            # a user's spec with pull policy Never and nothing cached: no wait (polkit was asked about no load)
            p = apply_as(lib.ALICE, write_spec(d, "never", image_spec(reg.ref("v1"), "Never")))
            assert p.returncode != 0 and "ImageNotCached" in p.stderr, p.stderr
            assert spec_props("never") is None
            assert requests_since(reg, before) == []

            # allowed: pulled through the puller, loaded as alice, the labels name the programs
            path = write_spec(d, "alices", image_spec(reg.ref("v1")))
            ok = apply_as(lib.ALICE, path)
            assert ok.returncode == 0, ok.stderr
            ok = ok.json
            assert ok["Status"] == "Applied" and ok["OwnerUid"] == lib.uid_of(lib.ALICE), ok
            assert len(ok["Programs"]) == 2 and len(ok["Links"]) == 2, ok
            progs = programs_of_spec("alices")
            assert sorted(p["name"] for p in progs) == ["count_getpid", "count_getppid"], progs
            for prog in progs:
                assert prog["owner_uid"] == lib.uid_of(lib.ALICE), prog
                assert prog["image_reference"] == reg.ref("v1") and prog["image_digest"] == digest, prog
            assert requests_since(reg, before) != [] and cache_bytes(cache) > 0

            # applying it again changes nothing and asks no registry, even one that is gone
            reg.stop()
            again = apply_as(lib.ALICE, path)
            assert again.returncode == 0, again.stderr
            again = again.json
            assert again["Status"] == "Applied" and again["Generation"] == ok["Generation"], again
            assert again["Programs"] == ok["Programs"] and again["Links"] == ok["Links"], again
    finally:
        for name in ("elsewhere", "bobs", "never", "alices"):
            remove_spec(name)
        reg.stop()


def test_image_spec_waiting_for_an_interface_is_pulled_again_from_the_cache():
    """Root's spec from an image with a tcx attachment on an interface that is not there: the image is pulled
    and inspected, the spec is Pending for the interface; when it comes (rtnetlink) the retry pulls through
    the puller again, from the cache (the registry is gone by then), and loads."""
    reg = Registry().start()
    d = tmpdir()
    ifname = "spi%d" % (os.getpid() % 10000)
    try:
        digest = push(reg, "tcx", "--object", TCX_OBJ)
        config = write_config(reg)
        open_for_all(config)
        with daemon_with_images(config, scratch()):
            pending = apply(write_spec(d, "netimage", f"""[Object net]
Image={reg.ref("tcx")}
Programs=tcx_count_a

[Attach ingress]
Kind=tcx
Interface={ifname}
Direction=ingress
""")).json
            assert pending["Status"] == "Pending" and pending["WaitingFor"] == ifname, pending
            assert programs_of_spec("netimage") == []
            reg.stop()
            lib.run(["ip", "link", "add", ifname, "type", "veth", "peer", "name", ifname + "p"])
            applied = lib.wait_for(lambda: (spec_props("netimage") or {}).get("Status") == "Applied"
                                   and spec_props("netimage"), timeout=60, what="the spec to be applied")
            assert len(applied["Programs"]) == 1 and len(applied["Links"]) == 1, applied
            (prog,) = programs_of_spec("netimage")
            assert prog["name"] == "tcx_count_a" and prog["image_digest"] == digest, prog
            remove_spec("netimage")
    finally:
        remove_spec("netimage")
        lib.run(["ip", "link", "del", ifname], check=False)
        reg.stop()
