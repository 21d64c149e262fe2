/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>

#include "authorize.h"
#include "polkit.h"
#include "util.h"

/* The chain's state while it runs (a question out, or about to be asked). */
struct Asking {
        Authorization *a;
        sd_bus *bus;
        sd_bus_message *msg;
        authorization_done_t done;
        void *userdata;
};

static void asking_free(Asking *q) {
        if (!q)
                return;
        sd_bus_message_unref(q->msg);
        free(q);
}

void authorization_init(Authorization *a) {
        assert(a);
        *a = (Authorization) { .checks = g_ptr_array_new_with_free_func((GDestroyNotify) strv_free) };
}

void authorization_done(Authorization *a) {
        assert(a);
        a->slot = sd_bus_slot_unref(a->slot); /* no answer comes for a question still out */
        asking_free(TAKE_PTR(a->asking));
        if (a->checks)
                g_ptr_array_unref(a->checks);
        a->checks = NULL;
}

void authorization_add(Authorization *a, const CheckSpec *spec, const char *extra_key, const char *extra_value) {
        char **c = polkit_details_new(spec), **more;
        size_t n = strv_length(c);

        assert(a && a->checks);
        assert(!extra_key == !extra_value);
        if (!c) {
                a->incomplete = true;
                return;
        }
        if (extra_key) {
                more = reallocarray(c, n + 3, sizeof(char *));
                if (!more) {
                        strv_free(c);
                        a->incomplete = true;
                        return;
                }
                c = more;
                c[n] = strdup(extra_key);
                c[n + 1] = strdup(extra_value);
                c[n + 2] = NULL;
                if (!c[n] || !c[n + 1])
                        a->incomplete = true;
        }
        g_ptr_array_add(a->checks, c);
}

size_t authorization_count(const Authorization *a) {
        return a->checks ? a->checks->len : 0;
}

static void ask_next(Asking *q);

static void finish(Asking *q, AuthorizationResult result, int authorized, const sd_bus_error *error, char **check) {
        authorization_done_t done = q->done;
        void *userdata = q->userdata;

        /* done may free the request that holds the Authorization, or run it again: nothing of q after it. */
        assert(q->a->asking == q);
        q->a->slot = sd_bus_slot_unref(q->a->slot);
        q->a->asking = NULL;
        asking_free(q);
        done(userdata, result, authorized, error, check);
}

static void on_polkit_answer(int authorized, const sd_bus_error *error, void *userdata) {
        Asking *q = userdata;
        Authorization *a = q->a;
        char **check = g_ptr_array_index(a->checks, a->next_check);

        if (authorized > 0) {
                a->next_check++;
                ask_next(q);
                return;
        }
        finish(q, AUTHORIZATION_REFUSED, authorized, error, check);
}

static void ask_next(Asking *q) {
        Authorization *a = q->a;
        sd_bus_slot *slot = NULL;
        char **check;
        int r;

        if (a->incomplete)
                return finish(q, AUTHORIZATION_INCOMPLETE, 0, NULL, NULL);
        if (a->next_check >= a->checks->len)
                return finish(q, AUTHORIZATION_YES, 1, NULL, NULL);
        check = g_ptr_array_index(a->checks, a->next_check);
        r = polkit_check_async(q->bus, q->msg, check[0], check + 1, on_polkit_answer, q, &slot);
        if (r < 0)
                return finish(q, AUTHORIZATION_CANNOT_ASK, r, NULL, check);
        /* One slot per question: the previous one is answered. */
        sd_bus_slot_unref(a->slot);
        a->slot = slot;
}

void authorization_run(Authorization *a, sd_bus *bus, sd_bus_message *msg, bool ask, authorization_done_t done,
                       void *userdata) {
        Asking *q;

        assert(a && a->checks && done);
        assert(!a->slot && !a->asking); /* one run at a time */
        if (a->incomplete)
                return done(userdata, AUTHORIZATION_INCOMPLETE, 0, NULL, NULL);
        if (!ask || a->next_check >= a->checks->len) {
                a->next_check = a->checks->len;
                return done(userdata, AUTHORIZATION_YES, 1, NULL, NULL);
        }
        q = calloc(1, sizeof(Asking));
        if (!q)
                return done(userdata, AUTHORIZATION_CANNOT_ASK, -ENOMEM, NULL, g_ptr_array_index(a->checks, a->next_check));
        *q = (Asking) { .a = a, .bus = bus, .msg = sd_bus_message_ref(msg), .done = done, .userdata = userdata };
        a->asking = q;
        ask_next(q);
}
