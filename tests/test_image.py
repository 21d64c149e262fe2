# SPDX-License-Identifier: LGPL-2.1-or-later
"""OCI bytecode images (service/image*.c through build/service/bpfd-image) against a real registry on
127.0.0.1 (Debian's docker-registry): pulls by tag and digest, the cache and the pull policies, cosign
signatures made with openssl (tests/image/sign-image), tampered blobs, HTTPS with a private CA, and
basic auth. Images are built and pushed by tests/image/make-image."""

import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import base64

import lib

CHECK = os.path.join(lib.BUILD_DIR, "service", "bpfd-image")
MAKE_IMAGE = os.path.join(lib.TESTS_DIR, "image", "make-image")
SIGN_IMAGE = os.path.join(lib.TESTS_DIR, "image", "sign-image")
OBJ = lib.bpf_obj("tracepoint_counter")

# bpfd-image's exit status per error class.
EXIT = {"BadReference": 2, "RegistryUnreachable": 3, "ImageNotFound": 4, "AuthenticationFailed": 5,
        "DigestMismatch": 6, "NoSignature": 7, "UnknownSigner": 8, "SignatureDigestMismatch": 9,
        "NotCached": 10, "InvalidImage": 11}


def scratch():
    """A fresh directory others can read: bpfd's puller runs as its own user (nobody) and reads the
    registries.conf, keys and CA certificates found here, as it would in /etc/bpfd."""
    d = tempfile.mkdtemp(prefix="image-", dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")
    os.chmod(d, 0o755)
    return d


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Registry:
    """docker-registry serving from a temp dir on 127.0.0.1, plain HTTP or HTTPS, optionally with
    htpasswd basic auth."""

    def __init__(self, tls=False, users=None):
        self.dir = scratch()
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.tls = tls
        self.users = users or {}
        self.proc = None
        self.ca = None
        config = ["version: 0.1", "log:", "  level: error", "  accesslog:", "    disabled: true",
                  "storage:", "  filesystem:", f"    rootdirectory: {self.dir}/data",
                  "http:", f"  addr: {self.addr}"]
        if tls:
            cert, key = f"{self.dir}/cert.pem", f"{self.dir}/key.pem"
            lib.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                     "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                     "-addext", "subjectAltName=IP:127.0.0.1"])
            self.ca = cert
            config += ["  tls:", f"    certificate: {cert}", f"    key: {key}"]
        if self.users:
            htpasswd = f"{self.dir}/htpasswd"
            for i, (user, password) in enumerate(self.users.items()):
                lib.run(["htpasswd", "-B", "-b"] + (["-c"] if i == 0 else []) + [htpasswd, user, password])
            config += ["auth:", "  htpasswd:", "    realm: bpfd-test", f"    path: {htpasswd}"]
        self.config = f"{self.dir}/config.yml"
        with open(self.config, "w") as f:
            f.write("\n".join(config) + "\n")

    def start(self):
        self.log = open(f"{self.dir}/registry.log", "ab")
        self.proc = subprocess.Popen(["docker-registry", "serve", self.config], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)

        def up():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0
        lib.wait_for(up, timeout=20, what=f"docker-registry on {self.addr}")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def blob_data(self, digest):
        """The file the registry serves blob DIGEST from (distribution's filesystem layout)."""
        hex_ = digest.split(":", 1)[1]
        return f"{self.dir}/data/docker/registry/v2/blobs/sha256/{hex_[:2]}/{hex_}/data"

    def ref(self, tag, repo="bpfd/test"):
        return f"{self.addr}/{repo}:{tag}"


@contextlib.contextmanager
def registry(**kw):
    r = Registry(**kw).start()
    try:
        yield r
    finally:
        r.stop()
        shutil.rmtree(r.dir, ignore_errors=True)


def push(reg, tag, *args, creds=None):
    cmd = [MAKE_IMAGE, "--registry", reg.addr, "--tag", tag, "--object", OBJ, "--workdir", scratch(), *args]
    if creds:
        cmd += ["--creds", creds]
    digest = lib.run(cmd, timeout=120).stdout.strip()
    assert digest.startswith("sha256:") and len(digest) == 71, digest
    return digest


def sign(reg, digest, key, payload_digest=None, creds=None, repo=None, identity=None):
    cmd = [SIGN_IMAGE, "--registry", reg.addr, "--digest", digest, "--key", key, "--workdir", scratch()]
    if repo:
        cmd += ["--repo", repo]
    if identity:
        cmd += ["--identity", identity]
    if payload_digest:
        cmd += ["--payload-digest", payload_digest]
    if creds:
        cmd += ["--creds", creds]
    lib.run(cmd, timeout=120)
    return key[:-len(".pem")] + ".pub"


def new_key():
    key = os.path.join(scratch(), "cosign.pem")
    lib.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key])
    lib.run(["openssl", "ec", "-in", key, "-pubout", "-out", key[:-4] + ".pub"])
    return key


def write_config(reg, **settings):
    """A registries.conf with one group for REG (insecure unless it serves TLS)."""
    path = os.path.join(scratch(), "registries.conf")
    lines = [f"[{reg.addr}]"]
    if not reg.tls:
        lines.append("insecure=true")
    for k, v in settings.items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif isinstance(v, (list, tuple)):
            v = ";".join(v)
        lines.append(f"{k}={v}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


class Pulled:
    def __init__(self, p):
        self.p = p
        self.rc = p.returncode
        self.fields = {}
        self.programs = []
        self.maps = []
        for line in p.stdout.splitlines():
            key, _, value = line.partition(" ")
            if key == "program":
                self.programs.append(tuple(value.split()))
            elif key == "map":
                self.maps.append(tuple(value.split()))
            else:
                self.fields[key] = value

    def __getitem__(self, k):
        return self.fields[k]


def pull(ref, config, cache, policy="Always", auth=None, expect=0):
    cmd = [CHECK, "pull", ref, "--policy", policy, "--cache", cache, "--config", config,
           "--auth", auth or os.path.join(cache, "no-auth.json")]
    p = lib.run(cmd, check=False, timeout=120)
    want = EXIT[expect] if isinstance(expect, str) else expect
    assert p.returncode == want, f"exit {p.returncode}, expected {want} ({expect})\n{p.stdout}{p.stderr}"
    if want != 0:
        assert p.stderr.startswith(f"error: {expect}: "), p.stderr
    return Pulled(p)


def same_file(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


# ---- tests ----

def test_reference_parsing():
    good = {
        "127.0.0.1:5000/bpfd/test:v1": ("127.0.0.1:5000", "bpfd/test", "v1", "-"),
        "quay.io/bpfman-bytecode/xdp_pass": ("quay.io:443", "bpfman-bytecode/xdp_pass", "latest", "-"),
        "localhost/a/b@sha256:" + "a" * 64: ("localhost:443", "a/b", "-", "sha256:" + "a" * 64),
        "r.example:443/x:t@sha256:" + "0" * 64: ("r.example:443", "x", "t", "sha256:" + "0" * 64),
        # one registry, one name: case, leading zeros, default port, Docker Hub's aliases
        "Quay.IO:00443/a:v": ("quay.io:443", "a", "v", "-"),
        "127.0.0.1:05443/x:v1": ("127.0.0.1:5443", "x", "v1", "-"),
        "index.docker.io/alpine": ("docker.io:443", "library/alpine", "latest", "-"),
        "registry-1.docker.io/x/y:z": ("docker.io:443", "x/y", "z", "-"),
        "[::0001]:5000/a": ("[::1]:5000", "a", "latest", "-"),
    }
    for ref, want in good.items():
        out = dict(line.split(" ", 1) for line in lib.run([CHECK, "parse", ref]).stdout.splitlines())
        assert (out["registry"], out["repository"], out["tag"], out["digest"]) == want, out
    for bad in ["", "bpfd/test", "test", "quay.io/UPPER:x", "quay.io/a:b:c", "quay.io/a@sha256:abc",
                "quay.io/a@md5:" + "0" * 32, "quay.io//a", "quay.io/a/", "host:99999/a", "quay.io/a:-x"]:
        p = lib.run([CHECK, "parse", bad], check=False)
        assert p.returncode == EXIT["BadReference"], (bad, p.stdout)
    # image_pull says so too, before touching cache or network.
    cache = scratch()
    p = pull("not a reference", "/nonexistent.conf", cache, expect="BadReference")
    assert "bad image reference" in p.p.stderr


def test_pull_by_tag_and_digest():
    with registry() as reg:
        digest = push(reg, "v1")
        config = write_config(reg)
        r = pull(reg.ref("v1"), config, scratch())
        assert r["digest"] == digest
        assert r["source"] == "registry" and "unsigned" in r.fields
        assert same_file(r["object"], OBJ)
        assert r["filename"] == "tracepoint_counter.bpf.o"
        assert r.programs == [("count_getpid", "tracepoint"), ("count_getppid", "tracepoint")]
        assert r.maps == [("counter", "array")]
        # By digest, into another cache.
        r2 = pull(f"{reg.addr}/bpfd/test@{digest}", config, scratch())
        assert r2["digest"] == digest and same_file(r2["object"], OBJ)
        # A digest the tag does not have.
        pull(f"{reg.addr}/bpfd/test@sha256:{'1' * 64}", config, scratch(), expect="ImageNotFound")


def test_layouts_v1_labels_plain_tar_and_index():
    with registry() as reg:
        config = write_config(reg)
        push(reg, "old", "--labels", "v1", "--layer", "tar")
        r = pull(reg.ref("old"), config, scratch())
        assert r.programs == [("count_getpid", "tracepoint")] and r.maps == []
        assert same_file(r["object"], OBJ)
        # A multi-arch index: the linux/amd64 entry is taken, the index digest reported.
        index_digest = push(reg, "multi", "--index")
        r = pull(reg.ref("multi"), config, scratch())
        assert r["digest"] == index_digest and same_file(r["object"], OBJ)
        # An image without bytecode labels is not a bytecode image.
        push(reg, "plain", "--labels", "none")
        p = pull(reg.ref("plain"), config, scratch(), expect="InvalidImage")
        assert "io.ebpf.programs" in p.p.stderr or "labels" in p.p.stderr


def test_cache_and_pull_policies():
    cache = scratch()
    with registry() as reg:
        digest = push(reg, "v1")
        config = write_config(reg)
        ref = reg.ref("v1")
        # Never, nothing cached yet: a clear error, whether or not the registry is there.
        p = pull(ref, config, cache, policy="Never", expect="NotCached")
        assert "not in the image cache" in p.p.stderr
        r = pull(ref, config, cache, policy="IfNotPresent")
        assert r["source"] == "registry" and r["digest"] == digest
        assert os.path.exists(os.path.join(cache, "blobs", "sha256", digest.split(":")[1]))
        r = pull(ref, config, cache, policy="IfNotPresent")
        assert r["source"] == "cache"
        reg.stop()
        # Registry down: the cache serves IfNotPresent, by tag and by digest, and Never.
        r = pull(ref, config, cache, policy="IfNotPresent")
        assert r["source"] == "cache" and r["digest"] == digest and same_file(r["object"], OBJ)
        r = pull(f"{reg.addr}/bpfd/test@{digest}", config, cache, policy="Never")
        assert r["digest"] == digest
        os.unlink(r["object"])   # the object is extracted again from the verified layer
        r = pull(ref, config, cache, policy="Never")
        assert r["source"] == "cache" and same_file(r["object"], OBJ)
        # Always needs the registry.
        p = pull(ref, config, cache, policy="Always", expect="RegistryUnreachable")
        assert reg.addr in p.p.stderr
        # Another tag was never pulled.
        pull(reg.ref("v2"), config, cache, policy="Never", expect="NotCached")

        # A corrupted cached layer is refused under Never and fetched again otherwise.
        manifest = json.load(open(os.path.join(cache, "blobs", "sha256", digest.split(":")[1])))
        layer = os.path.join(cache, "blobs", "sha256", manifest["layers"][0]["digest"].split(":")[1])
        with open(layer, "r+b") as f:
            f.seek(20)
            f.write(b"\xff\xfe\xfd")
        p = pull(ref, config, cache, policy="Never", expect="DigestMismatch")
        assert "does not match its digest" in p.p.stderr
        reg.start()
        r = pull(ref, config, cache, policy="IfNotPresent")
        assert same_file(r["object"], OBJ)
        assert hashlib.sha256(open(layer, "rb").read()).hexdigest() == manifest["layers"][0]["digest"][7:]


def test_missing_tag_and_repository():
    with registry() as reg:
        push(reg, "v1")
        config = write_config(reg)
        p = pull(reg.ref("nope"), config, scratch(), expect="ImageNotFound")
        assert "not found" in p.p.stderr
        pull(reg.ref("v1", repo="other/repo"), config, scratch(), expect="ImageNotFound")


def test_registry_down():
    port = free_port()
    reg = Registry()
    reg.addr = f"127.0.0.1:{port}"
    config = write_config(reg)
    p = pull(f"127.0.0.1:{port}/bpfd/test:v1", config, scratch(), expect="RegistryUnreachable")
    assert "unreachable" in p.p.stderr
    # HTTPS (not configured insecure) to a port nothing listens on: the same class.
    tls_config = os.path.join(scratch(), "https.conf")
    with open(tls_config, "w") as f:
        f.write(f"[127.0.0.1:{port}]\n")
    pull(f"127.0.0.1:{port}/bpfd/test:v1", tls_config, scratch(), expect="RegistryUnreachable")


def test_signatures():
    with registry() as reg:
        d1 = push(reg, "v1")
        d2 = push(reg, "v2", "--labels", "v1")
        assert d1 != d2
        k1, k2 = new_key(), new_key()
        pub1, pub2 = k1[:-4] + ".pub", k2[:-4] + ".pub"
        required = write_config(reg, require_signature=True, keys=[pub1])
        optional = write_config(reg, require_signature=False, keys=[pub1])
        # Unsigned: refused when required, accepted otherwise.
        p = pull(reg.ref("v1"), required, scratch(), expect="NoSignature")
        assert "not signed" in p.p.stderr
        r = pull(reg.ref("v1"), optional, scratch())
        assert "unsigned" in r.fields
        r = pull(reg.ref("v1"), write_config(reg), scratch())
        assert "unsigned" in r.fields

        sign(reg, d1, k1)
        r = pull(reg.ref("v1"), required, scratch())
        assert r["signed"] == pub1 and r["digest"] == d1
        # Any of several keys; by digest too.
        r = pull(f"{reg.addr}/bpfd/test@{d1}", write_config(reg, require_signature=True, keys=[pub2, pub1]),
                 scratch())
        assert r["signed"] == pub1
        # Only another key trusted: refused, required or not (a bad signature is never accepted).
        p = pull(reg.ref("v1"), write_config(reg, require_signature=True, keys=[pub2]), scratch(),
                 expect="UnknownSigner")
        assert "none of the 1 trusted key" in p.p.stderr
        pull(reg.ref("v1"), write_config(reg, keys=[pub2]), scratch(), expect="UnknownSigner")

        # v2 signed with the trusted key, but the payload names v1: a replayed signature.
        sign(reg, d2, k1, payload_digest=d1)
        p = pull(reg.ref("v2"), required, scratch(), expect="SignatureDigestMismatch")
        assert d1 in p.p.stderr

        # The same content and its signature published under another name of the registry: the signature
        # names bpfd/test, so bpfd/other is not signed by it (polkit's rules may trust the names differently).
        d3 = push(reg, "v1", "--repo", "bpfd/other")
        sign(reg, d3, k1, repo="bpfd/other", identity=f"{reg.addr}/bpfd/test")
        p = pull(reg.ref("v1", repo="bpfd/other"), required, scratch(), expect="SignatureDigestMismatch")
        assert f"was made for {reg.addr}/bpfd/test, not for {reg.addr}/bpfd/other" in p.p.stderr, p.p.stderr
        # Signed for its own name (a tag or digest in the reference does not matter): accepted.
        sign(reg, d3, k1, repo="bpfd/other", identity=f"{reg.addr}/bpfd/other:v1")
        r = pull(reg.ref("v1", repo="bpfd/other"), required, scratch())
        assert r["signed"] == pub1 and r["digest"] == d3

        # The signature is cached with the image: IfNotPresent with the registry down still verifies.
        cache = scratch()
        pull(reg.ref("v1"), required, cache, policy="IfNotPresent")
        reg.stop()
        r = pull(reg.ref("v1"), required, cache, policy="IfNotPresent")
        assert r["source"] == "cache" and r["signed"] == pub1
        pull(reg.ref("v1"), write_config(reg, require_signature=True, keys=[pub2]), cache, policy="Never",
             expect="UnknownSigner")


def test_tampered_layer_refused():
    with registry() as reg:
        digest = push(reg, "v1")
        config = write_config(reg)
        cache = scratch()
        r = pull(reg.ref("v1"), config, cache)
        manifest = json.load(open(os.path.join(cache, "blobs", "sha256", digest.split(":")[1])))
        layer_digest = manifest["layers"][0]["digest"]
        # Change the layer where the registry keeps it: it serves other bytes under the same digest.
        data = reg.blob_data(layer_digest)
        with open(data, "r+b") as f:
            content = bytearray(f.read())
            content[30] ^= 0xff
            f.seek(0)
            f.write(content)
        fresh = scratch()
        p = pull(reg.ref("v1"), config, fresh, expect="DigestMismatch")
        assert layer_digest in p.p.stderr
        assert not os.listdir(os.path.join(fresh, "objects")), "no object may come from a tampered layer"
        assert not os.listdir(os.path.join(fresh, "refs"))
        # The earlier, verified copy is still served from its cache.
        r = pull(reg.ref("v1"), config, cache, policy="Always")
        assert same_file(r["object"], OBJ)


def test_https_with_ca():
    with registry(tls=True) as reg:
        digest = push(reg, "v1")
        r = pull(reg.ref("v1"), write_config(reg, ca=reg.ca), scratch())
        assert r["digest"] == digest and same_file(r["object"], OBJ)
        # Without the CA the certificate is not trusted.
        p = pull(reg.ref("v1"), write_config(reg), scratch(), expect="RegistryUnreachable")
        assert "TLS" in p.p.stderr


def write_auth(reg, user, password):
    path = os.path.join(scratch(), "auth.json")
    with open(path, "w") as f:
        json.dump({"auths": {reg.addr: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()},
                             "other.example": {"auth": base64.b64encode(b"x:y").decode()}}}, f)
    return path


def test_basic_auth():
    with registry(tls=True, users={"alice": "s3cret"}) as reg:
        digest = push(reg, "v1", creds="alice:s3cret")
        config = write_config(reg, ca=reg.ca)
        r = pull(reg.ref("v1"), config, scratch(), auth=write_auth(reg, "alice", "s3cret"))
        assert r["digest"] == digest and same_file(r["object"], OBJ)
        p = pull(reg.ref("v1"), config, scratch(), expect="AuthenticationFailed")
        assert "credentials" in p.p.stderr
        pull(reg.ref("v1"), config, scratch(), auth=write_auth(reg, "alice", "wrong"), expect="AuthenticationFailed")
        # Signed images behind auth: the signature tag is fetched with the same credentials.
        key = new_key()
        sign(reg, digest, key, creds="alice:s3cret")
        r = pull(reg.ref("v1"), write_config(reg, ca=reg.ca, require_signature=True, keys=[key[:-4] + ".pub"]),
                 scratch(), auth=write_auth(reg, "alice", "s3cret"))
        assert r["signed"].endswith(".pub")


def test_bad_config():
    with registry() as reg:
        push(reg, "v1")
        bad = write_config(reg, requre_signature=True)
        p = pull(reg.ref("v1"), bad, scratch(), expect="BadReference")
        assert "unknown key" in p.p.stderr
        nokeys = write_config(reg, require_signature=True)
        p = pull(reg.ref("v1"), nokeys, scratch(), expect="BadReference")
        assert "names no keys" in p.p.stderr


@contextlib.contextmanager
def bearer_front(backend, user, password):
    """A registry front on 127.0.0.1 that demands a Bearer token (the Docker/OCI token flow): /v2/
    answers 401 with a challenge naming its /token realm, /token hands out a token for USER:PASSWORD
    given as basic auth, and requests with the token are passed on to BACKEND."""
    import http.server
    import threading
    import urllib.error
    import urllib.request

    token = "tok-" + hashlib.sha256(os.urandom(16)).hexdigest()[:16]
    port = free_port()
    seen = {"token_requests": []}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def reply(self, status, body=b"", headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path.startswith("/token"):
                seen["token_requests"].append(self.path)
                want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
                if self.headers.get("Authorization") != want:
                    return self.reply(401)
                return self.reply(200, json.dumps({"token": token}).encode(),
                                  [("Content-Type", "application/json")])
            if self.headers.get("Authorization") != "Bearer " + token:
                return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', [(
                    "WWW-Authenticate",
                    f'Bearer realm="http://127.0.0.1:{port}/token",service="bpfd-test",'
                    f'scope="repository:bpfd/test:pull"')])
            req = urllib.request.Request(f"http://{backend.addr}{self.path}",
                                         headers={"Accept": self.headers.get("Accept", "*/*")})
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    body, status, ctype = resp.read(), resp.status, resp.headers.get("Content-Type", "")
            except urllib.error.HTTPError as e:
                body, status, ctype = e.read(), e.code, e.headers.get("Content-Type", "")
            self.reply(status, body, [("Content-Type", ctype)])

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{port}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_bearer_token_auth():
    with registry() as reg:
        digest = push(reg, "v1")
        with bearer_front(reg, "bob", "pw") as (addr, seen):
            front = Registry.__new__(Registry)
            front.addr, front.tls = addr, False
            config = write_config(front)
            ref = f"{addr}/bpfd/test:v1"
            r = pull(ref, config, scratch(), auth=write_auth(front, "bob", "pw"))
            assert r["digest"] == digest and same_file(r["object"], OBJ)
            assert seen["token_requests"] and "scope=repository%3Abpfd%2Ftest%3Apull" in seen["token_requests"][0]
            assert "service=bpfd-test" in seen["token_requests"][0]
            # One token serves the manifest and every blob of the pull.
            assert len(seen["token_requests"]) == 1, seen
            p = pull(ref, config, scratch(), expect="AuthenticationFailed")
            assert "token service refused" in p.p.stderr
            pull(ref, config, scratch(), auth=write_auth(front, "bob", "nope"), expect="AuthenticationFailed")


def test_config_groups_and_auth_entries_are_canonical():
    with registry(tls=True, users={"alice": "s3cret"}) as reg:
        digest = push(reg, "v1", creds="alice:s3cret")
        # [127.0.0.1:0PORT] is the group of 127.0.0.1:PORT, and so is an auth entry spelled that way
        config = os.path.join(scratch(), "registries.conf")
        with open(config, "w") as f:
            f.write(f"[127.0.0.1:0{reg.port}]\nca={reg.ca}\n")
        auth = os.path.join(scratch(), "auth.json")
        with open(auth, "w") as f:
            json.dump({"auths": {f"https://127.0.0.1:0{reg.port}/v1/":
                                 {"auth": base64.b64encode(b"alice:s3cret").decode()}}}, f)
        r = pull(f"127.0.0.1:{reg.port}/bpfd/test:v1", config, scratch(), auth=auth)
        assert r["digest"] == digest and r["reference"] == reg.ref("v1")
        # two groups for one registry: an error, not a guess
        with open(config, "a") as f:
            f.write(f"[127.0.0.1:{reg.port}]\nrequire_signature=false\n")
        p = pull(reg.ref("v1"), config, scratch(), auth=auth, expect="BadReference")
        assert "name the same registry" in p.p.stderr
        # a registry no group names: the default section requires signatures, refused before the network
        p = pull(f"localhost:{reg.port}/bpfd/test:v1", os.path.join(scratch(), "none.conf"), scratch(),
                 expect="NoSignature")
        assert "requires signed images" in p.p.stderr
