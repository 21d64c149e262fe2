# SPDX-License-Identifier: LGPL-2.1-or-later
"""fuse-symlink.py MOUNTPOINT LINK_TARGET: a file system whose every name is a symbolic link to LINK_TARGET,
answered only when the test says so, for tests/test_helper_kill.py. Run it inside `unshare -Urm` (FUSE mounts
are allowed in a user and mount namespace of one's own). It mounts FUSE on MOUNTPOINT, prints "mounted PID"
(its own pid: the "container" process) and waits for ever; a child serves the mount: for each LOOKUP it prints
"lookup NAME" and waits for a line on standard input before answering (a symbolic link); READLINK gets
LINK_TARGET; anything else ENOSYS. The child outlives its parent, so the namespace stays when the test kills
the parent and another process gets its pid."""

import ctypes
import os
import signal
import stat
import struct
import sys

FUSE_LOOKUP, FUSE_FORGET, FUSE_GETATTR, FUSE_READLINK, FUSE_INIT = 1, 2, 3, 5, 26
FUSE_INTERRUPT, FUSE_BATCH_FORGET = 36, 42
ENOSYS = 38


def attr(ino, mode, size):
    # fuse_attr: ino, size, blocks, atime, mtime, ctime, atimensec, mtimensec, ctimensec, mode, nlink, uid, gid,
    # rdev, blksize, flags
    return struct.pack("<QQQQQQIIIIIIIIII", ino, size, 0, 0, 0, 0, 0, 0, 0, mode, 1, os.getuid(), os.getgid(),
                       0, 4096, 0)


def reply(fd, unique, body=b"", error=0):
    try:
        os.write(fd, struct.pack("<IiQ", 16 + len(body), error, unique) + body)
    except OSError:
        pass  # the request was interrupted meanwhile


def serve(fd, target):
    while True:
        try:
            msg = os.read(fd, 1 << 20)
        except OSError:
            return
        length, opcode, unique, nodeid = struct.unpack_from("<IIQQ", msg)
        if opcode in (FUSE_FORGET, FUSE_INTERRUPT, FUSE_BATCH_FORGET):
            continue  # no answer expected
        if opcode == FUSE_INIT:
            major, minor = struct.unpack_from("<II", msg, 40)
            out = struct.pack("<IIIIHHIIHHI", 7, min(minor, 31), 65536, 0, 16, 12, 65536, 1, 16, 0, 0)
            reply(fd, unique, out + bytes(64 - len(out)))
        elif opcode == FUSE_LOOKUP:
            name = msg[40:length].split(b"\0")[0].decode()
            print(f"lookup {name}", flush=True)
            sys.stdin.readline()
            # fuse_entry_out: nodeid, generation, entry_valid, attr_valid, entry_valid_nsec, attr_valid_nsec, attr
            reply(fd, unique, struct.pack("<QQQQII", 2, 0, 60, 60, 0, 0)
                  + attr(2, stat.S_IFLNK | 0o777, len(target)))
        elif opcode == FUSE_GETATTR:
            # fuse_attr_out: attr_valid, attr_valid_nsec, dummy, attr
            mode = stat.S_IFDIR | 0o755 if nodeid == 1 else stat.S_IFLNK | 0o777
            reply(fd, unique, struct.pack("<QII", 60, 0, 0) + attr(nodeid, mode, len(target)))
        elif opcode == FUSE_READLINK:
            reply(fd, unique, target.encode())
        else:
            reply(fd, unique, error=-ENOSYS)


def main():
    mountpoint, target = sys.argv[1], sys.argv[2]
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/dev/fuse", os.O_RDWR)
    opts = f"fd={fd},rootmode=40000,user_id={os.getuid()},group_id={os.getgid()}".encode()
    if libc.mount(b"bpfd-symlink", mountpoint.encode(), b"fuse", 0, opts) != 0:
        sys.exit(f"fuse-symlink: cannot mount FUSE on {mountpoint}: {os.strerror(ctypes.get_errno())}")
    if os.fork() == 0:
        serve(fd, target)
        os._exit(0)
    os.close(fd)
    print(f"mounted {os.getpid()}", flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
