/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cache's index files and its collection: references are the roots; a blob stays while a
 * reference needs it (its manifest, an index's manifests, their configs and layers, the signature
 * manifest and payloads), everything else goes; over the size limit, the least recently used
 * references go first. */

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdio.h>
#include <sys/stat.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "image-cache.h"
#include "image-util.h"
#include "image.h"

#define MAX_MANIFEST_SIZE (4u * 1024u * 1024u)

char *image_cache_index_path(const char *cache, const char *subdir, const char *key) {
        GString *s = g_string_new(NULL);
        char *path = NULL;

        for (const char *c = key; *c; c++)
                if (isalnum((unsigned char) *c) || *c == '.' || *c == '_' || *c == '-')
                        g_string_append_c(s, *c);
                else
                        g_string_append_printf(s, "%%%02X", (unsigned char) *c);
        if (s->len > 200) {
                char d[IMAGE_DIGEST_LEN + 1];
                image_sha256_digest(key, strlen(key), d);
                g_string_assign(s, d + strlen("sha256:"));
        }
        if (asprintf(&path, "%s/%s/%s", cache, subdir, s->str) < 0)
                path = NULL;
        g_string_free(s, TRUE);
        return path;
}

char *image_cache_ref_path(const char *cache, const char *reference) {
        return image_cache_index_path(cache ?: IMAGE_DEFAULT_CACHE_DIR, "refs", reference);
}

char *image_cache_origin_path(const char *cache, const char *registry, const char *repository, const char *digest) {
        _cleanup_free_ char *key = NULL;

        if (asprintf(&key, "%s/%s@%s", registry, repository, digest) < 0)
                return NULL;
        return image_cache_index_path(cache, "origins", key);
}

int image_cache_origin_store(const char *cache, const char *registry, const char *repository, const char *digest) {
        _cleanup_free_ char *path = image_cache_origin_path(cache, registry, repository, digest), *line = NULL;

        if (!path || asprintf(&line, "%s\n", digest) < 0)
                return -ENOMEM;
        return image_write_atomic(path, line, strlen(line), 0600);
}

bool image_cache_origin_known(const char *cache, const char *registry, const char *repository, const char *digest) {
        _cleanup_free_ char *path = image_cache_origin_path(cache, registry, repository, digest);
        return path && access(path, F_OK) >= 0;
}

/* The digest an index file (refs/, origins/) holds, or NULL. */
static char *index_file_digest(const char *path) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;

        if (read_full_file(path, 256, &data, &size) < 0)
                return NULL;
        data[strcspn(data, "\n")] = '\0';
        return image_digest_valid(data) ? TAKE_PTR(data) : NULL;
}

static char *unescape(const char *name) {
        GString *s = g_string_new(NULL);

        for (const char *c = name; *c; c++) {
                unsigned v;
                if (*c == '%' && sscanf(c + 1, "%2X", &v) == 1) {
                        g_string_append_c(s, (char) v);
                        c += 2;
                } else
                        g_string_append_c(s, *c);
        }
        return g_string_free(s, FALSE);
}

static bool is_signature_ref(const char *ref) {
        return g_str_has_suffix(ref, ".sig") && strstr(ref, ":sha256-");
}

int image_cache_list(const char *cache_dir, char ***ret) {
        _cleanup_free_ char *dir = NULL;
        GPtrArray *out = g_ptr_array_new();
        struct dirent *de;
        DIR *d;

        if (asprintf(&dir, "%s/refs", cache_dir ?: IMAGE_DEFAULT_CACHE_DIR) < 0)
                return -ENOMEM;
        d = opendir(dir);
        while (d && (de = readdir(d))) {
                _cleanup_free_ char *path = NULL, *digest = NULL;
                char *ref;

                /* names longer than a file name are hashed and cannot be turned back: not listed */
                if (de->d_name[0] == '.' || !strchr(de->d_name, '%'))
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0 || !(digest = index_file_digest(path)))
                        continue;
                ref = unescape(de->d_name);
                /* cosign's signature artifacts are cached with their images, not images of their own */
                if (is_signature_ref(ref)) {
                        g_free(ref);
                        continue;
                }
                g_ptr_array_add(out, ref);
                g_ptr_array_add(out, g_strdup(digest));
        }
        if (d)
                closedir(d);
        g_ptr_array_add(out, NULL);
        *ret = (char **) g_ptr_array_free(out, FALSE);
        return 0;
}

/* Forgets one reference and the signature cached with it. */
static int forget_ref(const char *cache, const ImageRef *ref, const char *canonical) {
        _cleanup_free_ char *path = image_cache_index_path(cache, "refs", canonical), *digest = NULL;

        if (!path)
                return -ENOMEM;
        digest = index_file_digest(path);
        if (digest) {
                _cleanup_free_ char *sig = NULL, *sig_path = NULL;
                if (asprintf(&sig, "%s/%s:sha256-%s.sig", ref->registry, ref->repository, digest + strlen("sha256:")) >= 0 &&
                    (sig_path = image_cache_index_path(cache, "refs", sig)))
                        (void) unlink(sig_path);
        }
        return unlink(path) < 0 ? -errno : 0;
}

int image_cache_remove(const char *cache_dir, const char *reference) {
        _cleanup_image_ref_ ImageRef *ref = NULL;
        _cleanup_free_ char *canonical = NULL;
        const char *cache = cache_dir ?: IMAGE_DEFAULT_CACHE_DIR;
        int r;

        r = image_ref_parse(reference, &ref);
        if (r < 0)
                return r;
        canonical = image_ref_to_string(ref);
        if (!canonical)
                return -ENOMEM;
        r = forget_ref(cache, ref, canonical);
        if (r < 0)
                return r;
        /* What only this reference needed goes with it: image rm frees the space. */
        return image_cache_collect(cache, 0, NULL, NULL, NULL);
}

/* ---- mark and sweep ---- */

static void mark_digest(GHashTable *live, const char *digest) {
        if (image_digest_valid(digest))
                g_hash_table_add(live, g_strdup(digest + strlen("sha256:")));
}

/* Marks a manifest and what it names (an index's manifests, one level; configs and layers). */
static void mark_manifest(const char *cache, GHashTable *live, const char *digest, unsigned depth) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonNode *root;
        JsonObject *m;
        size_t size = 0;

        if (!image_digest_valid(digest))
                return;
        mark_digest(live, digest);
        if (asprintf(&path, "%s/blobs/sha256/%s", cache, digest + strlen("sha256:")) < 0 ||
            read_full_file(path, MAX_MANIFEST_SIZE, &data, &size) < 0 ||
            !json_parser_load_from_data(parser, data, (gssize) size, NULL) || !(root = json_parser_get_root(parser)) ||
            !JSON_NODE_HOLDS_OBJECT(root))
                return;
        m = json_node_get_object(root);
        if (json_object_has_member(m, "config") && JSON_NODE_HOLDS_OBJECT(json_object_get_member(m, "config")))
                mark_digest(live, json_object_get_string_member_with_default(json_object_get_object_member(m, "config"),
                                                                             "digest", NULL));
        for (const char *const *key = (const char *const[]) { "layers", "manifests", NULL }; *key; key++) {
                JsonArray *a = json_object_has_member(m, *key) && JSON_NODE_HOLDS_ARRAY(json_object_get_member(m, *key))
                        ? json_object_get_array_member(m, *key) : NULL;
                for (guint i = 0; a && i < json_array_get_length(a); i++) {
                        JsonNode *e = json_array_get_element(a, i);
                        const char *d = JSON_NODE_HOLDS_OBJECT(e)
                                ? json_object_get_string_member_with_default(json_node_get_object(e), "digest", NULL)
                                : NULL;
                        if (streq(*key, "manifests") && depth == 0)
                                mark_manifest(cache, live, d, depth + 1);
                        else
                                mark_digest(live, d);
                }
        }
}

/* Deletes the files of CACHE/SUBDIR whose key (file name up to SUFFIX, or the digest the file holds) is not
 * live; returns the bytes of those kept. */
static uint64_t sweep(const char *cache, const char *subdir, const char *suffix, bool by_content, GHashTable *live) {
        _cleanup_free_ char *dir = NULL;
        uint64_t kept = 0;
        struct dirent *de;
        DIR *d;

        if (asprintf(&dir, "%s/%s", cache, subdir) < 0 || !(d = opendir(dir)))
                return 0;
        while ((de = readdir(d))) {
                _cleanup_free_ char *key = NULL, *path = NULL, *digest = NULL;
                struct stat st;

                if (de->d_name[0] == '.' || asprintf(&path, "%s/%s", dir, de->d_name) < 0 || lstat(path, &st) < 0 ||
                    !S_ISREG(st.st_mode))
                        continue;
                if (by_content) {
                        digest = index_file_digest(path);
                        key = digest ? strdup(digest + strlen("sha256:")) : NULL;
                } else if (!suffix)
                        key = strdup(de->d_name);
                else if (g_str_has_suffix(de->d_name, suffix))
                        key = strndup(de->d_name, strlen(de->d_name) - strlen(suffix));
                if (key && g_hash_table_contains(live, key)) {
                        kept += (uint64_t) st.st_size;
                        continue;
                }
                (void) unlink(path);
        }
        closedir(d);
        return kept;
}

typedef struct RefFile {
        char *name;
        char *digest;
        struct timespec used;
} RefFile;

static int ref_file_cmp(const void *a, const void *b) {
        const RefFile *x = a, *y = b;
        if (x->used.tv_sec != y->used.tv_sec)
                return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
        if (x->used.tv_nsec != y->used.tv_nsec)
                return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
        return strcmp(x->name, y->name);
}

/* One mark-and-sweep; the references (images, not their signatures) oldest first in *ret_refs. */
static uint64_t collect_once(const char *cache, GArray **ret_refs) {
        g_autoptr(GHashTable) live = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        _cleanup_free_ char *refs_dir = NULL;
        GArray *refs = g_array_new(FALSE, TRUE, sizeof(RefFile));
        struct dirent *de;
        uint64_t bytes;
        DIR *d;

        if (asprintf(&refs_dir, "%s/refs", cache) >= 0 && (d = opendir(refs_dir))) {
                while ((de = readdir(d))) {
                        _cleanup_free_ char *path = NULL, *digest = NULL, *ref = NULL;
                        struct stat st;

                        if (de->d_name[0] == '.' || asprintf(&path, "%s/%s", refs_dir, de->d_name) < 0 ||
                            stat(path, &st) < 0 || !(digest = index_file_digest(path)))
                                continue;
                        mark_manifest(cache, live, digest, 0);
                        ref = unescape(de->d_name);
                        if (!is_signature_ref(ref)) {
                                RefFile f = { .name = strdup(de->d_name), .digest = TAKE_PTR(digest),
                                              .used = st.st_mtim };
                                g_array_append_val(refs, f);
                        }
                }
                closedir(d);
        }
        bytes = sweep(cache, "blobs/sha256", NULL, false, live);
        bytes += sweep(cache, "objects", ".o", false, live);
        (void) sweep(cache, "origins", NULL, true, live);
        g_array_sort(refs, ref_file_cmp);
        *ret_refs = refs;
        return bytes;
}

static void ref_files_free(GArray *refs) {
        for (guint i = 0; i < refs->len; i++) {
                free(g_array_index(refs, RefFile, i).name);
                free(g_array_index(refs, RefFile, i).digest);
        }
        g_array_free(refs, TRUE);
}

int image_cache_lock(const char *cache, bool exclusive) {
        _cleanup_free_ char *path = NULL;
        int fd;

        if (asprintf(&path, "%s/lock", cache) < 0)
                return -ENOMEM;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, exclusive ? LOCK_EX | LOCK_NB : LOCK_SH) < 0) {
                int r = -errno;
                close(fd);
                return r == -EWOULDBLOCK ? -EBUSY : r;
        }
        return fd;
}

int image_cache_collect(const char *cache, uint64_t max_bytes, const char *keep_ref, char *const *in_use,
                        uint64_t *ret_bytes) {
        _cleanup_free_ char *keep_name = NULL;
        _cleanup_close_ int lock = -1;
        uint64_t bytes;

        /* Not while a pull is writing blobs no reference names yet: the next pull or removal collects. */
        lock = image_cache_lock(cache, true);
        if (lock == -EBUSY)
                return 0;
        if (lock < 0)
                return lock;

        if (keep_ref) {
                _cleanup_free_ char *p = image_cache_index_path(cache, "refs", keep_ref);
                const char *slash = p ? strrchr(p, '/') : NULL;
                keep_name = slash ? strdup(slash + 1) : NULL;
        }
        for (;;) {
                GArray *refs = NULL;
                bool evicted = false;

                bytes = collect_once(cache, &refs);
                for (guint i = 0; max_bytes > 0 && bytes > max_bytes && i < refs->len && !evicted; i++) {
                        const char *name = g_array_index(refs, RefFile, i).name;
                        g_autofree char *ref_string = unescape(name);
                        _cleanup_image_ref_ ImageRef *ref = NULL;

                        if (streq_ptr(name, keep_name) || image_ref_parse(ref_string, &ref) < 0 ||
                            (in_use && g_strv_contains((const char *const *) in_use, g_array_index(refs, RefFile, i).digest)))
                                continue;
                        evicted = forget_ref(cache, ref, ref_string) >= 0;
                }
                ref_files_free(refs);
                if (!evicted)
                        break;
        }
        if (ret_bytes)
                *ret_bytes = bytes;
        return 0;
}
