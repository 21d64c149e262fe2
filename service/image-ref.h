/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Image references and registry identity, shared by the daemon (which asks polkit with the canonical
 * names before anything else happens) and the puller. No network, no JSON: safe to run on the bus
 * thread on a caller's string.
 *
 * A registry has exactly one name, its canonical form:
 *     - the host lower-cased (IPv6 addresses in inet_ntop's form, in brackets);
 *     - the port as a decimal number without leading zeros, always written: "quay.io" is "quay.io:443"
 *       (HTTPS' port; a registry reached over plain HTTP names its port);
 *     - Docker Hub's aliases (docker.io, index.docker.io, registry-1.docker.io, registry.hub.docker.com)
 *       are "docker.io:443", and its one-component repositories are under "library/".
 * Names are not resolved: "localhost:5000" and "127.0.0.1:5000" are different registries. registries.conf
 * groups, auth file entries and polkit's "registry" detail all use (or are compared as) this form. */

#include <stdbool.h>

#define IMAGE_DEFAULT_PORT 443

typedef struct ImageRef {
        char *registry;     /* canonical "host:port" (IPv6 as "[::1]:5000") */
        char *repository;   /* "bpfd/test": lower-case path components */
        char *tag;          /* "latest" when neither tag nor digest was given; NULL with a digest only */
        char *digest;       /* "sha256:<64 hex>" or NULL */
} ImageRef;

/* "sha256:<64 lower-case hex>"? Only sha256 is supported, as bpfman does. */
bool image_digest_valid(const char *digest);

/* The canonical form of a registry name ("Quay.IO", "127.0.0.1:05443", "index.docker.io"), malloc'd in
 * *ret. -EINVAL if it is not a registry name (a host with a '.' or a port, or "localhost"). */
int image_registry_canonical(const char *name, char **ret);

/* Parses "registry[:port]/name[:tag]" or "registry[:port]/name[:tag]@sha256:<hex>". The registry part
 * is required (the first component must contain '.' or ':' or be "localhost"); there is no default
 * registry, so a reference always says where the code comes from. The result is canonical. */
int image_ref_parse(const char *s, ImageRef **ret);
void image_ref_free(ImageRef *ref);
/* The canonical form: registry/repository[:tag][@digest]. NULL on OOM. */
char *image_ref_to_string(const ImageRef *ref);

static inline void image_ref_freep(ImageRef **p) {
        image_ref_free(*p);
}
#define _cleanup_image_ref_ __attribute__((cleanup(image_ref_freep)))
