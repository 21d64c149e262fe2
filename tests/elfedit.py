# SPDX-License-Identifier: LGPL-2.1-or-later
"""Byte-level changes to ELF objects for the tests of malformed input
(Python 3 standard library only): find a section by name and change bytes
inside it, the way a corrupted or hostile object would."""

import struct


def sections(data):
    """{name: (offset, size)} of every section of a 64-bit little-endian ELF."""
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "not a 64-bit LE ELF"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    str_off, str_size = headers[shstrndx][4], headers[shstrndx][5]
    names = data[str_off:str_off + str_size]
    out = {}
    for h in headers:
        name = names[h[0]:names.index(b"\0", h[0])].decode()
        out[name] = (h[4], h[5])
    return out


def replace_in_section(data, section, old, new):
    """DATA with the first OLD inside SECTION replaced by NEW (same length)."""
    assert len(old) == len(new)
    off, size = sections(data)[section]
    at = data.find(old, off, off + size)
    assert at >= 0, f"{old!r} not in {section}"
    return data[:at] + new + data[at + len(old):]


def set_byte(data, section, offset, value):
    """DATA with the byte at OFFSET inside SECTION set to VALUE."""
    off, size = sections(data)[section]
    assert 0 <= offset < size
    return data[:off + offset] + bytes([value]) + data[off + offset + 1:]
