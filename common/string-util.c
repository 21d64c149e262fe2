/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <limits.h>
#include <pwd.h>

#include "string-util.h"
#include "util.h"

/* Decimal, or hexadecimal with a 0x prefix; never octal, which would turn
 * "010" into 8 to everyone's surprise. No sign, no whitespace. */
static int parse_unsigned(const char *s, unsigned long long max, unsigned long long *ret) {
        unsigned long long v;
        int base = 10;
        char *end;

        assert(ret);

        if (isempty(s) || !isxdigit((unsigned char) s[0]))
                return -EINVAL;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                base = 16;
                if (!isxdigit((unsigned char) s[2]))
                        return -EINVAL;
        }

        errno = 0;
        v = strtoull(s, &end, base);
        if (*end != '\0')
                return -EINVAL;
        if (errno == ERANGE || v > max)
                return -ERANGE;

        *ret = v;
        return 0;
}

int parse_u64(const char *s, uint64_t *ret) {
        unsigned long long v;
        int r;

        r = parse_unsigned(s, UINT64_MAX, &v);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

int parse_u32(const char *s, uint32_t *ret) {
        unsigned long long v;
        int r;

        r = parse_unsigned(s, UINT32_MAX, &v);
        if (r < 0)
                return r;
        *ret = (uint32_t) v;
        return 0;
}

int parse_i64(const char *s, int64_t *ret) {
        unsigned long long v;
        bool negative;
        int r;

        if (!s)
                return -EINVAL;
        negative = s[0] == '-';

        r = parse_unsigned(s + negative, negative ? (unsigned long long) INT64_MAX + 1 : INT64_MAX, &v);
        if (r < 0)
                return r;

        *ret = negative ? (int64_t) (0 - v) : (int64_t) v;
        return 0;
}

int parse_i32(const char *s, int32_t *ret) {
        int64_t v;
        int r;

        r = parse_i64(s, &v);
        if (r < 0)
                return r;
        if (v < INT32_MIN || v > INT32_MAX)
                return -ERANGE;
        *ret = (int32_t) v;
        return 0;
}

/* Kernel ids are plain decimal numbers. */
int parse_id(const char *s, uint32_t *ret) {
        if (isempty(s) || strspn(s, "0123456789") != strlen(s))
                return -EINVAL;
        return parse_u32(s, ret);
}

/* getcwd() into a buffer that grows; POSIX leaves getcwd(NULL, 0) unspecified. */
static char *current_dir(void) {
        for (size_t size = 256; size <= 65536; size *= 2) {
                _cleanup_free_ char *buf = malloc(size);

                if (!buf)
                        return NULL;
                if (getcwd(buf, size))
                        return TAKE_PTR(buf);
                if (errno != ERANGE)
                        return NULL;
        }
        errno = ENAMETOOLONG;
        return NULL;
}

int path_make_absolute_cwd(const char *path, char **ret) {
        _cleanup_free_ char *cwd = NULL;
        char *p;

        assert(ret);

        if (isempty(path))
                return -EINVAL;

        if (path[0] == '/') {
                p = strdup(path);
                if (!p)
                        return -ENOMEM;
                *ret = p;
                return 0;
        }

        cwd = current_dir();
        if (!cwd)
                return negative_errno();

        /* "./x" and "x" name the same file; keep "/cwd/./x" out of what the daemon records. */
        while (path[0] == '.' && path[1] == '/') {
                path += 2;
                path += strspn(path, "/");
        }

        if (streq(path, "."))
                path = "";

        if (asprintf(&p, "%s%s%s", cwd,
                     (isempty(path) || streq(cwd, "/")) ? "" : "/",
                     path) < 0)
                return -ENOMEM;

        *ret = p;
        return 0;
}

char *hex_encode(const void *data, size_t size) {
        static const char digits[] = "0123456789abcdef";
        const uint8_t *b = data;
        char *s;

        assert(data || size == 0);

        s = malloc(size * 2 + 1);
        if (!s)
                return NULL;

        for (size_t i = 0; i < size; i++) {
                s[i * 2] = digits[b[i] >> 4];
                s[i * 2 + 1] = digits[b[i] & 0xf];
        }
        s[size * 2] = '\0';
        return s;
}

int lookup_user_name(uid_t uid, char **ret) {
        struct passwd *pw;
        char *name = NULL;

        pw = getpwuid(uid);
        if (pw && !isempty(pw->pw_name)) {
                name = strdup(pw->pw_name);
                if (!name)
                        return -ENOMEM;
        }

        *ret = name;
        return 0;
}

char *uid_to_name(uid_t uid) {
        char *s;

        if (lookup_user_name(uid, &s) < 0)
                return NULL;
        if (s)
                return s;
        if (asprintf(&s, "%u", (unsigned) uid) < 0)
                return NULL;
        return s;
}
