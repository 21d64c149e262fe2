/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Authorization fails closed: when any allocation made while putting a polkit question together fails, the
 * chain refuses when it runs (AUTHORIZATION_INCOMPLETE), for every caller, root included, and never goes on
 * with a question fewer. Allocations are failed one at a time, the 1st, the 2nd, ... until none is left
 * (the linker's --wrap puts the failing allocators below authorize.c and polkit-details.c only). */
#include <errno.h>
#include <stdarg.h>

#include "authorize.h"
#include "unit.h"

static int calls, fail_at = -1, failed;

static bool fail_now(void) {
        if (calls++ == fail_at) {
                failed++;
                errno = ENOMEM;
                return true;
        }
        return false;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_reallocarray(void *p, size_t n, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **ret, const char *fmt, va_list ap);

void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return fail_now() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return fail_now() ? NULL : __real_realloc(p, n); }
void *__wrap_reallocarray(void *p, size_t n, size_t size) { return fail_now() ? NULL : __real_reallocarray(p, n, size); }
char *__wrap_strdup(const char *s) { return fail_now() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return fail_now() ? NULL : __real_strndup(s, n); }
int __wrap_vasprintf(char **ret, const char *fmt, va_list ap) {
        if (fail_now()) {
                *ret = NULL;
                return -1;
        }
        return __real_vasprintf(ret, fmt, ap);
}
int __wrap_asprintf(char **ret, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = __wrap_vasprintf(ret, fmt, ap);
        va_end(ap);
        return r;
}

/* polkit-details.c names cgroup attach types through the kernel layer's table; its XDP questions here need
 * none, and linking the kernel layer would bring libbpf's attach code along. */
const char *cgroup_attach_type_to_string(int type) {
        return "";
}

static void on_done(void *userdata, AuthorizationResult result, int authorized, const sd_bus_error *error,
                    char **check) {
        *(int *) userdata = (int) result;
}

/* A load that attaches an XDP program in a named namespace with a spec's extra detail: every kind of detail
 * (strings, numbers, the target's description, the agent's message, the extra key) is allocated. */
static int run_chain(bool ask, int fail, size_t *ret_questions) {
        AttachTarget target = { .kind = KIND_XDP, .interface = (char *) "eth1", .netns = (char *) "/run/netns/blue",
                                .priority = 60, .has_priority = true };
        CheckSpec load = { .action = "org.bpfd.load", .operation = "load", .kind = KIND_XDP, .program_name = "xdp_count",
                           .target = &target, .owner_uid = 1000 };
        CheckSpec attach = load;
        Authorization a;
        int result = -1;

        attach.action = "org.bpfd.attach";
        attach.operation = "attach";
        authorization_init(&a);
        calls = 0, fail_at = fail, failed = 0;
        authorization_add(&a, &load, NULL, NULL);
        authorization_add(&a, &attach, "spec", "web");
        fail_at = -1;
        *ret_questions = authorization_count(&a);
        /* Without asking anybody (root, bpfd's own jobs) unless something must be refused: no bus is needed. */
        authorization_run(&a, NULL, NULL, ask, on_done, &result);
        authorization_done(&a);
        return result;
}

TEST(every_allocation_failure_refuses) {
        size_t questions;
        int k;

        for (k = 0;; k++) {
                int result = run_chain(false, k, &questions);
                if (!failed) {
                        CHECK_INT(result, AUTHORIZATION_YES);
                        CHECK_INT(questions, 2);
                        break;
                }
                CHECK_MSG(result == AUTHORIZATION_INCOMPLETE,
                          "allocation %d of the questions failed, and the chain answered %d, not INCOMPLETE", k, result);
                CHECK_MSG(k < 10000, "the questions never stop allocating");
        }
        CHECK_MSG(k >= 10, "only %d allocations were failed: the questions were not built through the wrapped "
                  "allocators", k);
}

TEST(a_failure_refuses_before_anybody_is_asked) {
        size_t questions;

        /* With ask true and no bus: only a refusal before asking can end without touching the bus. */
        for (int k = 0; k < 3; k++)
                CHECK_INT(run_chain(true, k, &questions), AUTHORIZATION_INCOMPLETE);
}
