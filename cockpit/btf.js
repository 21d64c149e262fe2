/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Formats map keys and values by the map's BTF (MapInfo "btf", "btf_key_type_id", "btf_value_type_id"):
 * integers, chars, enums, structs, unions, arrays, typedefs and qualifiers; anything else as hex bytes.
 * The BTF arrives as bytes over the bus and is parsed here, in the browser: the service never formats. */
"use strict";

const BTF_KIND = {
    INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
    RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
};

/* Parses raw BTF (Uint8Array); returns { types: [null, type1, ...], name(off) } or throws. */
function btfParse(bytes) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < 24 || dv.getUint16(0, true) !== 0xeb9f)
        throw new Error("not BTF (or not in this host's byte order)");
    const hdrLen = dv.getUint32(4, true);
    const typeOff = hdrLen + dv.getUint32(8, true), typeLen = dv.getUint32(12, true);
    const strOff = hdrLen + dv.getUint32(16, true), strLen = dv.getUint32(20, true);
    const decoder = new TextDecoder();
    function name(off) {
        if (off >= strLen) return "";
        let end = strOff + off;
        while (end < strOff + strLen && bytes[end] !== 0) end++;
        return decoder.decode(bytes.subarray(strOff + off, end));
    }
    const types = [null];
    let p = typeOff;
    while (p + 12 <= typeOff + typeLen) {
        const info = dv.getUint32(p + 4, true);
        const t = {
            name: name(dv.getUint32(p, true)),
            kind: (info >>> 24) & 0x1f,
            vlen: info & 0xffff,
            kflag: info >>> 31,
            sizeOrType: dv.getUint32(p + 8, true),
        };
        p += 12;
        switch (t.kind) {
        case BTF_KIND.INT: {
            const e = dv.getUint32(p, true);
            t.signed = !!((e >>> 24) & 1);
            t.char = !!((e >>> 24) & 2);
            t.bool = !!((e >>> 24) & 4);
            t.bitOffset = (e >>> 16) & 0xff;
            t.bits = e & 0xff;
            p += 4;
            break;
        }
        case BTF_KIND.ARRAY:
            t.elem = dv.getUint32(p, true);
            t.nelems = dv.getUint32(p + 8, true);
            p += 12;
            break;
        case BTF_KIND.STRUCT:
        case BTF_KIND.UNION:
            t.members = [];
            for (let i = 0; i < t.vlen; i++, p += 12) {
                const off = dv.getUint32(p + 8, true);
                t.members.push({
                    name: name(dv.getUint32(p, true)),
                    type: dv.getUint32(p + 4, true),
                    bitOffset: t.kflag ? off & 0xffffff : off,
                    bitSize: t.kflag ? off >>> 24 : 0,
                });
            }
            break;
        case BTF_KIND.ENUM:
            t.values = [];
            for (let i = 0; i < t.vlen; i++, p += 8)
                t.values.push({ name: name(dv.getUint32(p, true)), value: BigInt(dv.getInt32(p + 4, true)) });
            break;
        case BTF_KIND.ENUM64:
            t.values = [];
            for (let i = 0; i < t.vlen; i++, p += 12)
                t.values.push({
                    name: name(dv.getUint32(p, true)),
                    value: (BigInt(dv.getUint32(p + 8, true)) << 32n) | BigInt(dv.getUint32(p + 4, true)),
                });
            break;
        case BTF_KIND.FUNC_PROTO:
            p += 8 * t.vlen;
            break;
        case BTF_KIND.VAR:
        case BTF_KIND.DECL_TAG:
            p += 4;
            break;
        case BTF_KIND.DATASEC:
            t.vars = [];
            for (let i = 0; i < t.vlen; i++, p += 12)
                t.vars.push({ type: dv.getUint32(p, true), offset: dv.getUint32(p + 4, true),
                              size: dv.getUint32(p + 8, true) });
            break;
        default:
            break;
        }
        types.push(t);
    }
    return { types, name };
}

function hexBytes(bytes) {
    return Array.from(bytes, b => b.toString(16).padStart(2, "0")).join(" ");
}

function readUnsigned(bytes, size) {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--)
        v = (v << 8n) | BigInt(bytes[i] || 0);
    return v;
}

/* The size in bytes of type id (after typedefs and qualifiers), or null. */
function btfSize(btf, id, depth = 0) {
    const t = btf.types[id];
    if (!t || depth > 32) return null;
    switch (t.kind) {
    case BTF_KIND.INT: case BTF_KIND.STRUCT: case BTF_KIND.UNION: case BTF_KIND.ENUM: case BTF_KIND.ENUM64:
    case BTF_KIND.FLOAT: case BTF_KIND.DATASEC:
        return t.sizeOrType;
    case BTF_KIND.PTR:
        return 8;
    case BTF_KIND.ARRAY: {
        const s = btfSize(btf, t.elem, depth + 1);
        return s === null ? null : s * t.nelems;
    }
    case BTF_KIND.TYPEDEF: case BTF_KIND.VOLATILE: case BTF_KIND.CONST: case BTF_KIND.RESTRICT:
    case BTF_KIND.TYPE_TAG: case BTF_KIND.VAR:
        return btfSize(btf, t.sizeOrType, depth + 1);
    default:
        return null;
    }
}

/* A value of type id in bytes, as text. */
function btfFormat(btf, id, bytes, depth = 0) {
    const t = btf && btf.types[id];
    if (!t || depth > 32) return hexBytes(bytes);
    switch (t.kind) {
    case BTF_KIND.INT: {
        const size = t.sizeOrType;
        let v = readUnsigned(bytes, size);
        if (t.bits && t.bits < size * 8)
            v = (v >> BigInt(t.bitOffset)) & ((1n << BigInt(t.bits)) - 1n);
        if (t.signed && t.bits && (v >> BigInt(t.bits - 1)) & 1n)
            v -= 1n << BigInt(t.bits);
        if (t.bool) return v ? "true" : "false";
        if (t.char && size === 1) return v >= 32n && v < 127n ? `'${String.fromCharCode(Number(v))}'` : v.toString();
        return v.toString();
    }
    case BTF_KIND.PTR:
        return "0x" + readUnsigned(bytes, 8).toString(16);
    case BTF_KIND.ENUM: case BTF_KIND.ENUM64: {
        const v = readUnsigned(bytes, t.sizeOrType);
        const found = t.values.find(e => BigInt.asUintN(t.sizeOrType * 8, e.value) === v);
        return found ? found.name : v.toString();
    }
    case BTF_KIND.ARRAY: {
        const elemSize = btfSize(btf, t.elem);
        const elem = resolve(btf, t.elem);
        if (elemSize === null) return hexBytes(bytes);
        if (elem && elem.kind === BTF_KIND.INT && elem.sizeOrType === 1 && elem.char) {
            const end = bytes.indexOf(0);
            const text = new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end));
            return JSON.stringify(text);
        }
        const out = [];
        for (let i = 0; i < t.nelems; i++)
            out.push(btfFormat(btf, t.elem, bytes.subarray(i * elemSize, (i + 1) * elemSize), depth + 1));
        return "[" + out.join(", ") + "]";
    }
    case BTF_KIND.STRUCT: case BTF_KIND.UNION: {
        const out = t.members.map(m => {
            const size = btfSize(btf, m.type);
            let text;
            if (m.bitSize || m.bitOffset % 8) {
                const width = m.bitSize || (size || 0) * 8;
                const raw = readUnsigned(bytes, t.sizeOrType) >> BigInt(m.bitOffset);
                text = (raw & ((1n << BigInt(width)) - 1n)).toString();
            } else {
                const start = m.bitOffset / 8;
                text = btfFormat(btf, m.type, bytes.subarray(start, start + (size || 0)), depth + 1);
            }
            return (m.name ? m.name + ": " : "") + text;
        });
        return "{" + out.join(", ") + "}";
    }
    case BTF_KIND.TYPEDEF: case BTF_KIND.VOLATILE: case BTF_KIND.CONST: case BTF_KIND.RESTRICT:
    case BTF_KIND.TYPE_TAG:
        return btfFormat(btf, t.sizeOrType, bytes, depth + 1);
    case BTF_KIND.DATASEC:
        /* Global data (.rodata, .data, .bss): each variable by name. */
        return "{" + t.vars.map(v => {
            const variable = btf.types[v.type];
            const value = btfFormat(btf, variable ? variable.sizeOrType : 0, bytes.subarray(v.offset, v.offset + v.size),
                                    depth + 1);
            return (variable ? variable.name : "?") + ": " + value;
        }).join(", ") + "}";
    case BTF_KIND.VAR:
        return btfFormat(btf, t.sizeOrType, bytes, depth + 1);
    case BTF_KIND.FLOAT: {
        const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        return String(t.sizeOrType === 4 ? dv.getFloat32(0, true) : dv.getFloat64(0, true));
    }
    default:
        return hexBytes(bytes);
    }
}

function resolve(btf, id) {
    let t = btf.types[id];
    for (let i = 0; t && i < 32 && [BTF_KIND.TYPEDEF, BTF_KIND.VOLATILE, BTF_KIND.CONST, BTF_KIND.RESTRICT,
        BTF_KIND.TYPE_TAG].includes(t.kind); i++)
        t = btf.types[t.sizeOrType];
    return t;
}

/* A map's formatter from its MapInfo: { key(bytes), value(bytes) } giving text. Per-CPU values (each CPU's
 * value padded to 8 bytes) become a list, one per possible CPU. */
function btfMapFormatter(info) {
    let btf = null;
    try {
        if (info.btf && info.btf.length) btf = btfParse(info.btf);
    } catch (ex) {
        console.warn("BTF not usable:", ex);
    }
    const keyId = btf ? info.btf_key_type_id : 0, valueId = btf ? info.btf_value_type_id : 0;
    const fmt = (id, bytes) => (id ? btfFormat(btf, id, bytes) : hexBytes(bytes));
    return {
        hasBtf: !!(btf && (keyId || valueId)),
        /* Array maps index by a u32 even where the BTF has no key type (global data). */
        key: bytes => (keyId || bytes.length !== 4 || !/array/.test(info.type || "") ? fmt(keyId, bytes)
            : readUnsigned(bytes, 4).toString()),
        value: bytes => {
            if (!info.per_cpu) return fmt(valueId, bytes);
            const stride = Math.ceil(info.value_size / 8) * 8, out = [];
            for (let cpu = 0; cpu * stride < bytes.length; cpu++)
                out.push(fmt(valueId, bytes.subarray(cpu * stride, cpu * stride + info.value_size)));
            return "[" + out.join(", ") + "]";
        },
    };
}

window.bpfdBtf = { btfParse, btfFormat, btfMapFormatter, hexBytes };
