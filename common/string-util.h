/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Parsing and formatting of numbers, paths and user names, as bpfctl reads them from a command line and
 * prints them. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Decimal, or hexadecimal with a 0x prefix; never octal ("010" is ten). No sign (but for the signed
 * ones' '-'), no whitespace. Return 0 or -EINVAL/-ERANGE and leave *ret untouched on error. */
int parse_u64(const char *s, uint64_t *ret);
int parse_u32(const char *s, uint32_t *ret);
int parse_i64(const char *s, int64_t *ret);
int parse_i32(const char *s, int32_t *ret);
/* Kernel ids: plain decimal numbers only. */
int parse_id(const char *s, uint32_t *ret);

/* "/abs" stays as it is, "rel" becomes "$CWD/rel" (no symlink resolution; leading "./" dropped). */
int path_make_absolute_cwd(const char *path, char **ret);

/* Lowercase hex of a byte buffer; NULL on OOM. */
char *hex_encode(const void *data, size_t size);

/* *ret: the user name of uid, or NULL if the user database has none. */
int lookup_user_name(uid_t uid, char **ret);
/* The user name of uid if it has one, its number otherwise. NULL on OOM. */
char *uid_to_name(uid_t uid);
