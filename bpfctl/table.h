/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Column-aligned text tables with a header line, as "list" prints them. */

#include <stdio.h>

typedef struct Table Table;

/* Headers as arguments, terminated by NULL. */
Table *table_new(const char *header, ...) __attribute__((sentinel));
Table *table_free(Table *t);
static inline void table_freep(Table **t) {
        table_free(*t);
}
#define _cleanup_table_ __attribute__((cleanup(table_freep)))

/* Appends one cell; rows fill from left to right, a new row starts when the
 * previous one is full. NULL or "" show as "-". */
int table_add_cell(Table *t, const char *text);
/* Same, taking ownership of a malloc'ed string (NULL means out of memory). */
int table_add_cell_take(Table *t, char *text);

/* Prints all rows; the last column is not padded, so long text there wraps
 * naturally instead of pushing every line wide. */
int table_print(Table *t, FILE *f);
/* Same, each line starting with indent spaces (tables nested under a heading). */
int table_print_indented(Table *t, FILE *f, size_t indent);
