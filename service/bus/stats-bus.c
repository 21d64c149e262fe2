/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bus side of statistics: the trampoline that measures every org.bpfd method call, GetRequestStatistics,
 * and SetStatsEnabled (polkit action org.bpfd.stats; the worker opens or closes the BPF_ENABLE_STATS
 * descriptor). */
#include <stdio.h>

#include "bus-util.h"
#include "errors.h"
#include "log.h"
#include "manager.h"
#include "shutdown.h"
#include "polkit.h"
#include "stats-table.h"
#include "utf8.h"

typedef struct WrappedMethod {
        sd_bus_message_handler_t handler;
        const char *name; /* "Manager.LoadFromFd" (interned) */
        const char *signature;
} WrappedMethod;

typedef struct CurrentCall {
        const WrappedMethod *method;
        uint64_t start_usec;
        bool deferred;
} CurrentCall;

static GHashTable *methods; /* "interface\nmember" → WrappedMethod* */
static CurrentCall *current;

static const WrappedMethod *method_of(sd_bus_message *msg) {
        const char *interface = sd_bus_message_get_interface(msg), *member = sd_bus_message_get_member(msg);
        _cleanup_free_ char *key = NULL;

        if (!methods || !interface || !member || asprintf(&key, "%s\n%s", interface, member) < 0)
                return NULL;
        return g_hash_table_lookup(methods, key);
}

static const char *result_of(int r, const sd_bus_error *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        if (r >= 0)
                return NULL;
        if (sd_bus_error_is_set(error))
                return g_intern_string(error->name);
        /* sd-bus turns a bare errno into one of its standard error names; count it under that name. */
        (void) sd_bus_error_set_errno(&e, r);
        return g_intern_string(e.name ?: BPFD_ERROR_FAILED);
}

static int trampoline(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const WrappedMethod *w = method_of(msg);
        CurrentCall call, *outer = current;
        int r;

        /* sd-bus dispatches only calls that name the interface, and every method of these vtables is in the
         * table; still, never trust the bus to keep that so. */
        if (!w)
                return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_METHOD, "Unknown method.");
        call = (CurrentCall) { .method = w, .start_usec = stats_now_usec() };
        current = &call;
        r = w->handler(msg, userdata, error);
        current = outer;
        if (!call.deferred)
                stats_record(w->name, result_of(r, error), stats_now_usec() - call.start_usec);
        return r;
}

static GPtrArray *wrapped_vtables;

const sd_bus_vtable *stats_wrap_vtable(const char *interface, const sd_bus_vtable *vtable) {
        const char *short_name = strncmp(interface, "org.bpfd.", 9) == 0 ? interface + 9 : interface;
        sd_bus_vtable *copy;
        size_t n = 0;

        while (vtable[n].type != _SD_BUS_VTABLE_END)
                n++;
        copy = calloc(n + 1, sizeof(sd_bus_vtable));
        if (!copy)
                return vtable; /* unmeasured rather than not served */
        /* The bus keeps using the table for bpfd's lifetime; kept here so it stays reachable. */
        if (!wrapped_vtables)
                wrapped_vtables = g_ptr_array_new_with_free_func(free);
        g_ptr_array_add(wrapped_vtables, copy);
        memcpy(copy, vtable, (n + 1) * sizeof(sd_bus_vtable));
        if (!methods)
                methods = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
        for (size_t i = 0; i < n; i++) {
                WrappedMethod *w;
                char *key = NULL, *name = NULL;

                if (copy[i].type != _SD_BUS_VTABLE_METHOD || !copy[i].x.method.handler)
                        continue;
                w = calloc(1, sizeof(WrappedMethod));
                if (!w || asprintf(&key, "%s\n%s", interface, copy[i].x.method.member) < 0 ||
                    asprintf(&name, "%s.%s", short_name, copy[i].x.method.member) < 0) {
                        free(w);
                        free(key);
                        continue;
                }
                *w = (WrappedMethod) { .handler = copy[i].x.method.handler, .name = g_intern_string(name) };
                free(name);
                g_hash_table_replace(methods, key, w);
                copy[i].x.method.handler = trampoline;
        }
        return copy;
}

StatsToken stats_defer(void) {
        if (!current || current->deferred)
                return (StatsToken) {};
        current->deferred = true;
        return (StatsToken) { .method = current->method->name, .start_usec = current->start_usec };
}

void stats_abandon(StatsToken *t) {
        if (!t->method)
                return;
        if (current && current->deferred && current->method->name == t->method &&
            current->start_usec == t->start_usec) {
                current->deferred = false;
                t->method = NULL;
                return;
        }
        stats_finish(t, BPFD_ERROR_FAILED);
}

/* ---- GetRequestStatistics ---- */

static int cmp_counter(gconstpointer a, gconstpointer b) {
        const RequestCounter *x = *(RequestCounter *const *) a, *y = *(RequestCounter *const *) b;
        int c = strcmp(x->method, y->method);
        return c ?: strcmp(x->result, y->result);
}

int stats_method_get_request_statistics(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        g_autoptr(GPtrArray) list = g_ptr_array_new();
        GHashTable *t = stats_table();
        GHashTableIter it;
        gpointer v;
        int r;

        if (t) {
                g_hash_table_iter_init(&it, t);
                while (g_hash_table_iter_next(&it, NULL, &v))
                        g_ptr_array_add(list, v);
        }
        g_ptr_array_sort(list, cmp_counter);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssttat)");
        for (guint i = 0; r >= 0 && i < list->len; i++) {
                const RequestCounter *c = g_ptr_array_index(list, i);
                r = sd_bus_message_open_container(reply, 'r', "ssttat");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "sstt", c->method, c->result, c->count, c->total_usec);
                if (r >= 0)
                        r = sd_bus_message_append_array(reply, 't', c->buckets, sizeof c->buckets);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 't', stats_bucket_bounds_usec,
                                                STATS_N_BUCKETS * sizeof(uint64_t));
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

/* ---- SetStatsEnabled ---- */

typedef struct StatsSwitch {
        Job job;
        Manager *m;
        sd_bus_message *msg;
        sd_bus_slot *slot;
        StatsToken token;
        bool on;
        int r;
} StatsSwitch;

static void stats_switch_free(StatsSwitch *s) {
        Manager *m = s->m;

        if (s->token.method)
                stats_finish(&s->token, BPFD_ERROR_FAILED);
        sd_bus_slot_unref(s->slot);
        sd_bus_message_unref(s->msg);
        free(s);
        m->requests_in_flight--;
        manager_note_activity(m);
}

static void stats_switch_fail(StatsSwitch *s, const char *name, const char *fmt, const char *arg) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        (void) sd_bus_error_setf(&e, name, fmt, arg);
        stats_finish(&s->token, name);
        (void) bpfd_reply_error(s->msg, &e);
        stats_switch_free(s);
}

static void stats_switch_run(Job *j, Engine *e) {
        StatsSwitch *s = (StatsSwitch *) j;
        s->r = stats_kernel_set(s->on);
}

static void stats_switch_done(Job *j) {
        StatsSwitch *s = (StatsSwitch *) j;

        if (s->r < 0)
                return stats_switch_fail(s, s->r == -EPERM || s->r == -EACCES ? BPFD_ERROR_PERMISSION_DENIED
                                                                               : BPFD_ERROR_FAILED,
                                         "The kernel did not turn BPF run statistics on: %s", strerror(-s->r));
        log_info("BPF run statistics are %s.", s->on ? "on while bpfd holds them" : "no longer held by bpfd");
        stats_finish(&s->token, NULL);
        (void) sd_bus_reply_method_return(s->msg, NULL);
        stats_switch_free(s);
}

static void on_stats_authorized(int authorized, const sd_bus_error *error, void *userdata) {
        StatsSwitch *s = userdata;

        s->slot = sd_bus_slot_unref(s->slot);
        if (authorized <= 0)
                return stats_switch_fail(s, BPFD_ERROR_PERMISSION_DENIED,
                                         "This user is not allowed to turn BPF run statistics on or off (polkit "
                                         "action org.bpfd.stats%s).",
                                         error ? "; polkit did not answer" : "");
        worker_submit(s->m->worker, &s->job);
}

int stats_method_set_stats_enabled(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        StatsSwitch *s;
        int on, r;

        r = sd_bus_message_read(msg, "b", &on);
        if (r < 0)
                return r;
        s = calloc(1, sizeof(StatsSwitch));
        if (!s)
                return -ENOMEM;
        *s = (StatsSwitch) { .job = { .run = stats_switch_run, .done = stats_switch_done }, .m = m,
                             .msg = sd_bus_message_ref(msg), .on = on };
        m->requests_in_flight++;
        /* polkit decides for everybody (it always allows root itself); the subject is the caller's bus name. */
        r = polkit_check_async(m->bus, msg, "org.bpfd.stats",
                               (char *[]) { (char *) "operation", (char *) (on ? "enable" : "disable"), NULL },
                               on_stats_authorized, s, &s->slot);
        if (r < 0) {
                stats_switch_free(s);
                return sd_bus_error_setf(error, BPFD_ERROR_FAILED, "Cannot ask polkit: %s", strerror(-r));
        }
        s->token = stats_defer();
        return 1;
}
