#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpora of fuzz/corpus/ that are text or built here (the D-Bus messages, records, JSON,
tar layers). The ELF seeds are copies of build/bpf/*.bpf.o. Run from anywhere; it overwrites its own files
only. Python 3 standard library only."""

import gzip
import io
import os
import shutil
import struct
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


class W:
    """Minimal little-endian D-Bus marshalling (enough for method calls with a{sv} bodies)."""

    def __init__(self):
        self.b = bytearray()

    def align(self, n):
        while len(self.b) % n:
            self.b.append(0)

    def y(self, v):
        self.b.append(v)

    def u(self, v):
        self.align(4)
        self.b += struct.pack("<I", v)

    def i(self, v):
        self.align(4)
        self.b += struct.pack("<i", v)

    def t(self, v):
        self.align(8)
        self.b += struct.pack("<Q", v)

    def s(self, v):
        v = v.encode() if isinstance(v, str) else v
        self.u(len(v))
        self.b += v + b"\0"

    def g(self, v):
        self.b.append(len(v))
        self.b += v.encode() + b"\0"

    def variant(self, sig, value):
        self.g(sig)
        self.value(sig, value)

    def value(self, sig, value):
        if sig in ("s", "o"):
            self.s(value)
        elif sig == "u":
            self.u(value)
        elif sig == "i":
            self.i(value)
        elif sig == "t":
            self.t(value)
        elif sig == "b":
            self.u(1 if value else 0)
        elif sig == "as":
            self.array(4, lambda: [self.s(x) for x in value])
        elif sig == "a{sv}":
            self.dict(value)
        elif sig == "aa{sv}":
            self.array(8, lambda: [self.dict(x) for x in value])
        else:
            raise ValueError(sig)

    def array(self, elem_align, fill):
        self.align(4)
        at = len(self.b)
        self.b += b"\0\0\0\0"
        self.align(elem_align)
        start = len(self.b)
        fill()
        struct.pack_into("<I", self.b, at, len(self.b) - start)

    def dict(self, d):
        def fill():
            for k, (sig, v) in d.items():
                self.align(8)
                self.s(k)
                self.variant(sig, v)
        self.array(8, fill)


def message(member, body_sig, body):
    w = W()
    w.dict  # body first, to know its length
    b = W()
    for sig, v in zip(split_sig(body_sig), body):
        b.value(sig, v)
    h = W()
    h.b += b"l"
    h.y(1)      # method call
    h.y(0)
    h.y(1)      # protocol version
    h.u(len(b.b))
    h.u(1)      # serial

    def fields():
        for code, sig, v in ((1, "o", "/org/bpfd/Manager"), (2, "s", "org.bpfd.Manager"), (3, "s", member),
                             (6, "s", "org.bpfd"), (8, "g", body_sig)):
            h.align(8)
            h.y(code)
            if sig == "g":
                h.g("g")
                h.g(v)
            else:
                h.variant(sig, v)
    h.array(8, fields)
    h.align(8)
    return bytes(h.b + b.b)


def split_sig(sig):
    out, i = [], 0
    while i < len(sig):
        j = i
        depth = 0
        while True:
            c = sig[j]
            if c in "({":
                depth += 1
            elif c in ")}":
                depth -= 1
            j += 1
            if depth == 0 and c != "a":
                break
        out.append(sig[i:j])
        i = j
    return out


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def main():
    tp = {"kind": ("s", "tracepoint"), "tracepoint": ("s", "syscalls/sys_enter_getpid")}
    targets = {
        "tracepoint": tp,
        "uprobe": {"kind": ("s", "uprobe"), "target": ("s", "/usr/bin/true"), "function": ("s", "main"),
                   "offset": ("t", 16), "pid": ("i", 1)},
        "xdp": {"kind": ("s", "xdp"), "interface": ("s", "veth0"), "priority": ("i", 10),
                "proceed_on": ("as", ["pass", "dispatcher_return"]), "mode": ("s", "skb"),
                "netns": ("s", "/proc/1/ns/net")},
        "tc": {"kind": ("s", "tc"), "interface": ("s", "eth0"), "direction": ("s", "ingress"), "priority": ("i", 5)},
        "tcx": {"kind": ("s", "tcx"), "interface": ("s", "eth0"), "direction": ("s", "egress")},
        "cgroup": {"kind": ("s", "cgroup"), "cgroup": ("s", "/sys/fs/cgroup/x"), "attach_type": ("s", "ingress")},
        "unknown-key": {"kind": ("s", "tracepoint"), "bogus": ("u", 7)},
        "wrong-type": {"kind": ("u", 1)},
        "load": {"programs": ("as", ["count_getpid"]), "pull_policy": ("s", "Never")},
    }
    for name, d in targets.items():
        put("fuzz-bus-message", name, message("Attach", "a{sv}", [d]))
    put("fuzz-bus-message", "load-with-attach",
        message("LoadFromPath", "sa{sv}", ["/tmp/x.o", {"attach": ("aa{sv}", [tp])}]))

    for ref in ("quay.io/bpfman-bytecode/go-xdp-counter:latest", "127.0.0.1:5000/x/y:v1",
                "localhost/a@sha256:" + "0" * 64, "registry.example.com:443/a/b/c:1.2.3", "x:y", "IfNotPresent"):
        put("fuzz-image-ref", ref.replace("/", "_").replace(":", "-")[:60], ref)

    put("fuzz-image-json", "index.json",
        '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":['
        '{"digest":"sha256:' + "1" * 64 + '","platform":{"os":"linux","architecture":"amd64"}}]}')
    put("fuzz-image-json", "manifest.json",
        '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:'
        + "2" * 64 + '","size":10},"layers":[{"digest":"sha256:' + "3" * 64 + '","size":100}]}')
    put("fuzz-image-json", "config.json",
        '{"config":{"Labels":{"io.ebpf.programs":"{\\"count_getpid\\":\\"tracepoint\\"}",'
        '"io.ebpf.maps":"{\\"counter\\":\\"array\\"}","io.ebpf.filename":"prog.o"}}}')
    put("fuzz-image-json", "config-v1.json",
        '{"config":{"Labels":{"io.ebpf.bpf_function_name":"xdp_pass","io.ebpf.program_type":"xdp"}}}')
    put("fuzz-image-json", "cosign.json",
        '{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json",'
        '"digest":"sha256:' + "4" * 64 + '","size":10,"annotations":{"dev.cosignproject.cosign/signature":"MEUCIQ=="}}]}')

    for name, members in (("one-object", [("prog.o", b"\x7fELF" + b"\0" * 60)]),
                          ("two-files", [("README", b"hi"), ("x.o", b"\x7fELF" + b"\0" * 12)])):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
            for n, data in members:
                ti = tarfile.TarInfo(n)
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
        put("fuzz-image-tar", name + ".tar", buf.getvalue())
        put("fuzz-image-tar", name + ".tar.gz", gzip.compress(buf.getvalue()))

    put("fuzz-registries-conf", "policy.conf",
        b"\x01[quay.io]\nrequire_signature=true\nkeys=/etc/bpfd/keys/a.pem;/etc/bpfd/keys/b.pem\n\n[*]\ninsecure=false\n"
        b"ca=/etc/ssl/ca.pem\n")
    put("fuzz-registries-conf", "auth.json",
        b'\x00{"auths":{"quay.io":{"auth":"dXNlcjpwYXNz"},"https://127.0.0.1:5000/v2/":{"auth":"YTpi"}}}')

    put("fuzz-state-record", "links",
        "[Link 2147483649]\nProgram=12\nOwner=1000\nAttachTime=1\nAttachPoint=xdp/veth0\nSeq=3\nNetnsInode=4026531840\n"
        "Ifindex=2\nComponentId=13\nkind=xdp\ninterface=veth0\nnetns=/proc/1/ns/net\npriority=10\n"
        "proceed_on=pass;dispatcher_return;\nmode=skb\n\n"
        "[Link 7]\nProgram=12\nOwner=0\nkind=uprobe\ntarget=/usr/bin/true\nfunction=main\noffset=16\npid=1\n\n"
        "[Link 8]\nkind=tracepoint\ntracepoint=syscalls/sys_enter_getpid\n")

    build = os.environ.get("BPFD_BUILD_DIR") or os.path.join(os.path.dirname(HERE), "build")
    # A whole image for fuzz-image-pull: manifest, config, layer (a tar.gz of an object), "--8<--" apart.
    obj_path = os.path.join(build, "bpf", "tracepoint_counter.bpf.o")
    obj = open(obj_path, "rb").read() if os.path.exists(obj_path) else b"\x7fELF" + b"\0" * 60
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        ti = tarfile.TarInfo("tracepoint_counter.bpf.o")
        ti.size = len(obj)
        tf.addfile(ti, io.BytesIO(obj))
    layer = gzip.compress(buf.getvalue(), mtime=0)
    manifest = ('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
                '"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"@CONFIG@","size":1},'
                '"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"@LAYER@",'
                '"size":1}]}').encode()
    config = ('{"architecture":"amd64","os":"linux","config":{"Labels":{"io.ebpf.programs":'
              '"{\\"count_getpid\\":\\"tracepoint\\"}","io.ebpf.maps":"{\\"counter\\":\\"array\\"}"}}}').encode()
    sep = b"\n--8<--\n"
    put("fuzz-image-pull", "v2-gzip", manifest + sep + config + sep + layer)
    put("fuzz-image-pull", "v2-tar", manifest + sep + config + sep + buf.getvalue())
    put("fuzz-image-pull", "v1-labels", manifest + sep +
        b'{"config":{"Labels":{"io.ebpf.bpf_function_name":"count_getpid","io.ebpf.program_type":"tracepoint",'
        b'"io.ebpf.filename":"tracepoint_counter.bpf.o"}}}' + sep + layer)
    bpf = os.path.join(build, "bpf")
    if os.path.isdir(bpf):
        for f in sorted(os.listdir(bpf)):
            if f.endswith(".bpf.o"):
                os.makedirs(os.path.join(CORPUS, "fuzz-elf-inspect"), exist_ok=True)
                shutil.copy(os.path.join(bpf, f), os.path.join(CORPUS, "fuzz-elf-inspect", f))
    else:
        print(f"no {bpf}: ELF seeds not refreshed", file=sys.stderr)


if __name__ == "__main__":
    main()
