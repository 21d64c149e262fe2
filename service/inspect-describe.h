/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* What bpfd-inspect tells bpfd about an object (the text service/engine/inspect.c reads): the object in memory is
 * opened with libbpf (nothing is loaded) and described as lines of tab-separated fields,
 *     size N
 *     program NAME SECTION PROG_TYPE EXPECTED_ATTACH_TYPE PROG_TYPE_NAME
 *     end
 * or "error CODE MESSAGE". Bytes below 0x21, '%' and 0x7f of a field are written as %XX. Kept apart from
 * bpfd-inspect's main() so that the fuzzer runs exactly this on its inputs. */

/* libbpf's messages are kept (the last one explains a refusal), never printed. */
void inspect_libbpf_messages(void);
/* Describes the object; 0, or -EBADMSG with an error text. */
int inspect_describe(const void *data, size_t size, const char *object_name);
/* Sets the text to one error line. */
void inspect_text_error(const char *code, const char *message);
/* Sets the text to the answer of --symbol: "offset N". */
void inspect_text_offset(uint64_t offset);
/* The text so far (NUL-terminated). */
const char *inspect_text(void);
