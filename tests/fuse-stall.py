# SPDX-License-Identifier: LGPL-2.1-or-later
"""fuse-stall.py MOUNTPOINT COMMAND [ARGS...]: what an unprivileged user can do to make a file system that never
answers, for tests/test_robust_hang.py. Run it inside `unshare -Urm` (a user and mount namespace of one's own,
where FUSE mounts are allowed): it mounts FUSE on MOUNTPOINT and serves it with a process that answers FUSE_INIT
and then reads every request and answers none (a process stuck in such a request cannot even be killed until
this server goes). Then it starts COMMAND in this namespace, prints "ready PID" (its own pid, a process in the
namespace: /proc/PID/root reaches the mount from outside), keeps the server until its standard input ends, then
waits for COMMAND and prints "done RC" and COMMAND's output."""

import ctypes
import os
import struct
import subprocess
import sys

FUSE_INIT = 26


def serve(fd):
    while True:
        try:
            msg = os.read(fd, 1 << 20)
        except OSError:
            return
        length, opcode, unique = struct.unpack_from("<IIQ", msg)
        if opcode == FUSE_INIT:
            major, minor = struct.unpack_from("<II", msg, 40)
            # fuse_init_out: major, minor, max_readahead, flags, max_background, congestion_threshold,
            # max_write, time_gran, max_pages, map_alignment, flags2, then padding to 64 bytes
            out = struct.pack("<IIIIHHIIHHI", 7, min(minor, 31), 65536, 0, 16, 12, 65536, 1, 16, 0, 0)
            out += bytes(64 - len(out))
            os.write(fd, struct.pack("<IiQ", 16 + len(out), 0, unique) + out)
        # everything else: read, never answered


def main():
    mountpoint, command = sys.argv[1], sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/dev/fuse", os.O_RDWR)
    opts = f"fd={fd},rootmode=40000,user_id={os.getuid()},group_id={os.getgid()}".encode()
    if libc.mount(b"bpfd-stall", mountpoint.encode(), b"fuse", 0, opts) != 0:
        sys.exit(f"fuse-stall: cannot mount FUSE on {mountpoint}: {os.strerror(ctypes.get_errno())}")
    server = os.fork()
    if server == 0:
        serve(fd)
        os._exit(0)
    os.close(fd)
    p = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    print(f"ready {os.getpid()}", flush=True)
    sys.stdin.read()
    os.kill(server, 9)
    os.waitpid(server, 0)
    out, _ = p.communicate()
    print(f"done {p.returncode}\n{out}", flush=True)


if __name__ == "__main__":
    main()
