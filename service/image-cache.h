/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The puller's cache (see image.h for the layout): index files, what was fetched from where, and the
 * collection of what no reference needs.
 *
 *     CACHE/refs/<escaped ref>        the manifest digest a reference last resolved to (the roots); its
 *                                     mtime is when it was last used, for least-recently-used eviction
 *     CACHE/origins/<escaped registry/repository@digest>
 *                                     that manifest digest was fetched from that registry and repository:
 *                                     only then does a digest reference naming them hit the cache */

#include <stdbool.h>
#include <stdint.h>

#define IMAGE_DEFAULT_CACHE_MAX (1024ull * 1024ull * 1024ull)

/* CACHE/SUBDIR/<KEY with everything but [A-Za-z0-9._-] %-escaped>, or the key's sha256 when too long. */
char *image_cache_index_path(const char *cache, const char *subdir, const char *key);

char *image_cache_origin_path(const char *cache, const char *registry, const char *repository, const char *digest);
/* The index file of a (canonical) reference in CACHE (NULL: the default). */
char *image_cache_ref_path(const char *cache, const char *reference);
/* Remembers / asks whether manifest DIGEST came from REGISTRY/REPOSITORY. */
int image_cache_origin_store(const char *cache, const char *registry, const char *repository, const char *digest);
bool image_cache_origin_known(const char *cache, const char *registry, const char *repository, const char *digest);

/* Takes CACHE/lock: shared (waits) for a pull, which writes blobs before a reference names them, or
 * exclusive without waiting (-EBUSY if a pull holds it) for a collection. Returns the descriptor. */
int image_cache_lock(const char *cache, bool exclusive);

/* Removes every blob, extracted object and origin that no reference needs; then, while the cache holds
 * more than MAX_BYTES (0: no limit), forgets the least recently used reference other than KEEP_REF (the
 * one just pulled; may be NULL) and those resolving to a manifest digest IN_USE (images loaded programs
 * came from; NULL-terminated, may be NULL) and collects again. Returns the bytes the cache holds afterwards. Skipped
 * (0, *ret_bytes untouched) while a pull is under way. */
int image_cache_collect(const char *cache, uint64_t max_bytes, const char *keep_ref, char *const *in_use,
                        uint64_t *ret_bytes);
