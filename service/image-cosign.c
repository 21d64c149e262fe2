/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include <glib.h>
#include <json-glib/json-glib.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "image-cosign.h"
#include "image-ref.h"
#include "image-util.h"

#define MAX_PAYLOAD_SIZE (64u * 1024u)

char *cosign_signature_tag(const char *manifest_digest) {
        char *s = NULL;

        if (asprintf(&s, "sha256-%s.sig", manifest_digest + strlen("sha256:")) < 0)
                return NULL;
        return s;
}

static void pkey_freep(EVP_PKEY **p) {
        EVP_PKEY_free(*p);
}

static int load_key(const char *path, EVP_PKEY **ret, char **err) {
        _cleanup_(pkey_freep) EVP_PKEY *pkey = NULL;
        FILE *f = fopen(path, "re");

        if (!f)
                return image_error(err, -EINVAL, "signature key %s: %m", path);
        pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
        fclose(f);
        ERR_clear_error();
        if (!pkey)
                return image_error(err, -EINVAL, "signature key %s: not a PEM public key", path);
        /* Cosign's keys are ECDSA P-256; anything else would be a configuration mistake. */
        if (!EVP_PKEY_is_a(pkey, "EC"))
                return image_error(err, -EINVAL, "signature key %s: not an EC (P-256) key", path);
        *ret = TAKE_PTR(pkey);
        return 0;
}

static bool verify_with(EVP_PKEY *pkey, const unsigned char *sig, size_t sig_len, const char *data, size_t len) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        bool ok;

        if (!ctx)
                return false;
        ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
             EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *) data, len) == 1;
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        return ok;
}

/* critical.image.docker-manifest-digest and critical.identity.docker-reference of a payload (NULL where
 * absent). */
static void payload_claims(const char *payload, size_t size, char **ret_digest, char **ret_reference) {
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonObject *critical, *image, *identity;
        JsonNode *root;

        *ret_digest = *ret_reference = NULL;
        if (!json_parser_load_from_data(parser, payload, (gssize) size, NULL))
                return;
        root = json_parser_get_root(parser);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root))
                return;
        critical = json_object_has_member(json_node_get_object(root), "critical") ?
                json_object_get_object_member(json_node_get_object(root), "critical") : NULL;
        image = critical && json_object_has_member(critical, "image") ? json_object_get_object_member(critical, "image") : NULL;
        identity = critical && json_object_has_member(critical, "identity") ?
                json_object_get_object_member(critical, "identity") : NULL;
        if (image)
                *ret_digest = g_strdup(json_object_get_string_member_with_default(image, "docker-manifest-digest", NULL));
        if (identity)
                *ret_reference = g_strdup(json_object_get_string_member_with_default(identity, "docker-reference", NULL));
}

/* The payload's docker-reference names REGISTRY/REPOSITORY (a tag or digest in it does not matter: the
 * digest is checked on its own), compared in canonical form ("index.docker.io" is "docker.io"). */
static bool reference_names(const char *reference, const char *registry, const char *repository) {
        _cleanup_image_ref_ ImageRef *ref = NULL;

        if (!reference || image_ref_parse(reference, &ref) < 0)
                return false;
        return streq(ref->registry, registry) && streq(ref->repository, repository);
}

int cosign_verify(const char *sig_manifest, size_t sig_size, const char *manifest_digest, const char *registry,
                  const char *repository, char * const *keys, CosignBlobGetter get, void *userdata, char **ret_key,
                  char **err) {
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autofree char *other_digest = NULL, *other_reference = NULL;
        EVP_PKEY *pkeys[16] = {};
        size_t n_keys = 0, n_sigs = 0;
        JsonArray *layers = NULL;
        JsonNode *root;
        int r;

        if (!json_parser_load_from_data(parser, sig_manifest, (gssize) sig_size, NULL) ||
            !(root = json_parser_get_root(parser)) || !JSON_NODE_HOLDS_OBJECT(root))
                return image_error(err, -ENOKEY, "signature manifest of %s is not JSON", manifest_digest);
        if (json_object_has_member(json_node_get_object(root), "layers"))
                layers = json_object_get_array_member(json_node_get_object(root), "layers");

        for (char * const *k = keys; k && *k; k++) {
                if (n_keys >= ELEMENTSOF(pkeys)) {
                        r = image_error(err, -EINVAL, "more than %zu signature keys", ELEMENTSOF(pkeys));
                        goto finish;
                }
                r = load_key(*k, &pkeys[n_keys], err);
                if (r < 0)
                        goto finish;
                n_keys++;
        }

        for (guint i = 0; layers && i < json_array_get_length(layers); i++) {
                JsonNode *ln = json_array_get_element(layers, i);
                JsonObject *l, *ann;
                const char *media, *digest, *sig_b64;
                _cleanup_free_ char *payload = NULL;
                g_autofree guchar *sig = NULL;
                g_autofree char *named = NULL, *reference = NULL;
                gsize sig_len = 0;
                size_t payload_size = 0;

                if (!JSON_NODE_HOLDS_OBJECT(ln))
                        continue;
                l = json_node_get_object(ln);
                media = json_object_get_string_member_with_default(l, "mediaType", "") ?: ""; /* NULL for a value that is no string */
                digest = json_object_get_string_member_with_default(l, "digest", NULL);
                ann = json_object_has_member(l, "annotations") ? json_object_get_object_member(l, "annotations") : NULL;
                sig_b64 = ann ? json_object_get_string_member_with_default(ann, COSIGN_SIGNATURE_ANNOTATION, NULL) : NULL;
                if (!streq(media, COSIGN_SIMPLESIGNING_MEDIA_TYPE) || !sig_b64 || !image_digest_valid(digest))
                        continue;
                n_sigs++;

                sig = g_base64_decode(sig_b64, &sig_len);
                if (!sig || sig_len == 0)
                        continue;
                r = get(userdata, digest, MAX_PAYLOAD_SIZE, &payload, &payload_size, err);
                if (r < 0)
                        goto finish;

                for (size_t k = 0; k < n_keys; k++) {
                        if (!verify_with(pkeys[k], sig, sig_len, payload, payload_size))
                                continue;
                        payload_claims(payload, payload_size, &named, &reference);
                        if (streq_ptr(named, manifest_digest) && reference_names(reference, registry, repository)) {
                                *ret_key = strdup(keys[k]);
                                r = *ret_key ? 0 : -ENOMEM;
                                goto finish;
                        }
                        /* The right content, signed for another repository: the same bytes published under a
                         * name polkit's rules may trust differently. */
                        if (streq_ptr(named, manifest_digest)) {
                                if (!other_reference)
                                        other_reference = g_strdup(reference ?: "(none)");
                                break;
                        }
                        /* Signed by a trusted key, but for other content: a replayed signature. */
                        if (!other_digest)
                                other_digest = g_strdup(named ?: "(none)");
                        break;
                }
        }

        if (other_reference)
                r = image_error(err, -EXDEV, "the signature of %s was made for %s, not for %s/%s", manifest_digest,
                                other_reference, registry, repository);
        else if (other_digest)
                r = image_error(err, -EXDEV, "the signature of %s is for another image: its payload names %s",
                                manifest_digest, other_digest);
        else if (n_sigs == 0)
                r = image_error(err, -ENOKEY, "image %s is not signed (its signature manifest holds no cosign "
                                "signature)", manifest_digest);
        else
                r = image_error(err, -EKEYREJECTED, "image %s is signed, but by none of the %zu trusted key%s",
                                manifest_digest, n_keys, n_keys == 1 ? "" : "s");
finish:
        for (size_t k = 0; k < n_keys; k++)
                EVP_PKEY_free(pkeys[k]);
        return r;
}
