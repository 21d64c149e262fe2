# SPDX-License-Identifier: LGPL-2.1-or-later
"""Map access over the bus for callers without BPF rights: an unprivileged owner reads and writes the maps
of their own program through bpfd, another user is refused, and bad keys, values and names get their
errors."""

import json
import os
import struct

import lib
from lib import load, unload

PROG_IFACE = "org.bpfd.Program"


def path_of(prog_id):
    return f"{lib.MANAGER_PATH}/program/{prog_id}"


def call(prog_id, method, signature, *args, user=None, check=True):
    """A Program method through busctl as USER; returns the parsed --json=short reply (or the process)."""
    p = lib.run(["busctl", "--system", "--json=short", "call", lib.BUS_NAME, path_of(prog_id), PROG_IFACE, method,
                 signature, *[str(a) for a in args]], user=user, check=check)
    if not check:
        return p
    return json.loads(p.stdout)["data"] if p.stdout.strip() else None


def key(n):
    b = struct.pack("<I", n)
    return [len(b), *b]


def u64(data):
    return struct.unpack("<Q", bytes(data))[0]


def load_as_alice():
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    p = lib.bpfctl("--json", "--no-ask-password", "load", obj, "-p", "count_getpid", "tracepoint", user=lib.ALICE)
    return p.json["programs"][0]


def test_owner_reads_and_writes_own_counters():
    lib.ensure_daemon()
    prog = load_as_alice()
    try:
        (info,) = call(prog["id"], "MapInfo", "s", "counter", user=lib.ALICE)
        assert info["type"]["data"] == "array" and info["key_size"]["data"] == 4 and info["value_size"]["data"] == 8
        assert info["btf"]["data"], "no BTF for a map built with BTF"
        for _ in range(100):
            os.getpid()
        (value,) = call(prog["id"], "MapLookup", "say", "counter", *key(0), user=lib.ALICE)
        assert u64(value) >= 100
        call(prog["id"], "MapUpdate", "sayayt", "counter", *key(1), 8, *struct.pack("<Q", 4242), 0, user=lib.ALICE)
        (value,) = call(prog["id"], "MapLookup", "say", "counter", *key(1), user=lib.ALICE)
        assert u64(value) == 4242
        (entries,) = call(prog["id"], "MapDump", "s", "counter", user=lib.ALICE)
        assert len(entries) == 2 and u64(entries[1][1]) == 4242, entries
        # the pinned map agrees: what the owner wrote is what the program sees
        assert lib.counter(lib.counter_pin(prog), 1) == 4242
        # the map pins belong to the owner
        for _map_id, name, pin in prog["maps"]:
            st = os.stat(pin)
            assert st.st_uid == lib.uid_of(lib.ALICE) and st.st_gid == 0 and st.st_mode & 0o777 == 0o660, (name, st)
    finally:
        unload(prog["id"])


def test_other_users_are_refused():
    lib.ensure_daemon()
    prog = load_as_alice()
    try:
        for user in (lib.BOB, lib.CAROL):
            p = call(prog["id"], "MapLookup", "say", "counter", *key(0), user=user, check=False)
            assert p.returncode != 0 and "not allowed to access the maps of other users" in p.stderr, p.stderr
            p = call(prog["id"], "MapUpdate", "sayayt", "counter", *key(0), 8, *[0] * 8, 0, user=user, check=False)
            assert p.returncode != 0, p.stdout
        (value,) = call(prog["id"], "MapLookup", "say", "counter", *key(0))   # root passes
        assert len(value) == 8
    finally:
        unload(prog["id"])


def gdbus_error(prog_id, method, *args):
    p = lib.run(["gdbus", "call", "--system", "--dest", lib.BUS_NAME, "--object-path", path_of(prog_id),
                 "--method", f"{PROG_IFACE}.{method}", *args], check=False)
    assert p.returncode != 0, p.stdout
    return p.stderr


def test_bad_map_requests():
    progs, _ = load("tracepoint_counter", "-p", "count_getpid")
    prog = progs[0]
    try:
        assert "org.bpfd.Error.MapNotFound" in gdbus_error(prog["id"], "MapLookup", "nosuchmap", "[byte 0, 0, 0, 0]")
        assert "org.bpfd.Error.InvalidArgument" in gdbus_error(prog["id"], "MapLookup", "counter", "[byte 0, 0]")
        assert "org.bpfd.Error.KeyNotFound" in gdbus_error(prog["id"], "MapLookup", "counter", "[byte 9, 0, 0, 0]")
        assert "org.bpfd.Error.InvalidArgument" in gdbus_error(prog["id"], "MapUpdate", "counter",
                                                               "[byte 0, 0, 0, 0]", "[byte 1, 2]", "0")
        assert "org.bpfd.Error.InvalidArgument" in gdbus_error(prog["id"], "MapUpdate", "counter",
                                                               "[byte 0, 0, 0, 0]", "[byte 0,0,0,0,0,0,0,0]", "7")
        assert "org.bpfd.Error.InvalidArgument" in gdbus_error(prog["id"], "MapDelete", "counter", "[byte 0, 0, 0, 0]")
        rodata = [m[1] for m in prog["maps"] if m[1].endswith(".rodata")][0]
        assert "org.bpfd.Error.PermissionDenied" in gdbus_error(prog["id"], "MapUpdate", rodata, "[byte 0, 0, 0, 0]",
                                                                "[byte 0, 0, 0, 0]", "0")
    finally:
        unload(prog["id"])


def test_per_cpu_values():
    progs, _ = load("tcx_counter", "-p", "tcx_count_b")
    try:
        (info,) = call(progs[0]["id"], "MapInfo", "s", "last")
        cpus = info["possible_cpus"]["data"]
        assert info["per_cpu"]["data"] is True and cpus >= 1
        (value,) = call(progs[0]["id"], "MapLookup", "say", "last", *key(0))
        assert len(value) == 8 * cpus, (len(value), cpus)
    finally:
        unload(progs[0]["id"])


def load_sharing(obj, prog_name, owner_id, user=None, check=True):
    """LoadFromPath with map_owner_id through gdbus; returns the process."""
    path = lib.world_readable_copy(lib.bpf_obj(obj))
    return lib.run(["gdbus", "call", "--system", "--dest", lib.BUS_NAME, "--object-path", lib.MANAGER_PATH,
                    "--method", "org.bpfd.Manager.LoadFromPath", path,
                    f"{{'programs': <['{prog_name}']>, 'map_owner_id': <uint32 {owner_id}>, "
                    f"'attach': <[{{'kind': <'tracepoint'>}}]>}}"], user=user, check=check)


def test_two_programs_share_a_map():
    """A load naming map_owner_id uses the owner's map: both programs count into it, each sees the other's
    writes, and the map stays pinned until the last of them is unloaded."""
    owner, _ = load("tracepoint_counter", "-p", "count_getpid", "tracepoint")
    owner = owner[0]
    sharer_id = None
    try:
        load_sharing("tracepoint_counter", "count_getppid", owner["id"])
        sharer = [p for p in lib.bpfctl("--json", "list").json if p["name"] == "count_getppid"][0]
        sharer_id = sharer["id"]
        counter_owner = [m for m in owner["maps"] if m[1] == "counter"][0]
        counter_sharer = [m for m in sharer["maps"] if m[1] == "counter"][0]
        assert counter_sharer[0] == counter_owner[0] and counter_sharer[2] == counter_owner[2], (owner, sharer)
        assert sharer["map_group"] == owner["load_group"]
        assert sorted(lib.bpfctl("--json", "get", str(owner["id"])).json["map_used_by"]) == sorted([owner["id"], sharer_id])
        pin = counter_owner[2]
        before = (lib.counter(pin, 0), lib.counter(pin, 1))
        for _ in range(50):
            os.getpid()
            os.getppid()
        assert lib.counter(pin, 0) - before[0] >= 50 and lib.counter(pin, 1) - before[1] >= 50
        # each side sees what the other wrote, through the bus
        call(sharer_id, "MapUpdate", "sayayt", "counter", *key(0), 8, *struct.pack("<Q", 5), 0)
        (value,) = call(owner["id"], "MapLookup", "say", "counter", *key(0))
        assert 5 <= u64(value) < 1000
        # the owner goes first: the shared map stays for the sharer
        unload(owner["id"])
        assert os.path.exists(pin)
        before = lib.counter(pin, 1)
        for _ in range(20):
            os.getppid()
        assert lib.counter(pin, 1) - before >= 20
        unload(sharer_id)
        sharer_id = None
        assert not os.path.exists(os.path.dirname(pin)), "the shared map directory outlived its last user"
    finally:
        unload(owner["id"])
        if sharer_id:
            unload(sharer_id)


def test_sharing_refused_for_mismatch_and_others():
    lib.ensure_daemon()
    owner, _ = load("tracepoint_counter", "-p", "count_getpid")
    owner = owner[0]
    try:
        # cgroup_counter's "counter" has 1 entry, the owner's 2
        p = lib.run(["gdbus", "call", "--system", "--dest", lib.BUS_NAME, "--object-path", lib.MANAGER_PATH,
                     "--method", "org.bpfd.Manager.LoadFromPath", lib.world_readable_copy(lib.bpf_obj("cgroup_counter")),
                     f"{{'map_owner_id': <uint32 {owner['id']}>}}"], check=False)
        assert "org.bpfd.Error.InvalidArgument" in p.stderr and "does not match" in p.stderr, p.stderr
        # alice may load tracepoint programs, but not share root's maps
        p = load_sharing("tracepoint_counter", "count_getppid", owner["id"], user=lib.ALICE, check=False)
        assert "org.bpfd.Error.PermissionDenied" in p.stderr, p.stderr
        assert [q["id"] for q in lib.bpfctl("--json", "list").json] == [owner["id"]]
    finally:
        unload(owner["id"])


RINGBUF_READER = r"""
import dbus, mmap, os, struct, sys
# As the owner: ask bpfd for the ring buffer, make events (getpid), and read them with no BPF rights at all.
path, count = sys.argv[1], int(sys.argv[2])
prog = dbus.SystemBus().get_object("org.bpfd", path)
fd = prog.MapOpenRingBuffer("events", dbus_interface="org.bpfd.Program").take()
size = 16384
page = mmap.PAGESIZE
consumer = mmap.mmap(fd, page, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
producer = mmap.mmap(fd, page + 2 * size, mmap.MAP_SHARED, mmap.PROT_READ, offset=page)
for _ in range(count):
    os.getpid()
cons = struct.unpack_from("<Q", consumer, 0)[0]
prod = struct.unpack_from("<Q", producer, 0)[0]
events = []
while cons < prod:
    length, = struct.unpack_from("<I", producer, page + cons % size)
    if length & (1 << 31):          # still being written
        break
    if not length & (1 << 30):      # not discarded
        events.append(struct.unpack_from("<Q", producer, page + cons % size + 8)[0])
    cons += ((length & 0x3fffffff) + 8 + 7) // 8 * 8
struct.pack_into("<Q", consumer, 0, cons)
print(len(events), len({e >> 32 for e in events}), os.getpid())
print(*sorted({e >> 32 for e in events}))
"""


def test_ring_buffer_events_reach_the_owner():
    """An unprivileged owner gets the ring buffer's descriptor over the bus and reads the events of a
    tracepoint program as a stream; another user does not get it."""
    lib.ensure_daemon()
    obj = lib.world_readable_copy(lib.bpf_obj("ringbuf_events"))
    prog = lib.bpfctl("--json", "--no-ask-password", "load", obj, "tracepoint", user=lib.ALICE).json["programs"][0]
    try:
        p = lib.run(["/usr/bin/python3", "-c", RINGBUF_READER, path_of(prog["id"]), "25"], user=lib.ALICE)
        n, _, reader_pid = map(int, p.stdout.split("\n")[0].split())
        tgids = {int(t) for t in p.stdout.split("\n")[1].split()}
        assert n >= 25 and reader_pid in tgids, p.stdout
        p = lib.run(["/usr/bin/python3", "-c", RINGBUF_READER, path_of(prog["id"]), "1"], user=lib.BOB, check=False)
        assert p.returncode != 0 and "org.bpfd.Error.PermissionDenied" in p.stderr, p.stderr
        assert "org.bpfd.Error.InvalidArgument" in gdbus_error(prog["id"], "MapOpenRingBuffer",
                                                               [m[1] for m in prog["maps"] if m[1] != "events"][0])
    finally:
        unload(prog["id"])


FILL_AND_DUMP = r"""
import dbus, struct, sys
path, n = sys.argv[1], int(sys.argv[2])
prog = dbus.Interface(dbus.SystemBus().get_object("org.bpfd", path), "org.bpfd.Program")
for k in range(n):
    prog.MapUpdate("entries", dbus.ByteArray(struct.pack("<I", k)), dbus.ByteArray(struct.pack("<Q", k * 7)),
                   dbus.UInt64(0))
entries = prog.MapDump("entries", byte_arrays=True)
seen = {struct.unpack("<I", bytes(k))[0]: struct.unpack("<Q", bytes(v))[0] for k, v in entries}
print(len(entries), all(seen.get(k) == k * 7 for k in range(n)))
"""


def test_dump_of_a_large_hash():
    """A dump bigger than one kernel batch (4096 entries) returns every entry exactly once."""
    progs, _ = load("hash_map")
    try:
        p = lib.run(["/usr/bin/python3", "-c", FILL_AND_DUMP, path_of(progs[0]["id"]), "5000"], timeout=300)
        assert p.stdout.split() == ["5000", "True"], p.stdout
    finally:
        unload(progs[0]["id"])
