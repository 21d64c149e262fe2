/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers shared by the image modules (image.c, image-registry.c, image-cosign.c, image-tar.c). */

#include <stdbool.h>
#include <stddef.h>

#include "image-ref.h"
#include "util.h"

#define IMAGE_SHA256_HEX_LEN 64
#define IMAGE_DIGEST_LEN (7 + IMAGE_SHA256_HEX_LEN)   /* "sha256:" + hex */

/* Sets *err (if err is not NULL and no message was set yet: the innermost failure explains best) to
 * the formatted message and returns r, so failures read "return image_error(err, -ENOENT, ...)". */
int image_error(char **err, int r, const char *fmt, ...) _printf_(3, 4);


/* A copy of S (NULL: "") with every control character, a newline above all, replaced by '?': a value of
 * the puller's answer, whose lines are "key value" and whose first line with a key counts, stays on its one
 * line whatever a registry put in it (label names, layer file names, quoted in errors). NULL on OOM. */
char *image_one_line(const char *s);

/* out must hold IMAGE_DIGEST_LEN + 1 bytes: "sha256:<hex>" of data. */
void image_sha256_digest(const void *data, size_t size, char out[static IMAGE_DIGEST_LEN + 1]);

/* -EBADMSG (with a message naming what) unless data hashes to digest. */
int image_verify_digest(const void *data, size_t size, const char *digest, const char *what, char **err);

int image_mkdir_p(const char *path, unsigned mode);

/* Writes DATA to PATH through a uniquely named temporary file and rename(), so concurrent pulls of
 * the same image and crashes never leave a half-written file under PATH. */
int image_write_atomic(const char *path, const void *data, size_t size, unsigned mode);
