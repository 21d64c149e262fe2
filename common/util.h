/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The basics every program of bpfd's uses (bpfd, bpfd-image, bpfctl, the benchmarks, the C checkers and
 * tests): cleanup attributes and ownership hand-over in systemd's style, string lists (NULL-terminated
 * arrays of malloc'ed strings), and whole-file I/O. */

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

/* Closes, keeping errno: a cleanup runs between a failing call and the code that reads its errno. */
static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                (void) close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hand over ownership: returns the value and resets the variable, so that its cleanup handler does
 * nothing any more. A taken descriptor becomes -EBADF (as in systemd): negative like -1, and an error
 * that says what it is if it ever reaches a system call. */
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

#define streq(a, b) (strcmp((a), (b)) == 0)

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

#define IN_SET2(x, a, b) ((x) == (a) || (x) == (b))

static inline bool isempty(const char *s) {
        return !s || !*s;
}

static inline const char *strempty(const char *s) {
        return s ?: "";
}

static inline const char *strempty_dash(const char *s) {
        return isempty(s) ? "-" : s;
}

static inline const char *yes_no(bool b) {
        return b ? "yes" : "no";
}

/* errno as a negative error; -EIO where a library failed without setting it. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

/* String lists. strv_free() returns nothing: the daemon passes it as a GDestroyNotify. */
void strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char * const *l);
char **strv_copy(char * const *l);
bool strv_contains(char * const *l, const char *s);
/* Appends s and takes ownership of it, also on failure (then -ENOMEM); s == NULL is -ENOMEM, so that
 * "strv_consume(&l, strdup(x))" needs no check of its own. */
int strv_consume(char ***l, char *s);
/* The same under the name the daemon's code uses. */
static inline int strv_push(char ***l, char *s) {
        return strv_consume(l, s);
}
/* Appends a copy of s. */
int strv_extend(char ***l, const char *s);
/* "a,b,c" into its items; an empty item ("a,,b", ",a", "a,") is -EINVAL: a typo, not a value. */
int strv_split_comma(const char *s, char ***ret);

uint64_t now_usec(int clock);
/* Writes all of data, retrying short writes and EINTR. */
int loop_write(int fd, const void *data, size_t size);
/* Write, fsync, rename, fsync the directory: after a crash the file is either the old or the new one. */
int write_file_atomic(const char *path, const char *contents, size_t size);
/* The whole file (not NUL-terminated); -EFBIG past max_size bytes. */
int read_full_fd(int fd, size_t max_size, char **ret, size_t *ret_size);
int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size);
/* Removes everything below path (not path itself); a missing path is no error. */
int rm_rf_children(const char *path);
