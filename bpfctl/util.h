/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small helpers shared by all of bpfctl: cleanup attributes, string lists,
 * number parsing and logging in the "bpfctl: message" format. */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_strv_free_ _cleanup_(strv_freep)
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Hand over ownership: returns the value and resets the variable, so the
 * cleanup handler of the variable does nothing any more. */
#define TAKE_PTR(p)                          \
        ({                                   \
                __typeof__(p) _p_ = (p);     \
                (p) = NULL;                  \
                _p_;                         \
        })
#define TAKE_FD(fd)                          \
        ({                                   \
                int _fd_ = (fd);             \
                (fd) = -EBADF;               \
                _fd_;                        \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}

static inline void closep(int *fd) {
        if (*fd >= 0)
                (void) close(*fd);
}

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

static inline bool isempty(const char *s) {
        return !s || !*s;
}

static inline const char *strempty_dash(const char *s) {
        return isempty(s) ? "-" : s;
}

static inline const char *yes_no(bool b) {
        return b ? "yes" : "no";
}

/* String lists: NULL-terminated arrays of malloc'ed strings. */
char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
size_t strv_length(char * const *l);
bool strv_contains(char * const *l, const char *s);
int strv_extend(char ***l, const char *s);
int strv_consume(char ***l, char *s);
int strv_split_comma(const char *s, char ***ret);

/* Parsers return 0 or -EINVAL/-ERANGE and leave *ret untouched on error. */
int parse_u64(const char *s, uint64_t *ret);
int parse_u32(const char *s, uint32_t *ret);
int parse_i64(const char *s, int64_t *ret);
int parse_i32(const char *s, int32_t *ret);
int parse_id(const char *s, uint32_t *ret);

/* "/abs" stays as it is, "rel" becomes "$CWD/rel" (no symlink resolution). */
int path_make_absolute_cwd(const char *path, char **ret);

/* The numeric kernel id in the last component of a bpfd object path. */
int object_path_to_id(const char *path, uint32_t *ret);

/* Lowercase hex of a byte buffer. */
char *hex_encode(const void *data, size_t size);

/* *ret: the user name of uid, or NULL if the user database has none. */
int lookup_user_name(uid_t uid, char **ret);
/* The user name of uid if it has one, its number otherwise. NULL on OOM. */
char *uid_to_name(uid_t uid);

#define PROGRAM_NAME "bpfctl"

/* "bpfctl: MESSAGE" on stderr. */
void log_error(const char *format, ...) _printf_(1, 2);
/* Logs and returns -ENOMEM, for "return log_oom();". */
int log_oom(void);
