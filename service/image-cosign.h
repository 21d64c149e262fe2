/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Cosign signatures with static keys ("cosign sign --key"), checked without Sigstore's online
 * services: the signature of image manifest sha256:<hex> is the manifest tagged "sha256-<hex>.sig" in
 * the same repository. Each of its layers of media type application/vnd.dev.cosign.simplesigning.v1+json
 * is a simple-signing payload
 *     {"critical": {"identity": {"docker-reference": ...},
 *                   "image": {"docker-manifest-digest": "sha256:<hex>"},
 *                   "type": "cosign container image signature"}, "optional": ...}
 * and carries the base64 DER ECDSA (SHA-256) signature over the payload's bytes in the annotation
 * dev.cosignproject.cosign/signature. One layer that verifies with one of the trusted keys and names
 * the pulled manifest's digest is enough, if its docker-reference names the repository pulled from (as
 * containers' signature policy does by default, "matchRepoDigestOrExact"): the digest binds the signature
 * to the content, the reference to the name polkit's rules see. */

#include <stddef.h>

#define COSIGN_SIMPLESIGNING_MEDIA_TYPE "application/vnd.dev.cosign.simplesigning.v1+json"
#define COSIGN_SIGNATURE_ANNOTATION "dev.cosignproject.cosign/signature"

/* Returns the verified bytes of blob DIGEST (size at most MAX) or a negative errno with a message. */
typedef int (*CosignBlobGetter)(void *userdata, const char *digest, size_t max, char **ret, size_t *ret_size,
                                char **err);

/* "sha256-<hex>.sig" for "sha256:<hex>", malloc'd; NULL on OOM. */
char *cosign_signature_tag(const char *manifest_digest);

/* Checks the signature manifest SIG_MANIFEST for MANIFEST_DIGEST against KEYS (PEM public key paths).
 * Returns 0 and the path of the key that verified in *ret_key (malloc'd), or:
 *     -ENOKEY        the manifest has no simple-signing layer with a signature
 *     -EKEYREJECTED  no signature verifies with any of the keys
 *     -EXDEV         a signature verifies but its payload names another digest, or this digest for
 *                    another repository than REGISTRY/REPOSITORY
 *     -EINVAL        a key file cannot be read or is not an EC public key
 *     -EBADMSG, ...  from GET (a payload blob that does not match its digest)
 * with a message in *err. */
int cosign_verify(const char *sig_manifest, size_t sig_size, const char *manifest_digest, const char *registry,
                  const char *repository, char * const *keys, CosignBlobGetter get, void *userdata, char **ret_key,
                  char **err);
