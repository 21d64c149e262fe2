/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PullImage, ListImages, RemoveImage: the reference made canonical here, the rest in the request layer
 * (request/op-images.c). */
#include <assert.h>

#include "errors.h"
#include "manager-methods.h"
#include "op-images.h"
#include "utf8.h"

static int read_reference(sd_bus_message *msg, char **ret_ref, char **ret_registry, sd_bus_error *error) {
        const char *s;
        int r = sd_bus_message_read(msg, "s", &s);

        return r < 0 ? r : image_reference_canonical(s, ret_ref, ret_registry, error);
}

int method_pull_image(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *reference = NULL, *registry = NULL;
        const char *s, *policy;
        int p = 1, r;

        /* Both arguments are read before the reference is judged, as the call's signature orders them. */
        r = sd_bus_message_read(msg, "ss", &s, &policy);
        if (r < 0)
                return r;
        if (*policy && (p = pull_policy_from_string(policy)) < 0)
                return bpfd_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "Unknown pull policy '%.*s' (Always, IfNotPresent or Never).", UTF8_CUT(policy, 32));
        r = image_reference_canonical(s, &reference, &registry, error);
        if (r < 0)
                return r;
        return request_pull_image(userdata, msg, TAKE_PTR(reference), TAKE_PTR(registry), p);
}

int method_remove_image(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *reference = NULL, *registry = NULL;
        int r = read_reference(msg, &reference, &registry, error);

        if (r < 0)
                return r;
        return request_remove_image(userdata, msg, TAKE_PTR(reference), TAKE_PTR(registry));
}

/* Listing is open to everybody. */
int method_list_images(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return request_list_images(userdata, msg);
}
