/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "terminal-safe.h"

typedef struct SafeStream {
        int fd;
        bool held_c2;    /* a 0xC2 not yet written: a C1 control (0xC2 0x80..0x9F) may follow in the next write */
} SafeStream;

static bool write_all(int fd, const char *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, buf, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return false;
                buf += k;
                n -= (size_t) k;
        }
        return true;
}

static ssize_t safe_write(void *cookie, const char *buf, size_t size) {
        SafeStream *s = cookie;
        char out[4096 + 2];
        size_t n = 0;

        for (size_t i = 0; i < size; i++) {
                unsigned char c = (unsigned char) buf[i];

                if (s->held_c2) {
                        s->held_c2 = false;
                        if (c >= 0x80 && c <= 0x9f) {
                                out[n++] = '?';   /* U+0080..U+009F, both bytes as one '?' */
                                continue;
                        }
                        out[n++] = (char) 0xc2;
                }
                if (c == '\n' || c == '\t')
                        out[n++] = (char) c;
                else if (c < 0x20 || c == 0x7f)
                        out[n++] = '?';
                else if (c == 0xc2)
                        s->held_c2 = true;
                else
                        out[n++] = (char) c;
                if (n >= sizeof out - 2) {
                        if (!write_all(s->fd, out, n))
                                return -1;
                        n = 0;
                }
        }
        if (n > 0 && !write_all(s->fd, out, n))
                return -1;
        return (ssize_t) size;
}

static int safe_close(void *cookie) {
        SafeStream *s = cookie;

        if (s->held_c2)
                (void) write_all(s->fd, "\xc2", 1);
        s->held_c2 = false;
        return 0;
}

/* The two streams live as long as the process (exit() flushes them but never closes them): static, so nothing
 * of them is left to free. */
static SafeStream safe_streams[2];

static FILE *safe_stream(int fd, int mode) {
        static const cookie_io_functions_t io = { .write = safe_write, .close = safe_close };
        SafeStream *s = &safe_streams[fd == STDOUT_FILENO ? 0 : 1];
        FILE *f;

        *s = (SafeStream) { .fd = fd };
        f = fopencookie(s, "w", io);
        if (!f)
                return NULL;
        setvbuf(f, NULL, mode, 0);
        return f;
}

int terminal_safe_streams(void) {
        FILE *out, *err;

        fflush(stdout);
        fflush(stderr);
        out = safe_stream(STDOUT_FILENO, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF);
        err = safe_stream(STDERR_FILENO, _IONBF);
        if (!out || !err) {
                if (out)
                        fclose(out);
                if (err)
                        fclose(err);
                return -ENOMEM;
        }
        stdout = out;
        stderr = err;
        return 0;
}
