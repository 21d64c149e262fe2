# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every reply is sent, whatever bytes an error message would quote.

D-Bus strings must be valid UTF-8, and sd-bus refuses to send a message that
is not: an error quoting a caller's string cut at a byte limit inside a
multi-byte character, or quoting a library's message with raw bytes from an
object, used to leave the caller waiting for NoReply. Each quoting site is
called here with text that would be cut inside a character; each must answer
its org.bpfd.Error at once, with the quoted text cut at a character boundary."""

import os
import tempfile

import elfedit
import lib

# 3 bytes per character: a cut at 32, 64 or 256 bytes falls inside one.
WIDE = "迩"


def gdbus(method, *args, path=lib.MANAGER_PATH, iface=lib.MANAGER_IFACE):
    lib.ensure_daemon()
    # The timeout is far below sd-bus's 25 s: a refused reply shows as a timeout, not a slow pass.
    return lib.run(["gdbus", "call", "--system", "--timeout", "10", "--dest", lib.BUS_NAME,
                    "--object-path", path, "--method", f"{iface}.{method}", *args], check=False, timeout=30)


def assert_error(p, name, quoted=None):
    assert "Timeout was reached" not in p.stderr and "NoReply" not in p.stderr, \
        f"no reply (expected org.bpfd.Error.{name}):\n{p.stderr}"
    assert p.returncode != 0, f"call succeeded, expected org.bpfd.Error.{name}:\n{p.stdout}"
    assert f"GDBus.Error:org.bpfd.Error.{name}:" in p.stderr, f"expected org.bpfd.Error.{name}, got:\n{p.stderr}"
    assert "\ufffd" not in p.stderr, f"the message carries invalid UTF-8:\n{p.stderr}"
    if quoted is not None:
        assert quoted in p.stderr, f"expected {quoted!r} in:\n{p.stderr}"


def cut(n_bytes):
    """WIDE repeated, cut at a character boundary at most N_BYTES long."""
    return WIDE * (n_bytes // len(WIDE.encode()))


def test_unknown_option_key_cut_inside_a_character():
    key = WIDE * 30                       # 90 bytes, quoted up to 64
    p = gdbus("LoadFromPath", lib.bpf_obj("tracepoint_counter"), "{'%s': <'x'>}" % key)
    assert_error(p, "InvalidArgument", f"'{cut(64)}'")


def test_unknown_program_kind_cut_inside_a_character():
    kind = WIDE * 30
    p = gdbus("LoadFromPath", lib.bpf_obj("tracepoint_counter"),
              "{'programs': <['count_getpid']>, 'attach': <[{'kind': <'%s'>}]>}" % kind)
    assert_error(p, "InvalidArgument", f"'{cut(64)}'")
    p = gdbus("Attach", "uint32 2147483647", "{'kind': <'%s'>}" % kind)
    assert_error(p, "InvalidArgument", f"'{cut(64)}'")


def test_pull_policy_cut_inside_a_character():
    policy = WIDE * 12                    # 36 bytes, quoted up to 32
    p = gdbus("PullImage", "127.0.0.1:1/x:y", policy)
    assert_error(p, "InvalidArgument", f"'{cut(32)}'")
    p = gdbus("LoadFromImage", "127.0.0.1:1/x:y", "{'pull_policy': <'%s'>}" % policy)
    assert_error(p, "InvalidArgument", f"'{cut(32)}'")


def test_image_reference_cut_inside_a_character():
    ref = WIDE * 100                      # 300 bytes, quoted up to 256
    p = gdbus("PullImage", ref, "Never")
    assert_error(p, "InvalidArgument", f"'{cut(256)}'")
    p = gdbus("LoadFromImage", ref, "@a{sv} {}")
    assert_error(p, "InvalidArgument", f"'{cut(256)}'")
    p = gdbus("RemoveImage", ref)
    assert_error(p, "InvalidArgument", f"'{cut(256)}'")


def test_map_name_cut_inside_a_character():
    lib.ensure_daemon()
    progs, _ = lib.load("tracepoint_counter", "-p", "count_getpid")
    try:
        name = WIDE * 100                 # 300 bytes: too long, quoted up to 64
        path = f"{lib.MANAGER_PATH}/program/{progs[0]['id']}"
        for method, args in (("MapInfo", [name]), ("MapLookup", [name, "@ay []"]),
                             ("MapDump", [name]), ("MapDelete", [name, "@ay []"])):
            p = gdbus(method, *args, path=path, iface="org.bpfd.Program")
            assert_error(p, "InvalidArgument", f"'{cut(64)}'")
    finally:
        lib.unload(progs[0]["id"])


def test_libbpf_message_with_raw_bytes():
    """libbpf quotes a BTF member name of the object: a raw byte there reaches the error message."""
    with open(lib.bpf_obj("tracepoint_counter"), "rb") as f:
        data = f.read()
    bad = elfedit.replace_in_section(data, ".BTF", b"max_entries", b"max_entr\xffes")
    d = tempfile.mkdtemp(prefix="utf8-", dir=os.environ.get("BPFD_TEST_TMPDIR") or "/tmp")
    os.chmod(d, 0o755)
    path = os.path.join(d, "raw.bpf.o")
    with open(path, "wb") as f:
        f.write(bad)
    os.chmod(path, 0o644)
    p = gdbus("LoadFromPath", path, "@a{sv} {}")
    assert_error(p, "InvalidObject", "max_entr\\xffes")
    # And bpfd is still there for everybody.
    assert lib.daemon.running
    lib.bpfctl("list")


def test_image_label_quoted_from_the_puller():
    """bpfd-image quotes a label of the image (80 bytes) in its error; bpfd passes it on."""
    from test_image import push, registry, scratch, write_config
    from test_image_load import daemon_with_images
    with registry() as reg:
        push(reg, "bad", "--labels", "not-json")
        with daemon_with_images(write_config(reg), scratch()):
            p = gdbus("PullImage", reg.ref("bad"), "Always")
            assert "Timeout was reached" not in p.stderr, f"no reply:\n{p.stderr}"
            assert p.returncode != 0 and "GDBus.Error:org.bpfd.Error." in p.stderr, p.stderr
            assert "\ufffd" not in p.stderr and "迩" * 26 in p.stderr, p.stderr
            assert "迩" * 27 not in p.stderr, p.stderr


def test_registry_challenge_quoted_from_the_puller():
    """A registry whose 401 names an authentication scheme bpfd-image does not know: its text (40 bytes) is
    quoted in the error."""
    import socket
    import threading
    from test_image import scratch
    from test_image_load import daemon_with_images

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    answer = ("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: " + WIDE * 20 +
              "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").encode()
    stop = threading.Event()

    def serve():
        srv.settimeout(0.5)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    conn.recv(65536)
                    conn.sendall(answer)
                except OSError:
                    pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    config = os.path.join(scratch(), "registries.conf")
    with open(config, "w") as f:
        f.write(f"[127.0.0.1:{port}]\ninsecure=true\n")
    try:
        with daemon_with_images(config, scratch()):
            p = gdbus("PullImage", f"127.0.0.1:{port}/bpfd/test:x", "Always")
            assert "Timeout was reached" not in p.stderr, f"no reply:\n{p.stderr}"
            assert "GDBus.Error:org.bpfd.Error." in p.stderr and "unsupported authentication" in p.stderr, p.stderr
            assert "\ufffd" not in p.stderr and WIDE * 13 in p.stderr and WIDE * 14 not in p.stderr, p.stderr
    finally:
        stop.set()
        t.join()
        srv.close()
