/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>

#include "bytes-argument.h"
#include "load-options.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

#define BLANKS " \t\n"

static int hex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char) tolower((unsigned char) c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* Blank-separated bytes: each token one or two hex digits, with or without 0x. */
static int parse_separated_bytes(const char *s, uint8_t **ret_data, size_t *ret_size) {
        _cleanup_free_ uint8_t *data = NULL;
        size_t n = 0;

        data = malloc(strlen(s) / 2 + 1); /* at least one blank or digit per byte and a half */
        if (!data)
                return -ENOMEM;

        for (;;) {
                int hi, lo;

                s += strspn(s, BLANKS);
                if (*s == '\0')
                        break;
                if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                        s += 2;

                hi = hex_digit(s[0]);
                if (hi < 0)
                        return -EINVAL;
                lo = hex_digit(s[1]);
                if (lo < 0) {
                        data[n++] = (uint8_t) hi; /* "a" is 0a, as bpftool reads it */
                        s += 1;
                } else {
                        data[n++] = (uint8_t) (hi << 4 | lo);
                        s += 2;
                }
                if (*s != '\0' && !strchr(BLANKS, *s))
                        return -EINVAL; /* "0a0b 0c": pick one notation */
        }

        if (n == 0)
                return -EINVAL;

        *ret_data = TAKE_PTR(data);
        *ret_size = n;
        return 0;
}

int parse_bytes_argument(const char *s, uint8_t **ret_data, size_t *ret_size) {
        _cleanup_free_ char *t = NULL;
        size_t n;

        /* Blanks around the argument (from shell quoting) don't count. */
        s += strspn(s, BLANKS);
        n = strlen(s);
        while (n > 0 && strchr(BLANKS, s[n - 1]))
                n--;
        if (n == 0)
                return -EINVAL;
        t = strndup(s, n);
        if (!t)
                return -ENOMEM;

        if (t[strcspn(t, BLANKS)] != '\0')
                return parse_separated_bytes(t, ret_data, ret_size);

        /* Hex in one piece and TYPE:NUMBER are the syntax of load --global. */
        return parse_global_data_value(t, ret_data, ret_size);
}

char *format_hex_bytes(const void *data, size_t size) {
        static const char digits[] = "0123456789abcdef";
        const uint8_t *b = data;
        size_t n = 0;
        char *s;

        assert(data || size == 0);

        if (size > (SIZE_MAX - 1) / 3)
                return NULL;
        s = malloc(size * 3 + 1);
        if (!s)
                return NULL;

        for (size_t i = 0; i < size; i++) {
                if (i > 0)
                        s[n++] = ' ';
                s[n++] = digits[b[i] >> 4];
                s[n++] = digits[b[i] & 0xf];
        }
        assert(n <= size * 3);
        s[n] = '\0';
        return s;
}
