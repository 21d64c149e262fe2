/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* JSON rendering of D-Bus values: dictionaries become objects, other arrays
 * and structs arrays, "ay" a lowercase hex string, object paths strings,
 * 64-bit integers exact numbers. */

#include <stdio.h>

#include "bus-value.h"

/* Pretty-printed (two-space indent), followed by a newline. */
void json_print(FILE *f, const BusValue *v);

/* On one line, no newline; for values nested in human-readable output. */
void json_print_compact(FILE *f, const BusValue *v);

/* A JSON string literal of s (valid UTF-8), quotes included. */
void json_print_string(FILE *f, const char *s);
