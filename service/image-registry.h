/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The registry side of image pulls: per-registry policy (registries.conf), credentials (container
 * auth file) and an HTTP client for the distribution API (GET manifests and blobs, Bearer token and
 * basic auth). Errors follow image.h's classes. */

#include <stdbool.h>
#include <stddef.h>

typedef struct RegistryPolicy {
        bool insecure;            /* plain HTTP */
        bool require_signature;
        char **keys;              /* NULL-terminated PEM public key paths, or NULL */
        char *ca;                 /* CA bundle for HTTPS, or NULL for the system's */
        bool default_section;     /* no group names the registry: "[*]" or the built-in defaults apply */
} RegistryPolicy;

/* A registry that registries.conf does not name, without a "[*]" group saying otherwise, must sign its
 * images (and no key is trusted): unknown registries load nothing by default. */
#define REGISTRY_DEFAULT_REQUIRE_SIGNATURE true

/* Reads the group of REGISTRY (canonical; groups are compared in canonical form) or else "[*]" from the
 * GKeyFile at PATH. A missing file or group gives the built-in defaults (require_signature); unknown keys and bad values are -EINVAL, so a typo does not silently weaken the policy. */
int registry_policy_load(const char *path, const char *registry, RegistryPolicy *ret, char **err);
void registry_policy_done(RegistryPolicy *p);

/* Looks REGISTRY up in the auth file at PATH ({"auths": {"host[:port]": {"auth": "base64(user:pass)"}}};
 * keys may carry a scheme or path, as docker writes them). Returns 1 and the credentials, 0 if there
 * are none (also when the file does not exist), or -EINVAL; DATA, if not NULL, is the file's contents for a malformed file. */
int registry_credentials_load(const char *path, const char *data, const char *registry, char **ret_user,
                              char **ret_password, char **err);

typedef struct RegistryClient RegistryClient;

int registry_client_new(const char *registry, const char *repository, const RegistryPolicy *policy,
                        const char *user, const char *password, long timeout_sec, RegistryClient **ret);
void registry_client_free(RegistryClient *c);
static inline void registry_client_freep(RegistryClient **c) {
        registry_client_free(*c);
}
#define _cleanup_registry_client_ __attribute__((cleanup(registry_client_freep)))

/* GET /v2/<repository>/manifests/<reference> (a tag or a digest), accepting OCI and Docker v2
 * manifests and indexes. The bytes are exactly as served (the digest is computed over them). */
int registry_get_manifest(RegistryClient *c, const char *reference, size_t max_size,
                          char **ret, size_t *ret_size, char **err);

/* GET /v2/<repository>/blobs/<digest>; redirects are followed. The caller verifies the digest. */
int registry_get_blob(RegistryClient *c, const char *digest, size_t max_size,
                      char **ret, size_t *ret_size, char **err);
