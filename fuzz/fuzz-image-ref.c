/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image references, pull policies and digests as callers send them (LoadFromImage, PullImage). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "image-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ImageRef *ref = NULL;
        ImagePullPolicy policy;
        char *s = strndup((const char *) data, size);

        if (!s)
                return 0;
        if (image_ref_parse(s, &ref) >= 0) {
                char *again = image_ref_to_string(ref);
                ImageRef *ref2 = NULL;
                /* What bpfd prints it parses back to the same. */
                if (again && image_ref_parse(again, &ref2) < 0)
                        abort();
                image_ref_free(ref2);
                free(again);
                image_ref_free(ref);
        }
        (void) image_pull_policy_from_string(s, &policy);
        (void) image_digest_valid(s);
        free(s);
        return 0;
}
