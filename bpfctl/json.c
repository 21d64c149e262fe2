/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <math.h>

#include "json.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

void json_print_string(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                switch (*p) {
                case '"':  fputs("\\\"", f); break;
                case '\\': fputs("\\\\", f); break;
                case '\b': fputs("\\b", f); break;
                case '\f': fputs("\\f", f); break;
                case '\n': fputs("\\n", f); break;
                case '\r': fputs("\\r", f); break;
                case '\t': fputs("\\t", f); break;
                default:
                        /* D-Bus strings are valid UTF-8, so only control characters need escaping (C1 ones,
                         * U+0080..U+009F, too: bpfctl's streams would print them as '?'). */
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", *p);
                        else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
                                fprintf(f, "\\u%04x", *++p);
                        else
                                fputc(*p, f);
                }
        fputc('"', f);
}

static void json_print_basic(FILE *f, const BusValue *v) {
        switch (v->type) {
        case 'b':
                fputs(v->boolean ? "true" : "false", f);
                break;
        case 'y':
        case 'q':
        case 'u':
        case 't':
                fprintf(f, "%" PRIu64, v->uinteger);
                break;
        case 'n':
        case 'i':
        case 'x':
        case 'h':
                fprintf(f, "%" PRId64, v->integer);
                break;
        case 'd':
                if (isfinite(v->floating))
                        fprintf(f, "%.17g", v->floating);
                else
                        fputs("null", f); /* JSON has no NaN or infinity */
                break;
        default: /* s o g */
                json_print_string(f, v->string);
        }
}

/* JSON object keys must be strings: numbers and other basic keys are quoted. */
static void json_print_key(FILE *f, const BusValue *key) {
        if (bus_value_get_string(key))
                json_print_string(f, key->string);
        else {
                fputc('"', f);
                json_print_basic(f, key);
                fputc('"', f);
        }
}

static void json_newline(FILE *f, int indent) {
        if (indent < 0)
                return;
        fputc('\n', f);
        for (int i = 0; i < indent; i++)
                fputs("  ", f);
}

/* indent < 0 means compact. */
static void json_print_value(FILE *f, const BusValue *v, int indent) {
        int inner = indent < 0 ? -1 : indent + 1;
        size_t n = bus_value_count(v);

        if (bus_value_is_basic(v)) {
                json_print_basic(f, v);
                return;
        }

        if (bus_value_is_bytes(v)) {
                _cleanup_free_ char *hex = hex_encode(v->bytes.data, v->bytes.size);

                json_print_string(f, hex ? hex : "");
                return;
        }

        if (bus_value_is_dict(v)) {
                if (n == 0) {
                        fputs("{}", f);
                        return;
                }
                fputc('{', f);
                for (size_t i = 0; i < n; i++) {
                        const BusValue *entry = bus_value_item(v, i);

                        if (i > 0)
                                fputc(',', f);
                        json_newline(f, inner);
                        json_print_key(f, bus_value_item(entry, 0));
                        fputs(indent < 0 ? ":" : ": ", f);
                        json_print_value(f, bus_value_item(entry, 1), inner);
                }
                json_newline(f, indent);
                fputc('}', f);
                return;
        }

        /* Other arrays, structs, and dict entries outside a dict: JSON arrays. */
        if (n == 0) {
                fputs("[]", f);
                return;
        }
        fputc('[', f);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        fputc(',', f);
                json_newline(f, inner);
                json_print_value(f, bus_value_item(v, i), inner);
        }
        json_newline(f, indent);
        fputc(']', f);
}

void json_print(FILE *f, const BusValue *v) {
        json_print_value(f, v, 0);
        fputc('\n', f);
}

void json_print_compact(FILE *f, const BusValue *v) {
        json_print_value(f, v, -1);
}
