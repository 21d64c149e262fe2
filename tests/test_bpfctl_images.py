# SPDX-License-Identifier: LGPL-2.1-or-later
"""bpfctl image pull|list|rm and bpfctl load image against a real registry on 127.0.0.1: a signed image
pulled into bpfd's cache and listed with its digest, loaded and attached with the image shown by get,
loaded again from the cache alone with the registry gone, forgotten by image rm, and the exit statuses of
the image errors (ImageNotCached 4, NoSignature 5, ImageNotFound 4, RegistryUnreachable 7); and
--map-owner-id on a load from a file."""

import lib
from lib import unload
from test_image import new_key, push, registry, scratch, sign, write_config
from test_image_load import daemon_with_images


def bpfctl(*args, check=True):
    return lib.bpfctl("--no-ask-password", *args, check=check, timeout=180)


def is_signature(ref):
    """A cosign signature tag (REPO:sha256-HEX.sig): cached with its image, never listed as one."""
    tag = ref.rsplit("/", 1)[-1].partition(":")[2]
    return tag.startswith("sha256-") and tag.endswith(".sig")


def image_rows():
    """The rows of 'bpfctl image list' below its header, as (REFERENCE, DIGEST)."""
    lines = bpfctl("image", "list").stdout.splitlines()
    assert lines and lines[0].split() == ["REFERENCE", "DIGEST"], lines
    rows = [tuple(line.split()) for line in lines[1:]]
    assert not any(is_signature(r[0]) for r in rows), rows
    return rows


def image_list_json():
    images = bpfctl("--json", "image", "list").json
    assert isinstance(images, list), images
    assert not any(is_signature(image["reference"]) for image in images), images
    return images


def load_image(ref, *args, check=True):
    return bpfctl("--json", "load", "image", ref, *args, "-p", "count_getpid", "tracepoint", check=check)


def loaded_ids():
    return [prog["id"] for prog in bpfctl("--json", "list").json or []]


def failed(p, status, error):
    assert p.returncode == status and f"(org.bpfd.Error.{error})" in p.stderr, (p.returncode, p.stdout, p.stderr)


def test_pull_list_load_and_remove():
    with registry() as reg:
        digest = push(reg, "v1")
        pub = sign(reg, digest, new_key())
        config = write_config(reg, require_signature=True, keys=[pub])
        ref = reg.ref("v1")
        with daemon_with_images(config, scratch()):
            assert image_rows() == []

            # pull: the text fields, then --json with the daemon's keys, now from the cache
            text = bpfctl("image", "pull", ref).stdout
            fields = dict(line.split(":", 1) for line in text.splitlines())
            fields = {k: v.strip() for k, v in fields.items()}
            assert fields["Reference"] == ref and fields["Digest"] == digest, text
            assert fields["From cache"] == "no" and fields["Signed"] == "yes", text
            assert "count_getpid" in fields["Programs"], text
            pulled = bpfctl("--json", "image", "pull", ref).json
            assert pulled["digest"] == digest and pulled["from_cache"] is True and pulled["signed"] is True, pulled

            assert image_rows() == [(ref, digest)]
            assert image_list_json() == [{"reference": ref, "digest": digest}]

            # load image: the usual output, the image on the program
            loaded = load_image(ref).json
            (prog,) = loaded["programs"]
            try:
                assert prog["name"] == "count_getpid" and len(loaded["links"]) == 1, loaded
                got = bpfctl("--json", "get", str(prog["id"])).json
                assert got["image_reference"] == ref and got["image_digest"] == digest, got
                text = bpfctl("get", str(prog["id"])).stdout
                assert any(line.split() == ["Image:", ref] for line in text.splitlines()), text
                assert any(line.split() == ["Image", "digest:", digest] for line in text.splitlines()), text
            finally:
                unload(prog["id"])

            # the registry goes away: Never loads from the cache, Always cannot reach it (7)
            reg.stop()
            p = bpfctl("load", "image", ref, "--pull-policy", "Never", "-p", "count_getpid", "tracepoint")
            ids = loaded_ids()
            try:
                assert p.stdout.startswith("Loaded program ") and "count_getpid (tracepoint)" in p.stdout, p.stdout
                assert "Attached link " in p.stdout, p.stdout
                assert len(ids) == 1
                failed(load_image(ref, "--pull-policy", "Always", check=False), 7, "RegistryUnreachable")
            finally:
                unload(*ids)

            # rm forgets it; Never then has nothing to load (4), and rm again has nothing to remove (4)
            assert bpfctl("image", "rm", ref).stdout == f"Removed image {ref} from the cache.\n"
            assert image_rows() == []
            assert image_list_json() == []
            p = load_image(ref, "--pull-policy", "Never", check=False)
            try:
                failed(p, 4, "ImageNotCached")
            finally:
                unload(*loaded_ids())
            failed(bpfctl("image", "rm", ref, check=False), 4, "ImageNotCached")
            assert loaded_ids() == []


def test_unsigned_and_missing_images():
    with registry() as reg:
        push(reg, "unsigned")
        pub = new_key()[:-4] + ".pub"
        config = write_config(reg, require_signature=True, keys=[pub])
        with daemon_with_images(config, scratch()):
            try:
                failed(load_image(reg.ref("unsigned"), check=False), 5, "NoSignature")
                failed(bpfctl("image", "pull", reg.ref("unsigned"), check=False), 5, "NoSignature")
                failed(bpfctl("image", "pull", reg.ref("nosuchtag"), check=False), 4, "ImageNotFound")
                assert image_rows() == []
                assert loaded_ids() == []
            finally:
                unload(*loaded_ids())


def test_map_owner_id():
    """--map-owner-id (any load): the second program's "counter" map is the first one's."""
    lib.ensure_daemon()
    obj = lib.bpf_obj("tracepoint_counter")
    ids = []
    try:
        first = bpfctl("--json", "load", obj, "-p", "count_getpid").json["programs"][0]
        ids.append(first["id"])
        second = bpfctl("--json", "load", obj, "-p", "count_getpid", "--map-owner-id", str(first["id"])).json
        ids.append(second["programs"][0]["id"])

        def counter_id(prog):
            return [m[0] for m in bpfctl("--json", "get", str(prog["id"])).json["maps"] if m[1] == "counter"]
        assert counter_id(first) == counter_id(second["programs"][0]) != [], (first, second)
        failed(bpfctl("load", obj, "-p", "count_getpid", "--map-owner-id", "4000000000", check=False),
               4, "ProgramNotFound")
    finally:
        unload(*ids, *[i for i in loaded_ids() if i not in ids])
