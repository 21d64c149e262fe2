/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Text for the bus. D-Bus strings must be valid UTF-8, and sd-bus refuses to send a message that carries
 * anything else: an error message quoting a caller's string cut in the middle of a character, or a
 * library's message with raw bytes from a file, would leave the caller without any reply. */

#include <stdbool.h>
#include <stddef.h>

/* Whether s is valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF). */
bool utf8_is_valid(const char *s);

/* The length in bytes of the longest prefix of s that is at most max bytes long and ends on a character
 * boundary. Bytes that do not start a valid character count as one character each. */
size_t utf8_prefix_len(const char *s, size_t max);

/* For printf: "%.*s" with UTF8_CUT(s, n) prints at most n bytes of s, never half a character. */
#define UTF8_CUT(s, n) (int) utf8_prefix_len((s), (n)), (s)

/* A copy of s with every byte that is not part of a valid UTF-8 character written as \xNN (and a
 * backslash as it is). NULL on allocation failure. */
char *utf8_escape_invalid(const char *s);
