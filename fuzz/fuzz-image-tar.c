/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An image's layer (a tar, gzip'd or not) from a registry: finding and extracting the object file. */
#include <stdint.h>
#include <stdlib.h>

#include "image-tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *obj = NULL, *name = NULL, *err = NULL;
        size_t obj_size = 0;

        (void) image_layer_extract_object(data, size, NULL, &obj, &obj_size, &name, &err);
        free(obj), free(name), free(err);
        obj = name = err = NULL;
        (void) image_layer_extract_object(data, size, "prog.o", &obj, &obj_size, &name, &err);
        free(obj), free(name), free(err);
        return 0;
}
