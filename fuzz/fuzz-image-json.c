/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The JSON an image brings from a registry: the top manifest (an index or an image manifest), the image
 * config's labels, and a cosign signature manifest. The parsers are image.c's own (static) functions. */
#include "../service/image.c"

static int blob_from_input(void *userdata, const char *digest, size_t max, char **ret, size_t *ret_size,
                           char **err) {
        const GBytes *b = userdata;
        gsize n = 0;
        const void *d = g_bytes_get_data((GBytes *) b, &n);

        if (n > max)
                return -EFBIG;
        *ret = malloc(n + 1);
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, d, n);
        (*ret)[n] = '\0';
        *ret_size = n;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autoptr(JsonParser) parser = json_parser_new();
        char *err = NULL, *digest = NULL, *filename = NULL, *key = NULL;
        char *text = g_strndup((const char *) data, size);
        ImageResult *res = calloc(1, sizeof(ImageResult));
        Pull p = { .err = &err };
        JsonObject *m;
        GBytes *blob;
        char *keys[] = { NULL };

        m = parse_object(parser, text, size);
        if (m && is_index(m))
                (void) index_pick(&p, m, "sha256:0", &digest);
        free(digest);
        free(err), err = NULL;

        if (res)
                (void) parse_labels(&p, text, size, res, &filename);
        free(filename);
        image_result_free(res);
        free(err), err = NULL;

        /* As a signature manifest whose payload blob is the input again. */
        blob = g_bytes_new(data, size);
        (void) cosign_verify(text, size, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                             "127.0.0.1:5000", "bpfd/fuzz", keys, blob_from_input, blob, &key, &err);
        g_bytes_unref(blob);
        free(key), free(err);
        g_free(text);
        return 0;
}
