/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include <zlib.h>

#include "image-tar.h"
#include "image-util.h"

/* Inflates a gzip stream (several members too, as gzip -c a b > c makes), up to IMAGE_MAX_OBJECT_SIZE
 * plus room for the tar headers: a layer that unpacks to more is not a bytecode image. */
static int gunzip(const void *in, size_t in_size, char **ret, size_t *ret_size, char **err) {
        const size_t max = IMAGE_MAX_OBJECT_SIZE + 1024 * 1024;
        _cleanup_free_ char *out = NULL;
        size_t alloc = 0, size = 0;
        z_stream z = {};
        int zr;

        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
                return -ENOMEM;
        z.next_in = (Bytef *) in;
        z.avail_in = (uInt) in_size;
        for (;;) {
                if (alloc - size < 65536) {
                        size_t want = alloc ? alloc * 2 : 256 * 1024;
                        char *o;
                        if (alloc >= max) {
                                inflateEnd(&z);
                                return image_error(err, -EPROTO, "layer unpacks to more than %zu bytes", max);
                        }
                        if (want > max)
                                want = max;
                        o = realloc(out, want);
                        if (!o) {
                                inflateEnd(&z);
                                return -ENOMEM;
                        }
                        out = o;
                        alloc = want;
                }
                z.next_out = (Bytef *) out + size;
                z.avail_out = (uInt) (alloc - size);
                zr = inflate(&z, Z_NO_FLUSH);
                size = alloc - z.avail_out;
                if (zr == Z_STREAM_END) {
                        if (z.avail_in == 0)
                                break;
                        if (inflateReset(&z) != Z_OK)
                                break;
                        continue;
                }
                if (zr == Z_BUF_ERROR && z.avail_in == 0) {
                        inflateEnd(&z);
                        return image_error(err, -EPROTO, "layer: truncated gzip stream");
                }
                if (zr != Z_OK && zr != Z_BUF_ERROR) {
                        inflateEnd(&z);
                        return image_error(err, -EPROTO, "layer: bad gzip data: %s", z.msg ?: "?");
                }
        }
        inflateEnd(&z);
        *ret = TAKE_PTR(out);
        *ret_size = size;
        return 0;
}

/* Numeric tar field: octal, NUL/space terminated, or GNU base-256 (high bit set). */
static int tar_number(const char *f, size_t n, uint64_t *ret) {
        uint64_t v = 0;
        size_t i = 0;

        if ((unsigned char) f[0] & 0x80) {
                v = (unsigned char) f[0] & 0x7f;
                for (i = 1; i < n; i++) {
                        if (v >> 55)
                                return -EPROTO;
                        v = (v << 8) | (unsigned char) f[i];
                }
                *ret = v;
                return 0;
        }
        while (i < n && f[i] == ' ')
                i++;
        for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
                if (v >> 60)
                        return -EPROTO;
                v = v * 8 + (uint64_t) (f[i] - '0');
        }
        if (i < n && f[i] != '\0' && f[i] != ' ')
                return -EPROTO;
        *ret = v;
        return 0;
}

static bool block_is_zero(const char *b) {
        for (size_t i = 0; i < 512; i++)
                if (b[i])
                        return false;
        return true;
}

/* The "path" record of a pax extended header ("LEN path=VALUE\n" records), or NULL. */
static char *pax_path(const char *data, size_t size) {
        size_t off = 0;

        while (off < size) {
                char *end;
                unsigned long len = strtoul(data + off, &end, 10);
                const char *kv;

                if (end == data + off || *end != ' ' || len == 0 || off + len > size)
                        return NULL;
                kv = end + 1;
                if ((size_t) (data + off + len - kv) > 5 && strncmp(kv, "path=", 5) == 0)
                        return strndup(kv + 5, (size_t) (data + off + len - kv - 5 - 1));
                off += len;
        }
        return NULL;
}

typedef struct TarFile {
        char *name;
        const char *data;
        size_t size;
} TarFile;

static const char *base_name(const char *p) {
        const char *s = strrchr(p, '/');
        return s ? s + 1 : p;
}

static bool ends_with(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

int image_layer_extract_object(const void *layer, size_t size, const char *want_name,
                               char **ret_data, size_t *ret_size, char **ret_name, char **err) {
        _cleanup_free_ char *unpacked = NULL, *long_name = NULL;
        const TarFile *pick = NULL;
        TarFile files[64];
        size_t n_files = 0, n_obj = 0, tar_size = 0, off = 0;
        const char *tar;
        int r = 0;

        if (size >= 2 && ((const unsigned char *) layer)[0] == 0x1f && ((const unsigned char *) layer)[1] == 0x8b) {
                r = gunzip(layer, size, &unpacked, &tar_size, err);
                if (r < 0)
                        return r;
                tar = unpacked;
        } else {
                tar = layer;
                tar_size = size;
        }

        while (off + 512 <= tar_size) {
                const char *h = tar + off;
                uint64_t fsize;
                char type = h[156];
                _cleanup_free_ char *name = NULL;

                if (block_is_zero(h))
                        break;
                if (tar_number(h + 124, 12, &fsize) < 0 || fsize > tar_size - off - 512) {
                        r = image_error(err, -EPROTO, "layer: corrupt tar header at offset %zu", off);
                        goto finish;
                }
                off += 512;

                if (type == 'x' || type == 'L') {
                        /* Name of the next entry, as pax or GNU long names carry it. */
                        free(long_name);
                        long_name = type == 'x' ? pax_path(tar + off, fsize) : strndup(tar + off, fsize);
                } else if (type == '0' || type == '\0' || type == '7') {
                        if (long_name)
                                name = TAKE_PTR(long_name);
                        else if (memcmp(h + 257, "ustar", 5) == 0 && h[345])
                                (void) asprintf(&name, "%.155s/%.100s", h + 345, h);
                        else
                                name = strndup(h, 100);
                        if (!name) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        if (n_files >= ELEMENTSOF(files)) {
                                r = image_error(err, -EPROTO, "layer: more than %zu files; not a bytecode image",
                                                ELEMENTSOF(files));
                                goto finish;
                        }
                        files[n_files++] = (TarFile) { TAKE_PTR(name), tar + off, (size_t) fsize };
                } else {
                        /* Directories, links, devices, global pax headers: nothing to extract. */
                        free(long_name);
                        long_name = NULL;
                }
                off += (fsize + 511) / 512 * 512;
        }

        if (want_name)
                for (size_t i = 0; i < n_files && !pick; i++)
                        if (streq(base_name(files[i].name), base_name(want_name)))
                                pick = &files[i];
        if (!pick) {
                for (size_t i = 0; i < n_files; i++)
                        if (ends_with(files[i].name, ".o")) {
                                pick = &files[i];
                                n_obj++;
                        }
                if (n_obj > 1) {
                        r = image_error(err, -EPROTO, "layer holds %zu object files and the image names none "
                                        "(label io.ebpf.filename)", n_obj);
                        goto finish;
                }
                if (n_obj == 0 && n_files == 1)
                        pick = &files[0];
        }
        if (!pick) {
                r = image_error(err, -EPROTO, "layer holds no BPF object file%s%s", want_name ? " named " : "",
                                strempty(want_name));
                goto finish;
        }
        if (pick->size < 4 || memcmp(pick->data, "\177ELF", 4) != 0) {
                r = image_error(err, -EPROTO, "%s in the layer is not an ELF object file", pick->name);
                goto finish;
        }
        if (pick->size > IMAGE_MAX_OBJECT_SIZE) {
                r = image_error(err, -EPROTO, "%s is larger than %u bytes", pick->name, IMAGE_MAX_OBJECT_SIZE);
                goto finish;
        }

        *ret_data = malloc(pick->size ?: 1);
        *ret_name = strdup(base_name(pick->name));
        if (!*ret_data || !*ret_name) {
                free(*ret_data);
                free(*ret_name);
                *ret_data = *ret_name = NULL;
                r = -ENOMEM;
                goto finish;
        }
        memcpy(*ret_data, pick->data, pick->size);
        *ret_size = pick->size;
        r = 0;
finish:
        for (size_t i = 0; i < n_files; i++)
                free(files[i].name);
        return r;
}
