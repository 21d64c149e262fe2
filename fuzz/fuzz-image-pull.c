/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A whole image pull (image_pull(), pull policy Never) from a cache the input fills: the top manifest (or
 * index), the image config and the layer, each stored under its sha256 as the registry would have served
 * it. The manifest's "@CONFIG@" and "@LAYER@" become the digests of the other two parts, so the fuzzer
 * reaches the config's labels and the layer's tar through the manifest checks of pull_run(). The parts are
 * separated by a line "--8<--". No network: under Never nothing else is asked. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "image.h"
#include "image-util.h"

#define SEP "\n--8<--\n"
#define REF "fuzz.example/bpfd/image:t"

static char cache[64];

static void write_blob(const char *data, size_t size, char digest[static IMAGE_DIGEST_LEN + 1]) {
        char path[256];

        image_sha256_digest(data, size, digest);
        snprintf(path, sizeof(path), "%s/blobs/sha256/%s", cache, digest + strlen("sha256:"));
        if (image_write_atomic(path, data, size, 0644) < 0)
                abort();
}

static void cleanup_cache(void) {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache);
        (void) !system(cmd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const ImagePullOptions opts = { .policy = IMAGE_PULL_NEVER, .cache_dir = cache,
                                        .config_path = "/nonexistent/registries.conf",
                                        .auth_path = "/nonexistent/auth.json" };
        char config_digest[IMAGE_DIGEST_LEN + 1], layer_digest[IMAGE_DIGEST_LEN + 1];
        char top_digest[IMAGE_DIGEST_LEN + 1], path[512];
        const char *parts[3] = {}, *text = (const char *) data, *end = text + size;
        size_t lens[3] = {};
        ImageResult *res = NULL;
        char *err = NULL, *line;
        GString *manifest;

        if (!cache[0]) {
                char dir[128];

                snprintf(cache, sizeof(cache), "/tmp/fuzz-image-pull-%d", (int) getpid());
                atexit(cleanup_cache);
                snprintf(dir, sizeof(dir), "%s/blobs/sha256", cache);
                if (image_mkdir_p(dir, 0700) < 0)
                        abort();
                snprintf(dir, sizeof(dir), "%s/refs", cache);
                if (image_mkdir_p(dir, 0700) < 0)
                        abort();
        }
        /* split into up to three parts (memmem: the input may hold NULs) */
        for (size_t i = 0; i < 3; i++) {
                const char *sep = i < 2 ? memmem(text, (size_t) (end - text), SEP, strlen(SEP)) : NULL;
                parts[i] = text;
                lens[i] = (size_t) ((sep ?: end) - text);
                if (!sep)
                        break;
                text = sep + strlen(SEP);
        }
        write_blob(parts[1] ?: "", lens[1], config_digest);
        write_blob(parts[2] ?: "", lens[2], layer_digest);

        manifest = g_string_new_len(parts[0], (gssize) lens[0]);
        (void) g_string_replace(manifest, "@CONFIG@", config_digest, 0);
        (void) g_string_replace(manifest, "@LAYER@", layer_digest, 0);
        write_blob(manifest->str, manifest->len, top_digest);
        g_string_free(manifest, TRUE);

        snprintf(path, sizeof(path), "%s/refs/fuzz.example%%2Fbpfd%%2Fimage%%3At", cache);
        if (asprintf(&line, "%s\n", top_digest) < 0 || image_write_atomic(path, line, strlen(line), 0644) < 0)
                abort();
        free(line);

        if (image_pull(REF, &opts, &res, &err) >= 0) {
                if (getenv("FUZZ_VERBOSE"))
                        fprintf(stderr, "pulled %s: %zu program(s)\n", res->object_filename ?: "?", res->n_programs);
                image_result_free(res);
        } else if (getenv("FUZZ_VERBOSE"))
                fprintf(stderr, "error: %s\n", err ?: "?");
        free(err);
        return 0;
}
