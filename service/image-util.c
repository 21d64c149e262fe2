/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "image-util.h"

int image_error(char **err, int r, const char *fmt, ...) {
        va_list ap;

        if (!err || *err)
                return r;
        va_start(ap, fmt);
        if (vasprintf(err, fmt, ap) < 0)
                *err = NULL;
        va_end(ap);
        return r;
}

char *image_one_line(const char *s) {
        char *t = strdup(s ?: "");

        for (char *p = t; p && *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        return t;
}

void image_sha256_digest(const void *data, size_t size, char out[static IMAGE_DIGEST_LEN + 1]) {
        unsigned char md[32];
        unsigned int len = 0;

        EVP_Digest(data, size, md, &len, EVP_sha256(), NULL);
        memcpy(out, "sha256:", 7);
        for (unsigned i = 0; i < 32; i++)
                sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

int image_verify_digest(const void *data, size_t size, const char *digest, const char *what, char **err) {
        char actual[IMAGE_DIGEST_LEN + 1];

        image_sha256_digest(data, size, actual);
        if (!streq(actual, digest))
                return image_error(err, -EBADMSG, "%s does not match its digest: expected %s, got %s "
                                   "(the blob was tampered with or corrupted)", what, digest, actual);
        return 0;
}

int image_mkdir_p(const char *path, unsigned mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; ; s++) {
                if (*s == '/' || *s == '\0') {
                        char c = *s;
                        *s = '\0';
                        if (mkdir(p, mode) < 0 && errno != EEXIST)
                                return negative_errno();
                        *s = c;
                        if (c == '\0')
                                break;
                }
        }
        return 0;
}

int image_write_atomic(const char *path, const void *data, size_t size, unsigned mode) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        r = loop_write(fd, data, size);
        if (r < 0)
                goto fail;
        if (fchmod(fd, mode) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0) {
                r = negative_errno();
                goto fail;
        }
        return 0;
fail:
        (void) unlink(tmp);
        return r;
}
