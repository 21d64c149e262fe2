/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Keys and values of maps formatted by their BTF types, as bpftool does:
 * C-like text through libbpf's btf_dump, and JSON (numbers, objects for
 * structs, arrays, strings for char arrays; hex strings for the rest). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct BtfFormatter BtfFormatter;

/* Parses raw BTF (MapInfo's "btf"); -EINVAL if it is not BTF. */
int btf_formatter_new(const void *raw, size_t size, BtfFormatter **ret);
BtfFormatter *btf_formatter_free(BtfFormatter *f);
static inline void btf_formatter_freep(BtfFormatter **f) {
        btf_formatter_free(*f);
}
#define _cleanup_btf_formatter_ __attribute__((cleanup(btf_formatter_freep)))

/* Whether type_id is a type of exactly size bytes, i.e. can format such data. */
bool btf_formatter_fits(BtfFormatter *f, uint32_t type_id, size_t size);

/* The C name of type_id, e.g. "__u64" or "struct event". */
int btf_format_type_name(BtfFormatter *f, uint32_t type_id, char **ret);

/* One line of text: numbers bare ("77"), aggregates as libbpf dumps them
 * without the leading cast ("{.pid = (__u32)1, .comm = ['b', 'a']}"). */
int btf_format_text(BtfFormatter *f, uint32_t type_id, const void *data, size_t size, char **ret);

/* A compact JSON value; call only when btf_formatter_fits(). */
void btf_format_json(BtfFormatter *f, FILE *out, uint32_t type_id, const void *data, size_t size);
