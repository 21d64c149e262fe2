/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* BPF programs from OCI bytecode images (bpfman's layout).
 *
 * An image holds one layer (tar+gzip or plain tar) with one BPF object file. Its config names the
 * programs in the labels
 *     io.ebpf.programs   JSON object, function name -> program type, e.g. {"count":"tracepoint"}
 *     io.ebpf.maps       JSON object, map name -> map type
 * or, in the older single-program form, io.ebpf.program_name, io.ebpf.bpf_function_name,
 * io.ebpf.program_type and io.ebpf.filename.
 *
 * image_pull() resolves a reference against a registry (Docker/OCI distribution API over HTTPS, or
 * plain HTTP for registries configured insecure), verifies every blob against its sha256 digest,
 * optionally checks a cosign signature (the "sha256-<hex>.sig" tag, simple-signing payload, ECDSA
 * signature in the layer annotation), and keeps everything in a content-addressed cache:
 *
 *     CACHE/blobs/sha256/<hex>     manifests, configs, layers, signature manifests, payloads
 *     CACHE/objects/<hex>.o        the object file extracted from layer <hex>
 *     CACHE/refs/<escaped ref>     "sha256:<hex>\n": the manifest digest a reference last resolved to
 *     CACHE/origins/<escaped registry/repository@digest>   that manifest came from there (image-cache.h)
 *
 * Cached blobs are hashed again whenever a reference is resolved from them, so a corrupted cache is
 * noticed, and the object file is re-extracted from the verified layer and opened with libbpf before a
 * reference points at it. A digest reference is served from the cache only for the registry and
 * repository it was fetched from. After a pull that asked the registry the cache is collected and kept
 * under ImagePullOptions.cache_max (image-cache.h).
 *
 * Registry policy comes from a GKeyFile (IMAGE_DEFAULT_CONFIG), one group per registry, compared in
 * canonical form (image-ref.h: "quay.io" is "quay.io:443"), or "*" for every registry no group names:
 *
 *     [registry.example.com:5000]
 *     insecure=true                 # plain HTTP instead of HTTPS
 *     ca=/etc/bpfd/registry-ca.pem  # trust this CA (PEM) for HTTPS instead of the system's
 *     require_signature=true        # refuse images without a valid cosign signature
 *     keys=/etc/bpfd/cosign1.pub;/etc/bpfd/cosign2.pub   # PEM EC (P-256) public keys
 *
 * A group's missing keys are off (HTTPS, no signature required). A registry no group names, without a
 * "*" group (or without the file), must sign its images and no key is trusted
 * (REGISTRY_DEFAULT_REQUIRE_SIGNATURE): refused before the network. When keys are configured but
 * require_signature is false, a signature that exists is still verified (and a bad one refused);
 * an unsigned image is accepted.
 *
 * Credentials come from a container auth file (IMAGE_DEFAULT_AUTH_FILE, or ImagePullOptions.auth_path):
 *     {"auths": {"registry.example.com:5000": {"auth": "base64(user:password)"}}}
 * or from ImagePullOptions.username/password. They are sent as HTTP basic auth where the registry
 * asks for it, and to the token service of a Bearer challenge.
 *
 * Errors are negative errno values, one per class (image_error_class() names them); every failing
 * call also returns a message the caller can show as is:
 *     -EINVAL        bad reference, bad options or bad config file
 *     -EHOSTUNREACH  registry unreachable (connection, DNS, TLS verification)
 *     -ENOENT        image or tag not in the registry
 *     -EACCES        the registry refused the credentials (or their absence)
 *     -EBADMSG       a blob does not match its digest (tampered registry or cache)
 *     -ENOKEY        no signature, but the registry requires one
 *     -EKEYREJECTED  signed, but by none of the configured keys (or not a valid signature)
 *     -EXDEV         signed payload names another manifest digest
 *     -ENOMEDIUM     pull policy Never and the image is not cached
 *     -EPROTO        the image is not a bytecode image (no/more than one object file, bad labels,
 *                    unsupported media type, malformed JSON)
 *     other          local failures (-ENOMEM, -EIO, ... from the cache directory)
 *
 * The functions are synchronous and block on the network; call them from a worker thread. They keep
 * no global state besides libcurl's (image_pull() calls curl_global_init() once, thread-safely). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image-ref.h"

#define IMAGE_DEFAULT_CACHE_DIR "/var/cache/bpfd/images"
#define IMAGE_DEFAULT_CONFIG "/etc/bpfd/registries.conf"
#define IMAGE_DEFAULT_AUTH_FILE "/etc/bpfd/auth.json"

typedef enum ImagePullPolicy {
        IMAGE_PULL_ALWAYS,          /* always ask the registry (blobs already cached are not fetched again) */
        IMAGE_PULL_IF_NOT_PRESENT,  /* use the cached copy of the reference if there is one */
        IMAGE_PULL_NEVER,           /* only the cache; -ENOMEDIUM without a cached copy */
        _IMAGE_PULL_POLICY_MAX,
} ImagePullPolicy;

/* "Always", "IfNotPresent", "Never" (case-insensitive). Returns -EINVAL for anything else. */
int image_pull_policy_from_string(const char *s, ImagePullPolicy *ret);
const char *image_pull_policy_to_string(ImagePullPolicy p);

typedef struct ImagePullOptions {
        ImagePullPolicy policy;
        const char *cache_dir;     /* NULL: IMAGE_DEFAULT_CACHE_DIR; created (0700) if missing */
        const char *config_path;   /* NULL: IMAGE_DEFAULT_CONFIG; a missing file is an empty config */
        const char *auth_path;     /* NULL: IMAGE_DEFAULT_AUTH_FILE; a missing file means no credentials */
        const char *auth_data;     /* the auth file's contents, read by whoever may (then auth_path only names it) */
        const char *username;      /* with password: used instead of the auth file */
        const char *password;
        long timeout_sec;          /* per HTTP request; 0: 30 */
        uint64_t cache_max;        /* bytes the cache may hold after a pull; 0: IMAGE_DEFAULT_CACHE_MAX */
        char **in_use;             /* manifest digests loaded programs came from: not evicted */
} ImagePullOptions;

typedef struct ImageProgram {
        char *name;   /* BPF function name (programs) or map name (maps) */
        char *type;   /* bpfman's type name: "xdp", "tc", "tracepoint", "kprobe", ... as the label says */
} ImageProgram;

typedef struct ImageResult {
        char *reference;          /* canonical reference pulled */
        char *manifest_digest;    /* "sha256:<hex>" of the manifest (of the index for multi-arch images) */
        char *object_path;        /* CACHE/objects/<layer hex>.o, readable by root */
        char *object_filename;    /* the file's name inside the layer, e.g. "tracepoint_counter.bpf.o" */
        ImageProgram *programs;
        size_t n_programs;
        ImageProgram *maps;
        size_t n_maps;
        bool from_cache;          /* the registry was not asked (IfNotPresent hit, or Never) */
        bool signed_;             /* a signature was verified ... */
        char *signer_key;         /* ... with this key file */
        char **inputs;            /* the local files (cache, configuration, keys) the result was made from */
} ImageResult;

void image_result_free(ImageResult *r);
static inline void image_result_freep(ImageResult **p) {
        image_result_free(*p);
}
#define _cleanup_image_result_ __attribute__((cleanup(image_result_freep)))

/* Pulls REFERENCE according to OPTS. On success returns 0 and *ret (free with image_result_free()).
 * On failure returns a negative errno (classes above) and, if ret_error is not NULL, a malloc'd
 * message in *ret_error. */
int image_pull(const char *reference, const ImagePullOptions *opts, ImageResult **ret, char **ret_error);

/* The name of an error class for logs, CLI exit codes and D-Bus error names: "BadReference",
 * "RegistryUnreachable", "ImageNotFound", "AuthenticationFailed", "DigestMismatch", "NoSignature",
 * "UnknownSigner", "SignatureDigestMismatch", "NotCached", "InvalidImage", or "Failed". */
const char *image_error_class(int r);
/* bpfd-image's exit status for an error class: 2 BadReference, 3 RegistryUnreachable, 4 ImageNotFound,
 * 5 AuthenticationFailed, 6 DigestMismatch, 7 NoSignature, 8 UnknownSigner, 9 SignatureDigestMismatch,
 * 10 NotCached, 11 InvalidImage, 1 anything else, 0 success. */
int image_exit_status(int r);

/* The cached references: NULL-terminated reference, manifest digest, ... (g_strfreev()). */
int image_cache_list(const char *cache_dir, char ***ret);
/* Forgets a reference (the blobs stay: content-addressed, shared by other references). -ENOENT if it was
 * not cached. */
int image_cache_remove(const char *cache_dir, const char *reference);
