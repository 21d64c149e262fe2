# SPDX-License-Identifier: LGPL-2.1-or-later
"""MapDump across kernel batches: a hash map hands back a 4-byte bucket index as its batch token, whatever
the size of its keys. bpfd copied only key_size bytes of it into the next call, so for a hash with 2-byte
keys (ports, say) the next bucket index was cut to its low half, with the other half whatever the buffer
held: the dump stopped after the first batch of 4096 entries, or read buckets again."""

import lib
from lib import load, unload

FILL_AND_DUMP = r"""
import dbus, struct, sys
path, n = sys.argv[1], int(sys.argv[2])
prog = dbus.Interface(dbus.SystemBus().get_object("org.bpfd", path), "org.bpfd.Program")
for k in range(n):
    prog.MapUpdate("ports", dbus.ByteArray(struct.pack("<H", k)), dbus.ByteArray(struct.pack("<Q", k * 7)),
                   dbus.UInt64(0))
try:
    entries = prog.MapDump("ports", byte_arrays=True)
except dbus.exceptions.DBusException as e:
    print("error", e.get_dbus_name(), e.get_dbus_message())
    sys.exit(0)
keys = [struct.unpack("<H", bytes(k))[0] for k, _ in entries]
values = {struct.unpack("<H", bytes(k))[0]: struct.unpack("<Q", bytes(v))[0] for k, v in entries}
print(len(keys), len(set(keys)), all(values.get(k) == k * 7 for k in range(n)))
"""


def test_dump_of_a_hash_with_two_byte_keys():
    """5000 entries of u16 keys (more than one batch of 4096) come back, every entry exactly once."""
    progs, _ = load("hash_small_keys")
    try:
        p = lib.run(["/usr/bin/python3", "-c", FILL_AND_DUMP, f"{lib.MANAGER_PATH}/program/{progs[0]['id']}", "5000"],
                    timeout=300)
        assert p.stdout.split() == ["5000", "5000", "True"], p.stdout
    finally:
        unload(progs[0]["id"])
