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


# Bytes after the common 12-byte header of a BTF type, by kind (vlen = number of members/params/...).
_BTF_EXTRA = {1: lambda v: 4, 3: lambda v: 12, 4: lambda v: 12 * v, 5: lambda v: 12 * v, 6: lambda v: 8 * v,
              13: lambda v: 8 * v, 14: lambda v: 4, 15: lambda v: 12 * v, 17: lambda v: 4, 19: lambda v: 12 * v}


def btf_member_type_offset(data, member):
    """Offset inside .BTF of the type id of the first struct member named MEMBER (e.g. "type" of a map
    definition in .maps)."""
    off, size = sections(data)[".BTF"]
    btf = data[off:off + size]
    magic, _ver, _flags, hdr_len, type_off, type_len, str_off, _str_len = struct.unpack_from("<HBBIIIII", btf, 0)
    assert magic == 0xeb9f
    types, strings = hdr_len + type_off, hdr_len + str_off

    def name(at):
        return btf[strings + at:btf.index(b"\0", strings + at)].decode(errors="replace")

    pos = types
    while pos < types + type_len:
        _name_off, info, _size = struct.unpack_from("<III", btf, pos)
        kind, vlen = (info >> 24) & 0x1f, info & 0xffff
        body = pos + 12
        if kind == 4:
            for i in range(vlen):
                m_name, _m_type, _m_off = struct.unpack_from("<III", btf, body + 12 * i)
                if name(m_name) == member:
                    return body + 12 * i + 4
        pos = body + _BTF_EXTRA.get(kind, lambda v: 0)(vlen)
    raise AssertionError(f"no struct member {member!r} in .BTF")
