/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pulling bytecode images: reference parsing, the pull policy, the content-addressed cache, manifest
 * and config handling. The registry protocol is in image-registry.c, signatures in image-cosign.c, the
 * layer format in image-tar.c. */

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>

#include <bpf/libbpf.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "image-cache.h"
#include "image-cosign.h"
#include "image-registry.h"
#include "image-tar.h"
#include "image-util.h"
#include "image.h"
#include "utf8.h"

#define MAX_MANIFEST_SIZE (4u * 1024u * 1024u)
#define MAX_CONFIG_SIZE (4u * 1024u * 1024u)
#define MAX_LAYER_SIZE (64u * 1024u * 1024u)

#define LABEL_PROGRAMS "io.ebpf.programs"
#define LABEL_MAPS "io.ebpf.maps"
#define LABEL_V1_FUNCTION "io.ebpf.bpf_function_name"
#define LABEL_V1_TYPE "io.ebpf.program_type"
#define LABEL_V1_FILENAME "io.ebpf.filename"

/* ---- policy and reference ---- */

static const char * const policy_names[_IMAGE_PULL_POLICY_MAX] = {
        [IMAGE_PULL_ALWAYS] = "Always",
        [IMAGE_PULL_IF_NOT_PRESENT] = "IfNotPresent",
        [IMAGE_PULL_NEVER] = "Never",
};

int image_pull_policy_from_string(const char *s, ImagePullPolicy *ret) {
        for (int i = 0; s && i < _IMAGE_PULL_POLICY_MAX; i++)
                if (strcasecmp(s, policy_names[i]) == 0) {
                        *ret = (ImagePullPolicy) i;
                        return 0;
                }
        return -EINVAL;
}

const char *image_pull_policy_to_string(ImagePullPolicy p) {
        return p >= 0 && p < _IMAGE_PULL_POLICY_MAX ? policy_names[p] : NULL;
}

int image_exit_status(int r) {
        static const struct { int err, status; } map[] = {
                { -EINVAL, 2 }, { -EHOSTUNREACH, 3 }, { -ENOENT, 4 }, { -EACCES, 5 }, { -EBADMSG, 6 },
                { -ENOKEY, 7 }, { -EKEYREJECTED, 8 }, { -EXDEV, 9 }, { -ENOMEDIUM, 10 }, { -EPROTO, 11 },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (map[i].err == r)
                        return map[i].status;
        return r == 0 ? 0 : 1;
}

const char *image_error_class(int r) {
        switch (r) {
        case 0:
                return "Success";
        case -EINVAL:
                return "BadReference";
        case -EHOSTUNREACH:
                return "RegistryUnreachable";
        case -ENOENT:
                return "ImageNotFound";
        case -EACCES:
                return "AuthenticationFailed";
        case -EBADMSG:
                return "DigestMismatch";
        case -ENOKEY:
                return "NoSignature";
        case -EKEYREJECTED:
                return "UnknownSigner";
        case -EXDEV:
                return "SignatureDigestMismatch";
        case -ENOMEDIUM:
                return "NotCached";
        case -EPROTO:
                return "InvalidImage";
        default:
                return "Failed";
        }
}

void image_result_free(ImageResult *r) {
        if (!r)
                return;
        free(r->reference);
        free(r->manifest_digest);
        free(r->object_path);
        free(r->object_filename);
        for (size_t i = 0; i < r->n_programs; i++) {
                free(r->programs[i].name);
                free(r->programs[i].type);
        }
        free(r->programs);
        for (size_t i = 0; i < r->n_maps; i++) {
                free(r->maps[i].name);
                free(r->maps[i].type);
        }
        free(r->maps);
        free(r->signer_key);
        g_strfreev(r->inputs);
        free(r);
}

/* ---- one pull ---- */

typedef struct Pull {
        const ImageRef *ref;
        ImagePullPolicy policy;
        const char *cache;
        RegistryPolicy reg;
        char *user, *password;
        long timeout;
        RegistryClient *client;
        bool used_registry;
        GPtrArray *inputs;    /* paths of the local files the result depends on */
        char **err;
} Pull;

static void pull_input(Pull *p, const char *path) {
        if (p->inputs && path)
                g_ptr_array_add(p->inputs, g_strdup(path));
}

static void pull_done(Pull *p) {
        if (p->inputs)
                g_ptr_array_unref(p->inputs);
        registry_client_free(p->client);
        registry_policy_done(&p->reg);
        free(p->user);
        if (p->password)
                explicit_bzero(p->password, strlen(p->password));
        free(p->password);
}

static int pull_client(Pull *p, RegistryClient **ret) {
        int r;

        if (p->policy == IMAGE_PULL_NEVER)
                return -ENOMEDIUM;   /* callers say what was missing */
        if (!p->client) {
                r = registry_client_new(p->ref->registry, p->ref->repository, &p->reg, p->user, p->password,
                                        p->timeout, &p->client);
                if (r < 0)
                        return r;
        }
        p->used_registry = true;
        *ret = p->client;
        return 0;
}

static char *blob_path(const Pull *p, const char *digest) {
        char *s = NULL;
        if (asprintf(&s, "%s/blobs/sha256/%s", p->cache, digest + strlen("sha256:")) < 0)
                return NULL;
        return s;
}

static char *ref_index_path(const Pull *p, const char *ref_string) {
        return image_cache_index_path(p->cache, "refs", ref_string);
}

/* The digest REF_STRING resolved to when last pulled, if its blob is still cached; NULL otherwise. */
static char *ref_index_lookup(Pull *p, const char *ref_string) {
        _cleanup_free_ char *path = ref_index_path(p, ref_string), *data = NULL, *blob = NULL;
        size_t size = 0;

        if (!path || read_full_file(path, 256, &data, &size) < 0)
                return NULL;
        data[strcspn(data, "\n")] = '\0';
        if (!image_digest_valid(data))
                return NULL;
        pull_input(p, path);
        blob = blob_path(p, data);
        if (!blob || access(blob, F_OK) < 0)
                return NULL;
        (void) utimensat(AT_FDCWD, path, NULL, 0);   /* used now: the last to be evicted */
        return TAKE_PTR(data);
}

static int ref_index_store(const Pull *p, const char *ref_string, const char *digest) {
        _cleanup_free_ char *path = ref_index_path(p, ref_string), *line = NULL, *old = NULL;
        size_t size = 0;

        if (!path || asprintf(&line, "%s\n", digest) < 0)
                return -ENOMEM;
        /* Unchanged: left as it is (its identity is what remembered answers are checked against). */
        if (read_full_file(path, 256, &old, &size) >= 0 && streq(old, line))
                return 0;
        return image_write_atomic(path, line, strlen(line), 0600);
}

/* 0 and the bytes of a cached blob that matches its digest; -ENOENT if not cached; -EBADMSG if the
 * cached copy is corrupted (message in err). */
static int cache_read_blob(Pull *p, const char *digest, size_t max, char **ret, size_t *ret_size, char **err) {
        _cleanup_free_ char *path = blob_path(p, digest), *data = NULL;
        _cleanup_free_ char *what = NULL;
        size_t size = 0;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_full_file(path, max, &data, &size);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return image_error(err, r == -EFBIG ? -EBADMSG : r, "cached blob %s: %s", path, strerror(-r));
        if (asprintf(&what, "cached blob %s", path) < 0)
                return -ENOMEM;
        r = image_verify_digest(data, size, digest, what, err);
        if (r < 0)
                return r;
        pull_input(p, path);
        *ret = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}

static int cache_store_blob(const Pull *p, const char *digest, const char *data, size_t size) {
        _cleanup_free_ char *path = blob_path(p, digest);

        if (!path)
                return -ENOMEM;
        return image_write_atomic(path, data, size, 0600);
}

/* A blob or manifest by digest: from the cache if there and intact, else from the registry (verified,
 * then cached). Under Never a missing or corrupted cached blob is an error; otherwise a corrupted one is
 * replaced. */
static int pull_by_digest(Pull *p, bool manifest, const char *digest, size_t max, const char *what,
                          char **ret, size_t *ret_size) {
        _cleanup_free_ char *data = NULL, *cache_err = NULL;
        RegistryClient *c;
        size_t size = 0;
        int r;

        if (!image_digest_valid(digest))
                return image_error(p->err, -EPROTO, "%s: bad digest \"%s\"", what, strempty(digest));
        r = cache_read_blob(p, digest, max, &data, &size, &cache_err);
        if (r == 0) {
                *ret = TAKE_PTR(data);
                *ret_size = size;
                return 0;
        }
        if (r != -ENOENT && r != -EBADMSG)
                return image_error(p->err, r, "%s", cache_err ?: strerror(-r));
        if (pull_client(p, &c) < 0) {
                if (r == -EBADMSG)
                        return image_error(p->err, r, "%s", cache_err);
                return image_error(p->err, -ENOMEDIUM, "%s %s is not cached (pull policy Never)", what, digest);
        }
        r = manifest ? registry_get_manifest(c, digest, max, &data, &size, p->err)
                     : registry_get_blob(c, digest, max, &data, &size, p->err);
        if (r < 0)
                return r;
        r = image_verify_digest(data, size, digest, what, p->err);
        if (r < 0)
                return r;
        r = cache_store_blob(p, digest, data, size);
        if (r >= 0 && manifest)
                r = image_cache_origin_store(p->cache, p->ref->registry, p->ref->repository, digest);
        if (r < 0)
                return image_error(p->err, r, "cannot write to the image cache %s: %s", p->cache, strerror(-r));
        *ret = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}

/* Resolves a reference (tag or digest) to a manifest: from the cache index unless the policy is Always,
 * else from the registry. Returns its bytes and digest; *ret_cached says whether the registry was skipped. */
static int pull_resolve(Pull *p, const char *ref_string, const char *tag, const char *digest,
                        char **ret, size_t *ret_size, char **ret_digest, bool *ret_cached) {
        _cleanup_free_ char *data = NULL, *cached = NULL, *dg = NULL;
        RegistryClient *c;
        char actual[IMAGE_DIGEST_LEN + 1];
        size_t size = 0;
        int r;

        if (p->policy != IMAGE_PULL_ALWAYS) {
                /* A digest names content, not where it may come from: the cache serves it only if it was
                 * fetched from this registry and repository, else the registry is asked (and must have it). */
                if (digest) {
                        cached = image_cache_origin_known(p->cache, p->ref->registry, p->ref->repository, digest)
                                ? strdup(digest) : NULL;
                        if (cached) {
                                _cleanup_free_ char *o = image_cache_origin_path(p->cache, p->ref->registry,
                                                                                 p->ref->repository, digest);
                                pull_input(p, o);
                        }
                }
                else
                        cached = ref_index_lookup(p, ref_string);
                if (cached) {
                        _cleanup_free_ char *cache_err = NULL;
                        r = cache_read_blob(p, cached, MAX_MANIFEST_SIZE, &data, &size, &cache_err);
                        if (r == 0) {
                                *ret = TAKE_PTR(data);
                                *ret_size = size;
                                *ret_digest = TAKE_PTR(cached);
                                *ret_cached = true;
                                return 0;
                        }
                        /* A corrupted copy is fetched again, except under Never. */
                        if (r != -ENOENT && p->policy == IMAGE_PULL_NEVER)
                                return image_error(p->err, r, "%s", strempty(cache_err));
                }
                if (p->policy == IMAGE_PULL_NEVER)
                        return image_error(p->err, -ENOMEDIUM, "%s is not in the image cache %s (pull policy Never)",
                                           ref_string, p->cache);
        }

        r = pull_client(p, &c);
        if (r < 0)
                return r;
        r = registry_get_manifest(c, digest ?: tag, MAX_MANIFEST_SIZE, &data, &size, p->err);
        if (r < 0)
                return r;
        image_sha256_digest(data, size, actual);
        if (digest && !streq(actual, digest))
                return image_error(p->err, -EBADMSG, "manifest of %s does not match its digest (got %s)",
                                   ref_string, actual);
        r = cache_store_blob(p, actual, data, size);
        if (r >= 0)
                r = image_cache_origin_store(p->cache, p->ref->registry, p->ref->repository, actual);
        if (r < 0)
                return image_error(p->err, r, "cannot write to the image cache %s: %s", p->cache, strerror(-r));
        dg = strdup(actual);
        if (!dg)
                return -ENOMEM;
        *ret = TAKE_PTR(data);
        *ret_size = size;
        *ret_digest = TAKE_PTR(dg);
        *ret_cached = false;
        return 0;
}

static JsonObject *parse_object(JsonParser *parser, const char *data, size_t size) {
        JsonNode *root;

        if (!json_parser_load_from_data(parser, data, (gssize) size, NULL))
                return NULL;
        root = json_parser_get_root(parser);
        return root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
}

static const char *host_arch(void) {
#if defined(__x86_64__)
        return "amd64";
#elif defined(__aarch64__)
        return "arm64";
#elif defined(__i386__)
        return "386";
#elif defined(__arm__)
        return "arm";
#elif defined(__s390x__)
        return "s390x";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        return "ppc64le";
#elif defined(__riscv) && __riscv_xlen == 64
        return "riscv64";
#else
        return "unknown";
#endif
}

static bool is_index(JsonObject *m) {
        const char *mt = json_object_get_string_member_with_default(m, "mediaType", "") ?: ""; /* NULL for a value that is no string */
        return streq(mt, "application/vnd.oci.image.index.v1+json") ||
               streq(mt, "application/vnd.docker.distribution.manifest.list.v2+json") ||
               (!*mt && json_object_has_member(m, "manifests") && !json_object_has_member(m, "layers"));
}

/* The linux/<host arch> entry of an index, or its only entry. */
static int index_pick(Pull *p, JsonObject *index, const char *index_digest, char **ret_digest) {
        JsonArray *list = json_object_has_member(index, "manifests") ? json_object_get_array_member(index, "manifests") : NULL;
        guint n = list ? json_array_get_length(list) : 0;
        const char *pick = NULL;

        for (guint i = 0; i < n && !pick; i++) {
                JsonNode *e = json_array_get_element(list, i);
                JsonObject *o = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
                JsonObject *plat = o && json_object_has_member(o, "platform") ? json_object_get_object_member(o, "platform") : NULL;
                if (plat &&
                    streq_ptr(json_object_get_string_member_with_default(plat, "os", ""), "linux") &&
                    streq_ptr(json_object_get_string_member_with_default(plat, "architecture", ""), host_arch()))
                        pick = json_object_get_string_member_with_default(o, "digest", NULL);
        }
        if (!pick && n == 1) {
                JsonNode *e = json_array_get_element(list, 0);
                if (JSON_NODE_HOLDS_OBJECT(e))
                        pick = json_object_get_string_member_with_default(json_node_get_object(e), "digest", NULL);
        }
        if (!pick)
                return image_error(p->err, -EPROTO, "image index %s has no linux/%s entry", index_digest, host_arch());
        *ret_digest = strdup(pick);
        return *ret_digest ? 0 : -ENOMEM;
}

static int push_pair(ImageProgram **list, size_t *n, const char *name, const char *type) {
        ImageProgram *l = realloc(*list, (*n + 1) * sizeof(ImageProgram));

        if (!l)
                return -ENOMEM;
        *list = l;
        l[*n] = (ImageProgram) { strdup(name), strdup(type) };
        if (!l[*n].name || !l[*n].type) {
                free(l[*n].name);
                free(l[*n].type);
                return -ENOMEM;
        }
        (*n)++;
        return 0;
}

static int cmp_pair(const void *a, const void *b) {
        return strcmp(((const ImageProgram *) a)->name, ((const ImageProgram *) b)->name);
}

/* A label whose value is a JSON object of strings (io.ebpf.programs, io.ebpf.maps), sorted by name. */
static int parse_label_map(Pull *p, const char *label, const char *value, ImageProgram **list, size_t *n) {
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GList) members = NULL;
        JsonObject *o = parse_object(parser, value, strlen(value));
        int r;

        if (!o)
                return image_error(p->err, -EPROTO, "label %s is not a JSON object: %.*s", label, UTF8_CUT(value, 80));
        members = json_object_get_members(o);
        for (GList *l = members; l; l = l->next) {
                JsonNode *v = json_object_get_member(o, l->data);
                if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_STRING)
                        return image_error(p->err, -EPROTO, "label %s: value of \"%s\" is not a string", label,
                                           (char *) l->data);
                r = push_pair(list, n, l->data, json_node_get_string(v));
                if (r < 0)
                        return r;
        }
        if (*n > 1)
                qsort(*list, *n, sizeof(ImageProgram), cmp_pair);
        return 0;
}

static int parse_labels(Pull *p, const char *config, size_t size, ImageResult *res, char **ret_filename) {
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonObject *root = parse_object(parser, config, size), *cfg = NULL, *labels = NULL;
        const char *programs, *maps, *fn, *type, *filename;
        int r;

        if (!root)
                return image_error(p->err, -EPROTO, "image config is not a JSON object");
        if (json_object_has_member(root, "config") && JSON_NODE_HOLDS_OBJECT(json_object_get_member(root, "config")))
                cfg = json_object_get_object_member(root, "config");
        if (cfg && json_object_has_member(cfg, "Labels") && JSON_NODE_HOLDS_OBJECT(json_object_get_member(cfg, "Labels")))
                labels = json_object_get_object_member(cfg, "Labels");
        if (!labels)
                return image_error(p->err, -EPROTO, "image config has no labels: not a BPF bytecode image");

        programs = json_object_get_string_member_with_default(labels, LABEL_PROGRAMS, NULL);
        maps = json_object_get_string_member_with_default(labels, LABEL_MAPS, NULL);
        fn = json_object_get_string_member_with_default(labels, LABEL_V1_FUNCTION, NULL);
        type = json_object_get_string_member_with_default(labels, LABEL_V1_TYPE, NULL);
        filename = json_object_get_string_member_with_default(labels, LABEL_V1_FILENAME, NULL);

        if (programs) {
                r = parse_label_map(p, LABEL_PROGRAMS, programs, &res->programs, &res->n_programs);
                if (r < 0)
                        return r;
                if (maps) {
                        r = parse_label_map(p, LABEL_MAPS, maps, &res->maps, &res->n_maps);
                        if (r < 0)
                                return r;
                }
        } else if (fn && type) {
                /* The older single-program labels. */
                r = push_pair(&res->programs, &res->n_programs, fn, type);
                if (r < 0)
                        return r;
        } else
                return image_error(p->err, -EPROTO, "image config has neither the label " LABEL_PROGRAMS " nor "
                                   LABEL_V1_FUNCTION "/" LABEL_V1_TYPE ": not a BPF bytecode image");
        if (res->n_programs == 0)
                return image_error(p->err, -EPROTO, "label " LABEL_PROGRAMS " names no program");
        if (filename && !(*ret_filename = strdup(filename)))
                return -ENOMEM;
        return 0;
}

static int blob_getter(void *userdata, const char *digest, size_t max, char **ret, size_t *ret_size, char **err) {
        Pull *p = userdata;
        return pull_by_digest(p, false, digest, max, "signature payload", ret, ret_size);
}

/* Checks the cosign signature of MANIFEST_DIGEST when the registry's policy asks for it (keys
 * configured). Under Always the signature is fetched again; otherwise a cached one is used first. */
static int pull_verify_signature(Pull *p, const char *manifest_digest, ImageResult *res) {
        _cleanup_free_ char *tag = NULL, *sig_ref = NULL, *sig = NULL, *sig_digest = NULL, *key = NULL;
        _cleanup_free_ char *sub_err = NULL;
        size_t sig_size = 0;
        bool cached = false;
        char **saved_err;
        int r;

        if (!p->reg.keys)
                return 0;
        tag = cosign_signature_tag(manifest_digest);
        if (!tag || asprintf(&sig_ref, "%s/%s:%s", p->ref->registry, p->ref->repository, tag) < 0)
                return -ENOMEM;

        saved_err = p->err;
        p->err = &sub_err;
        r = pull_resolve(p, sig_ref, tag, NULL, &sig, &sig_size, &sig_digest, &cached);
        p->err = saved_err;
        if (r == -ENOENT || r == -ENOMEDIUM) {
                if (!p->reg.require_signature)
                        return 0;
                return image_error(p->err, -ENOKEY, "%s (%s) is not signed: no signature %s in the %s",
                                   p->ref->repository, manifest_digest, tag, r == -ENOENT ? "registry" : "cache");
        }
        if (r < 0)
                return image_error(p->err, r, "signature of %s: %s", manifest_digest, strempty(sub_err));

        r = cosign_verify(sig, sig_size, manifest_digest, p->ref->registry, p->ref->repository, p->reg.keys,
                          blob_getter, p, &key, p->err);
        if (r == -ENOKEY && !p->reg.require_signature)
                return 0;
        if (r < 0)
                return r;
        r = ref_index_store(p, sig_ref, sig_digest);
        if (r < 0)
                return image_error(p->err, r, "cannot write to the image cache %s: %s", p->cache, strerror(-r));
        res->signed_ = true;
        res->signer_key = TAKE_PTR(key);
        return 0;
}

static int pull_object(Pull *p, const char *layer_digest, const char *want, ImageResult *res) {
        _cleanup_free_ char *layer = NULL, *obj = NULL, *name = NULL, *path = NULL;
        size_t layer_size = 0, obj_size = 0;
        int r;

        r = pull_by_digest(p, false, layer_digest, MAX_LAYER_SIZE, "layer", &layer, &layer_size);
        if (r < 0)
                return r;
        r = image_layer_extract_object(layer, layer_size, want, &obj, &obj_size, &name, p->err);
        if (r < 0)
                return r;
        /* libbpf must be able to open it (no kernel involved): garbage never gets a reference in the cache. */
        {
                LIBBPF_OPTS(bpf_object_open_opts, o, .object_name = "image");
                struct bpf_object *bo = bpf_object__open_mem(obj, obj_size, &o);
                bool any = bo && bpf_object__next_program(bo, NULL);

                bpf_object__close(bo);
                if (!any)
                        return image_error(p->err, -EPROTO, "the image's object file %s is not a usable BPF object%s",
                                           name, bo ? " (it holds no programs)" : "");
        }
        /* Extracted again from the verified layer on every pull: what the path holds is what was verified. */
        if (asprintf(&path, "%s/objects/%s.o", p->cache, layer_digest + strlen("sha256:")) < 0)
                return -ENOMEM;
        r = image_write_atomic(path, obj, obj_size, 0600);
        if (r < 0)
                return image_error(p->err, r, "cannot write %s: %s", path, strerror(-r));
        res->object_path = TAKE_PTR(path);
        res->object_filename = TAKE_PTR(name);
        return 0;
}

static int pull_run(Pull *p, ImageResult *res) {
        _cleanup_free_ char *top = NULL, *top_digest = NULL, *man = NULL, *man_digest = NULL, *config = NULL;
        _cleanup_free_ char *want = NULL;
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(JsonParser) parser2 = json_parser_new();
        size_t top_size = 0, man_size = 0, config_size = 0;
        JsonObject *m, *cfg;
        JsonArray *layers;
        const char *config_digest, *layer_digest;
        bool cached = false;
        int r;

        r = pull_resolve(p, res->reference, p->ref->tag, p->ref->digest, &top, &top_size, &top_digest, &cached);
        if (r < 0)
                return r;
        m = parse_object(parser, top, top_size);
        if (!m)
                return image_error(p->err, -EPROTO, "manifest %s is not a JSON object", top_digest);

        /* Checked before any layer is fetched: a refused image costs one manifest. */
        r = pull_verify_signature(p, top_digest, res);
        if (r < 0)
                return r;

        if (is_index(m)) {
                r = index_pick(p, m, top_digest, &man_digest);
                if (r < 0)
                        return r;
                r = pull_by_digest(p, true, man_digest, MAX_MANIFEST_SIZE, "manifest", &man, &man_size);
                if (r < 0)
                        return r;
                m = parse_object(parser2, man, man_size);
                if (!m || is_index(m))
                        return image_error(p->err, -EPROTO, "manifest %s is not an image manifest", man_digest);
        }
        if (json_object_get_int_member_with_default(m, "schemaVersion", 0) != 2)
                return image_error(p->err, -EPROTO, "manifest %s: unsupported schema version (only OCI and Docker v2 "
                                   "schema 2)", man_digest ?: top_digest);
        cfg = json_object_has_member(m, "config") && JSON_NODE_HOLDS_OBJECT(json_object_get_member(m, "config"))
                ? json_object_get_object_member(m, "config") : NULL;
        layers = json_object_has_member(m, "layers") && JSON_NODE_HOLDS_ARRAY(json_object_get_member(m, "layers"))
                ? json_object_get_array_member(m, "layers") : NULL;
        if (!cfg || !layers)
                return image_error(p->err, -EPROTO, "manifest %s has no config or layers", man_digest ?: top_digest);
        if (json_array_get_length(layers) != 1)
                return image_error(p->err, -EPROTO, "manifest %s has %u layers; a bytecode image has one",
                                   man_digest ?: top_digest, json_array_get_length(layers));
        config_digest = json_object_get_string_member_with_default(cfg, "digest", NULL);
        layer_digest = JSON_NODE_HOLDS_OBJECT(json_array_get_element(layers, 0))
                ? json_object_get_string_member_with_default(json_array_get_object_element(layers, 0), "digest", NULL)
                : NULL;
        if (!image_digest_valid(layer_digest))
                return image_error(p->err, -EPROTO, "manifest %s: bad layer digest", man_digest ?: top_digest);

        r = pull_by_digest(p, false, config_digest, MAX_CONFIG_SIZE, "image config", &config, &config_size);
        if (r < 0)
                return r;
        r = parse_labels(p, config, config_size, res, &want);
        if (r < 0)
                return r;
        r = pull_object(p, layer_digest, want, res);
        if (r == -EPROTO && cached) {
                /* Bad content cached by an older bpfd: no reference may keep pointing at it. */
                _cleanup_free_ char *path = ref_index_path(p, res->reference);
                if (path)
                        (void) unlink(path);
        }
        if (r < 0)
                return r;

        /* Only a complete, verified pull updates what the reference means in the cache. */
        {
                r = ref_index_store(p, res->reference, top_digest);
                if (r < 0)
                        return image_error(p->err, r, "cannot write to the image cache %s: %s", p->cache, strerror(-r));
        }
        res->manifest_digest = TAKE_PTR(top_digest);
        res->from_cache = !p->used_registry;
        return 0;
}

static int cache_prepare(const char *cache, char **err) {
        static const char * const subdirs[] = { "blobs/sha256", "objects", "refs", "origins" };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(subdirs); i++) {
                _cleanup_free_ char *d = NULL;
                if (asprintf(&d, "%s/%s", cache, subdirs[i]) < 0)
                        return -ENOMEM;
                r = image_mkdir_p(d, 0711);   /* searchable: bpfd checks its files with stat(), reads none */
                if (r < 0)
                        return image_error(err, r, "cannot create the image cache %s: %s", d, strerror(-r));
        }
        return 0;
}

int image_pull(const char *reference, const ImagePullOptions *opts, ImageResult **ret, char **ret_error) {
        _cleanup_image_ref_ ImageRef *ref = NULL;
        _cleanup_image_result_ ImageResult *res = NULL;
        _cleanup_free_ char *err = NULL;
        const ImagePullOptions defaults = { .policy = IMAGE_PULL_IF_NOT_PRESENT };
        Pull p = {};
        _cleanup_close_ int lock = -1;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!opts)
                opts = &defaults;
        if (opts->policy < 0 || opts->policy >= _IMAGE_PULL_POLICY_MAX) {
                r = image_error(&err, -EINVAL, "bad pull policy %d", (int) opts->policy);
                goto finish;
        }
        r = image_ref_parse(reference, &ref);
        if (r < 0) {
                if (r == -EINVAL)
                        image_error(&err, r, "bad image reference \"%s\": expected registry[:port]/name[:tag] or "
                                    "registry[:port]/name[:tag]@sha256:<64 hex digits>", strempty(reference));
                goto finish;
        }
        res = calloc(1, sizeof(*res));
        if (!res || !(res->reference = image_ref_to_string(ref))) {
                r = -ENOMEM;
                goto finish;
        }

        p = (Pull) {
                .ref = ref,
                .policy = opts->policy,
                .cache = opts->cache_dir ?: IMAGE_DEFAULT_CACHE_DIR,
                .timeout = opts->timeout_sec,
                .err = &err,
                .inputs = g_ptr_array_new_with_free_func(g_free),
        };
        r = registry_policy_load(opts->config_path ?: IMAGE_DEFAULT_CONFIG, ref->registry, &p.reg, &err);
        if (r < 0)
                goto finish;
        /* Nothing could verify a signature: refused before the registry or the cache is asked. */
        if (p.reg.require_signature && !p.reg.keys) {
                r = image_error(&err, -ENOKEY, "registry %s requires signed images (%s) and no key is trusted for it; "
                                "name it in %s", ref->registry,
                                p.reg.default_section ? "the default for registries not named in the configuration"
                                                      : "its configuration",
                                opts->config_path ?: IMAGE_DEFAULT_CONFIG);
                goto finish;
        }
        if (opts->username && opts->password) {
                p.user = strdup(opts->username);
                p.password = strdup(opts->password);
                if (!p.user || !p.password) {
                        r = -ENOMEM;
                        goto finish;
                }
        } else {
                r = registry_credentials_load(opts->auth_path ?: IMAGE_DEFAULT_AUTH_FILE, opts->auth_data,
                                              ref->registry, &p.user, &p.password, &err);
                if (r < 0)
                        goto finish;
        }
        r = cache_prepare(p.cache, &err);
        if (r < 0)
                goto finish;
        lock = image_cache_lock(p.cache, false);
        if (lock < 0) {
                r = image_error(&err, lock, "cannot lock the image cache %s: %s", p.cache, strerror(-lock));
                goto finish;
        }

        r = pull_run(&p, res);
        close(TAKE_FD(lock));   /* before the collection, which needs it alone */
        if (r < 0)
                goto finish;
        /* Within the limit again: what no reference needs goes, then the least recently used images. */
        if (p.used_registry)
                (void) image_cache_collect(p.cache, opts->cache_max ?: IMAGE_DEFAULT_CACHE_MAX, res->reference,
                                           opts->in_use, NULL);
        if (p.inputs) {
                pull_input(&p, opts->config_path ?: IMAGE_DEFAULT_CONFIG);
                for (char **k = p.reg.keys; k && *k; k++)
                        pull_input(&p, *k);
                g_ptr_array_add(p.inputs, NULL);
                res->inputs = (char **) g_ptr_array_free(TAKE_PTR(p.inputs), FALSE);
        }
        *ret = TAKE_PTR(res);
        r = 0;
finish:
        pull_done(&p);
        if (r < 0 && ret_error)
                *ret_error = err ? TAKE_PTR(err) : strdup(strerror(-r));
        return r;
}
