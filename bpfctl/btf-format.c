/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <inttypes.h>
#include <math.h>

#include "btf-format.h"
#include "libbpf-dl.h"
#include "json.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

/* Nesting deeper than this is a loop in broken BTF, or not worth showing. */
#define MAX_DEPTH 32

struct BtfFormatter {
        struct btf *btf;
        struct btf_dump *dump;
        FILE *out; /* where btf_dump's output goes while dumping */
};

static void dump_printf(void *ctx, const char *format, va_list ap) {
        BtfFormatter *f = ctx;

        if (f->out)
                vfprintf(f->out, format, ap);
}

/* libbpf's warnings name its internals; bpfctl says itself what went wrong, or prints hex. */
static int libbpf_print_nothing(enum libbpf_print_level level, const char *format, va_list ap) {
        return 0;
}

int btf_formatter_new(const void *raw, size_t size, BtfFormatter **ret) {
        BtfFormatter *f;
        int r;

        if (size == 0 || size > UINT32_MAX)
                return -EINVAL;
        r = dlopen_libbpf();
        if (r < 0)
                return r;

        f = calloc(1, sizeof(BtfFormatter));
        if (!f)
                return -ENOMEM;

        (void) sym_libbpf_set_print(libbpf_print_nothing);

        f->btf = sym_btf__new(raw, (uint32_t) size);
        if (!f->btf) {
                btf_formatter_free(f);
                return -EINVAL;
        }

        f->dump = sym_btf_dump__new(f->btf, dump_printf, f, NULL);
        if (!f->dump) {
                r = errno > 0 ? -errno : -ENOMEM;

                btf_formatter_free(f);
                return r;
        }

        *ret = f;
        return 0;
}

BtfFormatter *btf_formatter_free(BtfFormatter *f) {
        if (!f)
                return NULL;
        sym_btf_dump__free(f->dump);
        sym_btf__free(f->btf);
        free(f);
        return NULL;
}

bool btf_formatter_fits(BtfFormatter *f, uint32_t type_id, size_t size) {
        int64_t s;

        if (type_id == 0 || type_id >= sym_btf__type_cnt(f->btf))
                return false;
        s = sym_btf__resolve_size(f->btf, type_id);
        return s > 0 && (uint64_t) s == size;
}

/* Runs writer with f->out pointed at a memory stream; the text in *ret. */
static int capture(BtfFormatter *f, int (*writer)(BtfFormatter *f, const void *userdata), const void *userdata,
                   char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;
        int r;

        f->out = open_memstream(&buf, &n);
        if (!f->out)
                return -ENOMEM;
        r = writer(f, userdata);
        if (fclose(TAKE_PTR(f->out)) < 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;

        *ret = TAKE_PTR(buf);
        return 0;
}

static int write_type_name(BtfFormatter *f, const void *userdata) {
        LIBBPF_OPTS(btf_dump_emit_type_decl_opts, opts, .field_name = "");

        return sym_btf_dump__emit_type_decl(f->dump, *(const uint32_t *) userdata, &opts);
}

int btf_format_type_name(BtfFormatter *f, uint32_t type_id, char **ret) {
        const struct btf_type *t;
        int id;

        if (type_id == 0 || type_id >= sym_btf__type_cnt(f->btf))
                return -EINVAL;

        /* The value of a global data map is a section, which has no C declaration. */
        id = sym_btf__resolve_type(f->btf, type_id);
        t = id < 0 ? NULL : sym_btf__type_by_id(f->btf, id);
        if (t && btf_is_datasec(t))
                return asprintf(ret, "SEC(\"%s\")", sym_btf__name_by_offset(f->btf, t->name_off)) < 0 ? -ENOMEM : 0;

        return capture(f, write_type_name, &type_id, ret);
}

typedef struct DumpRequest {
        uint32_t type_id;
        const void *data;
        size_t size;
        bool scalar;
} DumpRequest;

static int write_type_data(BtfFormatter *f, const void *userdata) {
        const DumpRequest *req = userdata;
        /* Scalars bare; aggregates with their member names (and casts, which libbpf cannot leave out
         * alone). No emit_zeroes: libbpf 1.1 then drops the elements of arrays and the value of bools,
         * so members that are zero are left out, as the kernel's own BTF printer does by default. */
        LIBBPF_OPTS(btf_dump_type_data_opts, opts, .compact = true, .skip_names = req->scalar);
        int r;

        r = sym_btf_dump__dump_type_data(f->dump, req->type_id, req->data, req->size, &opts);
        return r < 0 ? r : 0;
}

/* libbpf's compact output is "(struct x){.a = (int)1,.b = (int)2,}": drop the
 * leading cast and the commas (and the semicolons of section variables)
 * before a closing bracket or the end, and put a blank after the others.
 * Quoted chars ('}' and the like) pass unchanged. */
static char *tidy_dump(const char *s) {
        char *out, quote = 0;
        size_t n = 0;

        assert(s);

        if (*s == '(') {
                int depth = 0;
                const char *q = s;

                for (; *q; q++) {
                        if (*q == '(')
                                depth++;
                        else if (*q == ')' && --depth == 0)
                                break;
                }
                if (*q == ')' && (q[1] == '{' || q[1] == '['))
                        s = q + 1;
        }

        out = malloc(strlen(s) * 2 + 1);
        if (!out)
                return NULL;

        for (; *s; s++) {
                if (quote) {
                        out[n++] = *s;
                        if (*s == '\\' && s[1])
                                out[n++] = *++s;
                        else if (*s == quote)
                                quote = 0;
                        continue;
                }
                if (*s == '\'' || *s == '"')
                        quote = *s;
                else if (*s == ',' || *s == ';') {
                        if (s[1] == '}' || s[1] == ']' || s[1] == '\0')
                                continue;
                        out[n++] = *s;
                        out[n++] = ' ';
                        continue;
                }
                out[n++] = *s;
        }
        out[n] = '\0';
        return out;
}

int btf_format_text(BtfFormatter *f, uint32_t type_id, const void *data, size_t size, char **ret) {
        _cleanup_free_ char *raw = NULL;
        const struct btf_type *t;
        DumpRequest req = {
                .type_id = type_id,
                .data = data,
                .size = size,
        };
        int r, id;

        if (!btf_formatter_fits(f, type_id, size))
                return -EINVAL;

        id = sym_btf__resolve_type(f->btf, type_id);
        if (id < 0)
                return id;
        t = sym_btf__type_by_id(f->btf, id);
        req.scalar = btf_is_int(t) || btf_is_any_enum(t) || btf_is_ptr(t) || btf_is_float(t);

        r = capture(f, write_type_data, &req, &raw);
        if (r < 0)
                return r;

        *ret = tidy_dump(raw);
        return *ret ? 0 : -ENOMEM;
}

/* ---- JSON ---- */

static void json_hex(FILE *out, const uint8_t *data, size_t size) {
        _cleanup_free_ char *hex = hex_encode(data, size);

        json_print_string(out, hex ?: "");
}

/* Bits [bit_offset, bit_offset + bits) of data, as the little-endian
 * layout of bitfields puts them; bits <= 64. */
static uint64_t read_bits(const uint8_t *data, size_t bit_offset, unsigned bits) {
        uint64_t v = 0;

        for (unsigned i = 0; i < bits; i++) {
                size_t b = bit_offset + i;

                if (data[b / 8] >> (b % 8) & 1)
                        v |= UINT64_C(1) << i;
        }
        return v;
}

static uint64_t read_uint(const uint8_t *data, size_t size) {
        union {
                uint8_t u8;
                uint16_t u16;
                uint32_t u32;
                uint64_t u64;
        } v = {};

        memcpy(&v, data, size);
        switch (size) {
        case 1: return v.u8;
        case 2: return v.u16;
        case 4: return v.u32;
        default: return v.u64;
        }
}

static void json_number(FILE *out, uint64_t v, unsigned bits, bool is_signed) {
        if (is_signed && bits > 0 && bits < 64 && (v >> (bits - 1) & 1))
                v |= ~UINT64_C(0) << bits; /* sign-extend */
        if (is_signed)
                fprintf(out, "%" PRId64, (int64_t) v);
        else
                fprintf(out, "%" PRIu64, bits < 64 ? v & ((UINT64_C(1) << bits) - 1) : v);
}

/* The kind flag says so; older compilers leave it unset but still store negative enumerators. */
static bool enum_is_signed(const struct btf_type *t) {
        if (btf_kflag(t))
                return true;
        if (btf_is_enum(t))
                for (uint16_t i = 0; i < btf_vlen(t); i++)
                        if (btf_enum(t)[i].val < 0)
                                return true;
        return false;
}

static bool int_is_signed(const struct btf *btf, uint32_t type_id) {
        const struct btf_type *t;
        int id = sym_btf__resolve_type(btf, type_id);

        if (id < 0)
                return false;
        t = sym_btf__type_by_id(btf, id);
        if (btf_is_int(t))
                return btf_int_encoding(t) & BTF_INT_SIGNED;
        if (btf_is_any_enum(t))
                return enum_is_signed(t);
        return false;
}

static bool is_char(const struct btf *btf, uint32_t type_id) {
        const struct btf_type *t;
        int id = sym_btf__resolve_type(btf, type_id);

        if (id < 0)
                return false;
        t = sym_btf__type_by_id(btf, id);
        return btf_is_int(t) && t->size == 1 &&
               ((btf_int_encoding(t) & BTF_INT_CHAR) || streq(sym_btf__name_by_offset(btf, t->name_off), "char"));
}

static void json_value(const struct btf *btf, FILE *out, uint32_t type_id, const uint8_t *data, size_t size,
                       unsigned depth);

/* A char array that holds text up to its first NUL is a string; else numbers. */
static bool json_char_array(FILE *out, const uint8_t *data, size_t n) {
        _cleanup_free_ char *s = NULL;
        size_t len = strnlen((const char *) data, n);

        for (size_t i = 0; i < len; i++)
                if (!isprint(data[i]))
                        return false;
        for (size_t i = len; i < n; i++)
                if (data[i] != 0)
                        return false; /* bytes after the string: show them all */

        s = strndup((const char *) data, len);
        if (!s)
                return false;
        json_print_string(out, s);
        return true;
}

static void json_array(const struct btf *btf, FILE *out, const struct btf_type *t, const uint8_t *data,
                       size_t size, unsigned depth) {
        const struct btf_array *a = btf_array(t);
        int64_t elem_size = sym_btf__resolve_size(btf, a->type);

        if (elem_size <= 0 || (uint64_t) elem_size * a->nelems > size) {
                json_hex(out, data, size);
                return;
        }
        if (elem_size == 1 && is_char(btf, a->type) && json_char_array(out, data, a->nelems))
                return;

        fputc('[', out);
        for (uint32_t i = 0; i < a->nelems; i++) {
                if (i > 0)
                        fputc(',', out);
                json_value(btf, out, a->type, data + i * elem_size, (size_t) elem_size, depth + 1);
        }
        fputc(']', out);
}

/* The members of a struct or union, without braces; those of anonymous
 * struct and union members are merged in, as C lets one name them. */
static void json_members(const struct btf *btf, FILE *out, const struct btf_type *t, const uint8_t *data,
                         size_t size, unsigned depth, bool *first) {
        const struct btf_member *m = btf_members(t);

        for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
                const char *name = sym_btf__name_by_offset(btf, m->name_off);
                uint32_t bit_offset = btf_member_bit_offset(t, i), bits = btf_member_bitfield_size(t, i);
                size_t offset = bit_offset / 8;

                if (isempty(name)) {
                        int id = sym_btf__resolve_type(btf, m->type);
                        const struct btf_type *inner = id < 0 ? NULL : sym_btf__type_by_id(btf, id);

                        if (inner && btf_is_composite(inner) && bits == 0 && bit_offset % 8 == 0 &&
                            offset <= size && depth < MAX_DEPTH) {
                                json_members(btf, out, inner, data + offset, size - offset, depth + 1, first);
                                continue;
                        }
                        name = "";
                }

                if (!*first)
                        fputc(',', out);
                *first = false;
                json_print_string(out, name);
                fputc(':', out);

                if (bits > 0) {
                        /* Bitfields are laid out from the low bits on little-endian hosts only. */
                        if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ || bits > 64 ||
                            (bit_offset + bits + 7) / 8 > size)
                                fputs("null", out);
                        else
                                json_number(out, read_bits(data, bit_offset, bits), bits,
                                            int_is_signed(btf, m->type));
                } else if (bit_offset % 8 != 0 || offset > size)
                        fputs("null", out);
                else
                        json_value(btf, out, m->type, data + offset, size - offset, depth + 1);
        }
}

/* Global data maps (.rodata, .bss, .data): an object of the variables. */
static void json_datasec(const struct btf *btf, FILE *out, const struct btf_type *t, const uint8_t *data,
                         size_t size, unsigned depth) {
        const struct btf_var_secinfo *v = btf_var_secinfos(t);
        bool first = true;

        fputc('{', out);
        for (uint16_t i = 0; i < btf_vlen(t); i++, v++) {
                const struct btf_type *var = sym_btf__type_by_id(btf, v->type);

                if (!var || !btf_is_var(var) || (uint64_t) v->offset + v->size > size)
                        continue;
                if (!first)
                        fputc(',', out);
                first = false;
                json_print_string(out, sym_btf__name_by_offset(btf, var->name_off));
                fputc(':', out);
                json_value(btf, out, var->type, data + v->offset, v->size, depth + 1);
        }
        fputc('}', out);
}

/* size: the bytes available at data (at least the type's size, else hex). */
static void json_value(const struct btf *btf, FILE *out, uint32_t type_id, const uint8_t *data, size_t size,
                       unsigned depth) {
        const struct btf_type *t;
        int64_t type_size;
        int id;

        id = sym_btf__resolve_type(btf, type_id);
        type_size = sym_btf__resolve_size(btf, type_id);
        t = id < 0 ? NULL : sym_btf__type_by_id(btf, id);
        if (!t || depth > MAX_DEPTH || type_size <= 0 || (uint64_t) type_size > size) {
                json_hex(out, data, size);
                return;
        }
        size = (size_t) type_size;

        if (btf_is_int(t)) {
                uint32_t encoding = btf_int_encoding(t), bits = btf_int_bits(t), offset = btf_int_offset(t);

                if (encoding & BTF_INT_BOOL)
                        fputs(read_uint(data, size) ? "true" : "false", out);
                else if (offset == 0 && bits == size * 8 && size <= 8 && (size & (size - 1)) == 0)
                        json_number(out, read_uint(data, size), bits, encoding & BTF_INT_SIGNED);
                else if (bits <= 64 && offset + bits <= size * 8 && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
                        json_number(out, read_bits(data, offset, bits), bits, encoding & BTF_INT_SIGNED);
                else
                        json_hex(out, data, size); /* __int128 and the like */
        } else if (btf_is_any_enum(t) || btf_is_ptr(t)) {
                if (size <= 8 && (size & (size - 1)) == 0)
                        json_number(out, read_uint(data, size), size * 8, btf_is_any_enum(t) && enum_is_signed(t));
                else
                        json_hex(out, data, size);
        } else if (btf_is_float(t) && (size == sizeof(float) || size == sizeof(double))) {
                double d;

                if (size == sizeof(float)) {
                        float x;

                        memcpy(&x, data, sizeof(x));
                        d = x;
                } else
                        memcpy(&d, data, sizeof(d));
                if (isfinite(d))
                        fprintf(out, "%.17g", d);
                else
                        fputs("null", out); /* JSON has no NaN or infinity */
        } else if (btf_is_array(t))
                json_array(btf, out, t, data, size, depth);
        else if (btf_is_composite(t)) {
                bool first = true;

                fputc('{', out);
                json_members(btf, out, t, data, size, depth, &first);
                fputc('}', out);
        } else if (btf_is_datasec(t))
                json_datasec(btf, out, t, data, size, depth);
        else
                json_hex(out, data, size);
}

void btf_format_json(BtfFormatter *f, FILE *out, uint32_t type_id, const void *data, size_t size) {
        json_value(f->btf, out, type_id, data, size, 0);
}
