/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Keys and values of maps on the command line and on the screen: hex bytes
 * or typed numbers in, bpftool-style "0a 0b 0c 0d" out. */

#include <stddef.h>
#include <stdint.h>

/* Parses "0a0b0c0d" (optionally "0x..."), bytes separated by blanks as
 * bpftool takes them ("0a 0b 0c 0d", each optionally "0x0a"), or TYPE:NUMBER
 * with TYPE one of u8 u16 u32 u64 i8 i16 i32 i64, in host byte order.
 * -EINVAL if it is none of these, -ERANGE if NUMBER does not fit TYPE. */
int parse_bytes_argument(const char *s, uint8_t **ret_data, size_t *ret_size);

/* "0a 0b 0c 0d"; "" for no bytes. NULL only on OOM. */
char *format_hex_bytes(const void *data, size_t size);
