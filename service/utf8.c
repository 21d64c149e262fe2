/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* The length of the valid character at s (1-4), or 0 if s does not start one. */
static size_t char_len(const unsigned char *s) {
        uint32_t c;
        size_t n;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2, c = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                n = 3, c = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                n = 4, c = s[0] & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
                        return 0;
                c = (c << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) || (n == 4 && (c < 0x10000 || c > 0x10ffff)))
                return 0;
        return n;
}

bool utf8_is_valid(const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        assert(s);

        while (*p) {
                size_t n = char_len(p);
                if (n == 0)
                        return false;
                p += n;
        }
        return true;
}

size_t utf8_prefix_len(const char *s, size_t max) {
        const unsigned char *p = (const unsigned char *) s;
        size_t len = 0;

        assert(s);

        while (p[len]) {
                size_t n = char_len(p + len) ?: 1;
                if (len + n > max)
                        break;
                len += n;
        }
        assert(len <= max);
        return len;
}

char *utf8_escape_invalid(const char *s) {
        const unsigned char *p;
        size_t size, o = 0;
        char *out;

        assert(s);

        p = (const unsigned char *) s;
        if (strlen(s) > (SIZE_MAX - 1) / 4)
                return NULL;
        size = strlen(s) * 4 + 1; /* "\xNN" for every byte at the most */
        out = malloc(size);
        if (!out)
                return NULL;
        while (*p) {
                size_t n = char_len(p);
                if (n == 0) {
                        o += (size_t) snprintf(out + o, size - o, "\\x%02x", *p);
                        p++;
                        continue;
                }
                memcpy(out + o, p, n);
                o += n;
                p += n;
        }
        assert(o < size);
        out[o] = '\0';
        return out;
}
