/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The description bpfd-inspect sends of an object (see inspect-describe.h). Runs in the unprivileged
 * helper, and in fuzz/fuzz-elf-inspect. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "inspect-describe.h"

static char out[1 << 20];
static size_t out_len;
static char libbpf_last[512];

static void put_field(const char *s) {
        for (; *s && out_len + 4 < sizeof out; s++) {
                unsigned char c = (unsigned char) *s;
                if (c <= 0x20 || c == '%' || c == 0x7f)
                        out_len += (size_t) snprintf(out + out_len, 4, "%%%02X", c);
                else
                        out[out_len++] = (char) c;
        }
        out[out_len] = 0;
}

static void put(const char *s) {
        size_t n = strlen(s);
        if (out_len + n < sizeof out) {
                memcpy(out + out_len, s, n);
                out_len += n;
                out[out_len] = 0;
        }
}

static void put_uint(unsigned long long v) {
        char b[32];
        snprintf(b, sizeof b, "%llu", v);
        put(b);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap) {
        char line[512];

        if (level == LIBBPF_DEBUG)
                return 0;
        vsnprintf(line, sizeof line, fmt, ap);
        line[strcspn(line, "\n")] = 0;
        if (*line)
                memcpy(libbpf_last, line, sizeof libbpf_last);
        return 0;
}

void inspect_libbpf_messages(void) {
        libbpf_set_print(libbpf_print);
}

const char *inspect_text(void) {
        return out;
}

void inspect_text_error(const char *code, const char *message) {
        out_len = 0;
        out[0] = 0;
        put("error\t");
        put(code);
        put("\t");
        put_field(message);
        put("\n");
}

void inspect_text_offset(uint64_t offset) {
        out_len = 0;
        out[0] = 0;
        put("offset\t");
        put_uint(offset);
        put("\n");
}

int inspect_describe(const void *data, size_t size, const char *object_name) {
        LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = object_name);
        struct bpf_object *obj;
        struct bpf_program *prog;
        char msg[sizeof libbpf_last + 64];

        out_len = 0;
        out[0] = 0;
        libbpf_last[0] = 0;
        if (size < 4 || memcmp(data, "\177ELF", 4) != 0) {
                inspect_text_error("object", "The file is not an ELF object (it does not start with the ELF "
                                             "magic): a BPF object is what clang -target bpf -c makes of a "
                                             ".bpf.c file.");
                return -EBADMSG;
        }
        obj = bpf_object__open_mem(data, size, &opts);
        if (!obj) {
                snprintf(msg, sizeof msg, "Not a usable BPF object: %s", libbpf_last);
                inspect_text_error("object", msg);
                return -EBADMSG;
        }
        put("size\t");
        put_uint(size);
        put("\n");
        bpf_object__for_each_program(prog, obj) {
                const char *type = libbpf_bpf_prog_type_str(bpf_program__type(prog));
                put("program\t");
                put_field(bpf_program__name(prog));
                put("\t");
                put_field(bpf_program__section_name(prog));
                put("\t");
                put_uint(bpf_program__type(prog));
                put("\t");
                put_uint(bpf_program__expected_attach_type(prog));
                put("\t");
                put_field(type ?: "unknown");
                put("\n");
        }
        put("end\n");
        bpf_object__close(obj);
        return 0;
}
