/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The layer of a bytecode image: a tar archive, gzip-compressed or not, holding the BPF object file
 * (Containerfile.bytecode copies it to "/"). Only regular files are looked at; directories, links and
 * pax/GNU extension headers are skipped (their long names are honoured). */

#include <stddef.h>

#define IMAGE_MAX_OBJECT_SIZE (64u * 1024u * 1024u)

/* Finds the object file in LAYER: the file named WANT_NAME (its base name, from the io.ebpf.filename
 * label) if given and present, else the only file ending in ".o", else the only regular file. It must
 * be an ELF file. Returns 0 and the file's bytes and base name (malloc'd), or -EPROTO with a message. */
int image_layer_extract_object(const void *layer, size_t size, const char *want_name,
                               char **ret_data, size_t *ret_size, char **ret_name, char **err);
