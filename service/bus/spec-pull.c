/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The [Object]s of an apply that come from images, between the plan and their inspection, as LoadFromImage
 * goes: polkit's org.bpfd.load-image with operation "pull" for each image (the caller's apply; root's spec
 * directory and retries of what polkit allowed ask nothing) before any registry or the cache is touched,
 * then the puller (image-puller.h) on the event loop, image after image, each with its object's pull
 * policy; the worker never waits for a registry. The sealed memfds go with the job to the worker, which
 * inspects them (spec_inspect_pulled()) and goes on as the job would have. A failed pull fails the apply as
 * a failed plan does: a spec root applied waits (Pending) for a registry not reachable yet, or for an image
 * with pull policy Never that is not cached (spec_plan_failed()). */
#include <assert.h>
#include <fcntl.h>

#include "bus-spec-internal.h"
#include "errors.h"
#include "image-puller.h"

static bool to_pull(const SpecApply *a, size_t i) {
        return a->loads[i] && a->loads[i]->image_ref && !a->loads[i]->obj;
}

static bool same_image(const LoadRequest *x, const LoadRequest *y) {
        return streq(x->image_ref, y->image_ref) && x->pull_policy == y->pull_policy;
}

static void pulls_done(SpecJob *j) {
        j->op = SPEC_OP_INSPECT;
        worker_submit(j->m->worker, &j->job);
}

/* What loaded programs came from is the last the cache gives up when it must (as for LoadFromImage). */
static char **digests_in_use(Manager *m) {
        char **in_use = NULL;
        GHashTableIter it;
        ProgramInfo *p;

        g_hash_table_iter_init(&it, m->programs);
        while (strv_length(in_use) < 1000 && g_hash_table_iter_next(&it, NULL, (gpointer *) &p))
                if (p->image_digest && *p->image_digest && !strv_contains(in_use, p->image_digest) &&
                    strv_push(&in_use, strdup(p->image_digest)) < 0)
                        break;
        return in_use;
}

static int pulled_copy(SpecPulled *to, const SpecPulled *from) {
        to->fd = fcntl(from->fd, F_DUPFD_CLOEXEC, 3);
        if (to->fd < 0)
                return -errno;
        to->reference = strdup(from->reference);
        to->digest = strdup(from->digest);
        if (!to->reference || !to->digest || (from->labels && !(to->labels = strv_copy(from->labels))))
                return -ENOMEM;
        return 0;
}

static void pull_next(SpecJob *j);

static void on_pulled(ImagePull *pull, const EngineError *error, char **lines, int object_fd, void *userdata) {
        _cleanup_close_ int fd = object_fd;
        SpecJob *j = userdata;
        SpecApply *a = j->a;
        size_t i = j->next_pull;
        SpecPulled *p = &a->pulled[i];
        const char *reference = image_pull_value(lines, "reference"), *digest = image_pull_value(lines, "digest");

        j->pull = image_pull_free(j->pull);
        if (error) {
                a->failed_pull = i + 1;
                (void) engine_error_setf(&a->error, error->code, "Image '%s' of [Object %s]: %s", a->loads[i]->image_ref,
                                       a->spec->objects[i].name, error->message);
                return pulls_done(j);
        }
        if (fd < 0 || !reference || !digest) {
                (void) engine_error_setf(&a->error, BPFD_ERR_FAILED, "The image puller gave no object for [Object %s].",
                                         a->spec->objects[i].name);
                return pulls_done(j);
        }
        p->fd = TAKE_FD(fd);
        p->reference = strdup(reference);
        p->digest = strdup(digest);
        if (!p->reference || !p->digest) {
                (void) engine_error_set_errnof(&a->error, ENOMEM, "%m");
                return pulls_done(j);
        }
        for (char **l = lines; l && *l; l++)
                if (strncmp(*l, "program ", 8) == 0 && strv_push(&p->labels, strndup(*l + 8, strcspn(*l + 8, " "))) < 0) {
                        (void) engine_error_set_errnof(&a->error, ENOMEM, "%m");
                        return pulls_done(j);
                }
        j->next_pull++;
        pull_next(j);
}

/* Pulls the image of the next [Object] that needs one; an image an earlier [Object] pulled with the same
 * policy is not pulled again. After the last: the worker. */
static void pull_next(SpecJob *j) {
        SpecApply *a = j->a;
        _cleanup_strv_free_ char **in_use = NULL;
        int r;

        for (; j->next_pull < a->spec_objects; j->next_pull++) {
                size_t i = j->next_pull, k;

                if (!to_pull(a, i))
                        continue;
                for (k = 0; k < i; k++)
                        if (a->pulled[k].fd >= 0 && to_pull(a, k) && same_image(a->loads[k], a->loads[i]))
                                break;
                if (k == i)
                        break;
                r = pulled_copy(&a->pulled[i], &a->pulled[k]);
                if (r < 0) {
                        (void) engine_error_set_errnof(&a->error, r, "Cannot keep the pulled object: %m");
                        return pulls_done(j);
                }
        }
        if (j->next_pull >= a->spec_objects)
                return pulls_done(j);
        in_use = digests_in_use(j->m);
        r = image_pull_start(j->m->event, "pull", a->loads[j->next_pull]->image_ref, a->loads[j->next_pull]->pull_policy,
                             in_use, on_pulled, j, &j->pull);
        if (r < 0) {
                (void) engine_error_setf(&a->error, BPFD_ERR_FAILED, "Cannot ask the image puller: %s",
                                         r == -ENOTCONN ? "it is not running" : strerror(-r));
                return pulls_done(j);
        }
}

void spec_job_pull(SpecJob *j) {
        SpecApply *a = j->a;

        assert(a->pulls_needed && a->spec_objects > 0);
        if (!a->pulled) {
                a->pulled = calloc(a->spec_objects, sizeof(SpecPulled));
                if (!a->pulled) {
                        (void) engine_error_set_errnof(&a->error, ENOMEM, "%m");
                        return pulls_done(j);
                }
                for (size_t i = 0; i < a->spec_objects; i++)
                        a->pulled[i].fd = -1;
        }
        j->next_pull = 0;
        /* May this caller have these images pulled? Once per image, before anything is pulled. */
        for (size_t i = 0; j->msg && a->caller.uid != 0 && i < a->spec_objects; i++) {
                bool asked = false;

                for (size_t k = 0; to_pull(a, i) && !asked && k < i; k++)
                        asked = to_pull(a, k) && streq(a->loads[k]->image_ref, a->loads[i]->image_ref);
                if (to_pull(a, i) && !asked)
                        spec_add_check(j, &(CheckSpec) { .action = "org.bpfd.load-image", .operation = "pull",
                                                         .kind = KIND_INVALID, .owner_uid = a->caller.uid,
                                                         .image = a->loads[i]->image_ref,
                                                         .registry = a->loads[i]->image_registry });
        }
        j->authorized = pull_next;
        spec_authorize_next(j);
}
