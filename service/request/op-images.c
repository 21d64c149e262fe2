/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Images: polkit first, then the puller (a process of its own, never the worker); LoadFromImage goes on to
 * the worker with what it pulled (op-load.c). */
#include <assert.h>
#include <stdio.h>

#include "bus-spec.h"
#include "bus-util.h"
#include "errors.h"
#include "image-ref.h"
#include "checks-request.h"
#include "request-internal.h"
#include "utf8.h"

int image_reference_canonical(const char *s, char **ret_ref, char **ret_registry, sd_bus_error *error) {
        _cleanup_image_ref_ ImageRef *ref = NULL;
        int r;

        assert(s && ret_ref && ret_registry);
        if (strlen(s) > BPFD_STRING_MAX || (r = image_ref_parse(s, &ref)) == -EINVAL)
                return bpfd_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "'%.*s' is not an image reference (registry[:port]/name[:tag] or "
                                         "registry[:port]/name@sha256:digest).", UTF8_CUT(s, 256));
        if (r < 0)
                return r;
        *ret_ref = image_ref_to_string(ref);
        *ret_registry = strdup(ref->registry);
        if (!*ret_ref || !*ret_registry) {
                *ret_ref = mfree(*ret_ref);
                *ret_registry = mfree(*ret_registry);
                return -ENOMEM;
        }
        return 0;
}

static void image_request_pulled(ImagePull *pull, const EngineError *error, char **lines, int object_fd,
                                 void *userdata);

void image_run_puller(Request *req) {
        static const char *const verbs[] = {
                [OP_LOAD] = "pull", [OP_PULL_IMAGE] = "pull", [OP_LIST_IMAGES] = "list", [OP_REMOVE_IMAGE] = "rm",
        };
        _cleanup_strv_free_ char **in_use = NULL;
        GHashTableIter it;
        ProgramInfo *p;
        int r = 0;

        assert(req->op < ELEMENTSOF(verbs) && verbs[req->op]);
        assert(!req->image_pull);
        assert(req->op == OP_LIST_IMAGES || req->load);
        /* What loaded programs came from is the last the cache gives up when it must. */
        g_hash_table_iter_init(&it, req->m->programs);
        while (r >= 0 && strv_length(in_use) < 1000 && g_hash_table_iter_next(&it, NULL, (gpointer *) &p))
                if (p->image_digest && *p->image_digest && !strv_contains(in_use, p->image_digest))
                        r = strv_push(&in_use, strdup(p->image_digest));
        if (r >= 0)
                r = image_pull_start(req->m->event, verbs[req->op], req->load ? req->load->image_ref : NULL,
                                     IN_SET2(req->op, OP_REMOVE_IMAGE, OP_LIST_IMAGES) ? -1 : req->load->pull_policy,
                                     in_use, image_request_pulled, req, &req->image_pull);
        if (r < 0)
                request_failf(req, BPFD_ERR_FAILED, "Cannot ask the image puller: %s",
                              r == -ENOTCONN ? "it is not running" : strerror(-r));
}

static int reply_pulled(Request *req) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **programs = NULL;
        int r;

        for (char **l = req->pulled; l && *l; l++)
                if (strncmp(*l, "program ", 8) == 0 && strv_push(&programs, strndup(*l + 8, strcspn(*l + 8, " "))) < 0)
                        return -ENOMEM;
        r = sd_bus_message_new_method_return(req->msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = bus_append_dict_entry(reply, "reference", "s", strempty(image_pull_value(req->pulled, "reference")));
        if (r >= 0)
                r = bus_append_dict_entry(reply, "digest", "s", strempty(image_pull_value(req->pulled, "digest")));
        if (r >= 0)
                r = bus_append_dict_entry(reply, "object_filename", "s",
                                          strempty(image_pull_value(req->pulled, "filename")));
        if (r >= 0)
                r = bus_append_dict_entry(reply, "from_cache", "b",
                                          streq_ptr(image_pull_value(req->pulled, "source"), "cache"));
        if (r >= 0)
                r = bus_append_dict_entry(reply, "signed", "b", image_pull_value(req->pulled, "signed") != NULL);
        if (r >= 0) {
                r = sd_bus_message_open_container(reply, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", "programs");
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, programs ?: (char *[]) { NULL });
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int reply_list(Request *req) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(req->msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (char **l = req->pulled; r >= 0 && l && *l; l++) {
                g_auto(GStrv) f = g_strsplit(*l, " ", 3);
                if (g_strv_length(f) != 3 || !streq(f[0], "image"))
                        continue;
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "reference", "s", f[1]);
                if (r >= 0)
                        r = bus_append_dict_entry(reply, "digest", "s", f[2]);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int reply_removed(Request *req) {
        return sd_bus_reply_method_return(req->msg, NULL);
}

static void image_request_pulled(ImagePull *pull, const EngineError *error, char **lines, int object_fd,
                                 void *userdata) {
        _cleanup_close_ int fd = object_fd;
        Request *req = userdata;
        int r;

        req->image_pull = image_pull_free(req->image_pull);
        if (error)
                return request_failf(req, error->code, "Image '%s': %s", req->load ? req->load->image_ref : "",
                                     strempty(error->message));
        req->pulled = strv_copy(lines);
        if (!req->pulled)
                return request_failf(req, BPFD_ERR_FAILED, "Out of memory.");
        if (IN_SET2(req->op, OP_PULL_IMAGE, OP_LOAD))
                manager_specs_image_pulled(req->m); /* specs waiting for an image: it may be cached now */
        if (req->op != OP_LOAD)
                return request_reply(req);
        r = image_load_pulled(req, TAKE_FD(fd));
        if (r < 0 || engine_error_is_set(&req->error)) {
                if (!engine_error_is_set(&req->error))
                        (void) engine_error_set_errnof(&req->error, r, "Cannot load the image: %m");
                return request_fail_engine(req, &req->error);
        }
        request_submit(req);
}

const OperationDesc op_pull_image = {
        .name = "pull-image",
        .needs_caller = true,
        .checks = checks_image,
        .commit_async = image_run_puller,
        .reply = reply_pulled,
};

const OperationDesc op_remove_image = {
        .name = "remove-image",
        .needs_caller = true,
        .checks = checks_image,
        .commit_async = image_run_puller,
        .reply = reply_removed,
};

/* Listing is open to everybody. */
const OperationDesc op_list_images = {
        .name = "list-images",
        .commit_async = image_run_puller,
        .reply = reply_list,
};

/* Pull and remove carry the reference in a LoadRequest, whose image details polkit sees as for loads. */
static int image_request(Manager *m, sd_bus_message *msg, Operation op, char *reference, char *registry,
                         int pull_policy) {
        _cleanup_free_ char *ref = reference, *reg = registry;
        Request *req = request_new(m, msg, op);

        if (!req)
                return -ENOMEM;
        if (op != OP_LIST_IMAGES) {
                assert(reference && registry);
                req->load = load_request_new();
                if (!req->load) {
                        request_free(req);
                        return -ENOMEM;
                }
                req->load->image_ref = TAKE_PTR(ref);
                req->load->image_registry = TAKE_PTR(reg);
                req->load->pull_policy = pull_policy;
        }
        return request_start(req);
}

int request_pull_image(Manager *m, sd_bus_message *msg, char *reference, char *registry, int pull_policy) {
        return image_request(m, msg, OP_PULL_IMAGE, reference, registry, pull_policy);
}

int request_remove_image(Manager *m, sd_bus_message *msg, char *reference, char *registry) {
        return image_request(m, msg, OP_REMOVE_IMAGE, reference, registry, 1);
}

int request_list_images(Manager *m, sd_bus_message *msg) {
        return image_request(m, msg, OP_LIST_IMAGES, NULL, NULL, -1);
}
