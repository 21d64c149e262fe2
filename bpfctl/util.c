/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <limits.h>
#include <pwd.h>

#include <systemd/sd-bus.h>

#include "util.h"

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}

size_t strv_length(char * const *l) {
        size_t n = 0;

        if (l)
                while (l[n])
                        n++;
        return n;
}

bool strv_contains(char * const *l, const char *s) {
        if (l)
                for (char * const *i = l; *i; i++)
                        if (streq(*i, s))
                                return true;
        return false;
}

/* Takes ownership of s, also on failure. */
int strv_consume(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **c;

        if (!s)
                return -ENOMEM;

        c = reallocarray(*l, n + 2, sizeof(char *));
        if (!c) {
                free(s);
                return -ENOMEM;
        }
        c[n] = s;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *s) {
        return strv_consume(l, strdup(s));
}

int strv_split_comma(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *p = s;
        int r;

        for (;;) {
                size_t n = strcspn(p, ",");

                if (n == 0)
                        return -EINVAL; /* "a,,b", ",a" and "a," are typos, not empty items */

                r = strv_consume(&l, strndup(p, n));
                if (r < 0)
                        return r;

                if (p[n] == '\0')
                        break;
                p += n + 1;
        }

        *ret = TAKE_PTR(l);
        return 0;
}

/* Decimal, or hexadecimal with a 0x prefix; never octal, which would turn
 * "010" into 8 to everyone's surprise. No sign, no whitespace. */
static int parse_unsigned(const char *s, unsigned long long max, unsigned long long *ret) {
        unsigned long long v;
        int base = 10;
        char *end;

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

int path_make_absolute_cwd(const char *path, char **ret) {
        _cleanup_free_ char *cwd = NULL;
        char *p;

        if (isempty(path))
                return -EINVAL;

        if (path[0] == '/') {
                p = strdup(path);
                if (!p)
                        return -ENOMEM;
                *ret = p;
                return 0;
        }

        cwd = getcwd(NULL, 0);
        if (!cwd)
                return -errno;

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

/* The daemon may or may not escape the id with sd_bus_path_encode() (which
 * turns a leading digit into "_3x"); sd_bus_path_decode() undoes either. */
int object_path_to_id(const char *path, uint32_t *ret) {
        _cleanup_free_ char *prefix = NULL, *label = NULL;
        const char *slash;
        int r;

        if (!path)
                return -EINVAL;

        slash = strrchr(path, '/');
        if (!slash || slash == path)
                return -EINVAL;

        prefix = strndup(path, slash - path);
        if (!prefix)
                return -ENOMEM;

        r = sd_bus_path_decode(path, prefix, &label);
        if (r < 0)
                return r;
        if (r == 0)
                return -EINVAL;

        return parse_id(label, ret);
}

char *hex_encode(const void *data, size_t size) {
        static const char digits[] = "0123456789abcdef";
        const uint8_t *b = data;
        char *s;

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

void log_error(const char *format, ...) {
        va_list ap;

        fflush(stdout); /* keep the order of what a person sees when both go to one terminal */

        fputs(PROGRAM_NAME ": ", stderr);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int log_oom(void) {
        log_error("out of memory");
        return -ENOMEM;
}
