/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "table.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

struct Table {
        size_t n_columns;
        char **cells; /* headers first, then row after row */
        size_t n_cells;
};

Table *table_new(const char *header, ...) {
        Table *t;
        va_list ap;

        t = calloc(1, sizeof(Table));
        if (!t)
                return NULL;

        va_start(ap, header);
        for (const char *h = header; h; h = va_arg(ap, const char *)) {
                if (table_add_cell(t, h) < 0) {
                        va_end(ap);
                        return table_free(t);
                }
                t->n_columns++;
        }
        va_end(ap);

        return t;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
        return NULL;
}

int table_add_cell_take(Table *t, char *text) {
        char **cells;

        assert(t);

        if (!text)
                return -ENOMEM;
        if (isempty(text)) {
                free(text);
                text = strdup("-");
                if (!text)
                        return -ENOMEM;
        }

        cells = reallocarray(t->cells, t->n_cells + 1, sizeof(char *));
        if (!cells) {
                free(text);
                return -ENOMEM;
        }
        cells[t->n_cells++] = text;
        t->cells = cells;
        return 0;
}

int table_add_cell(Table *t, const char *text) {
        return table_add_cell_take(t, strdup(text ?: ""));
}

/* Width on a terminal: one column per UTF-8 character; bpf names, user
 * names and attach points hold no double-width characters in practice. */
static size_t text_width(const char *s) {
        size_t w = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xc0) != 0x80)
                        w++;
        return w;
}

int table_print_indented(Table *t, FILE *f, size_t indent) {
        _cleanup_free_ size_t *widths = NULL;

        assert(t);
        assert(f);

        if (t->n_columns == 0 || t->n_cells % t->n_columns != 0)
                return -EINVAL; /* a row was left half-filled: a bug in the caller */

        widths = calloc(t->n_columns, sizeof(size_t));
        if (!widths)
                return -ENOMEM;

        for (size_t i = 0; i < t->n_cells; i++) {
                size_t w = text_width(t->cells[i]), *c = &widths[i % t->n_columns];

                if (w > *c)
                        *c = w;
        }

        for (size_t i = 0; i < t->n_cells; i++) {
                size_t column = i % t->n_columns;

                if (column == 0 && indent > 0)
                        fprintf(f, "%*s", (int) indent, "");
                fputs(t->cells[i], f);
                if (column == t->n_columns - 1)
                        fputc('\n', f);
                else
                        fprintf(f, "%*s", (int) (widths[column] - text_width(t->cells[i]) + 2), "");
        }

        return 0;
}

int table_print(Table *t, FILE *f) {
        return table_print_indented(t, f, 0);
}
