/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>

#include "bus-caller.h"
#include "credentials.h"
#include "errors.h"
#include "manager.h"

typedef struct Acquiring {
        Manager *m;
        char *sender;
        Caller *caller;
        credentials_done_t done;
        void *userdata;
} Acquiring;

static void acquiring_free(void *p) {
        Acquiring *q = p;
        free(q->sender);
        free(q);
}

static void caller_free(void *p) {
        caller_done(p);
        free(p);
}

/* A unique bus name never changes hands and the bus fixes its credentials when it connects, so they can be
 * remembered until the name goes away; a client making many calls then costs one question to the bus. */
static int on_name_owner_changed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(msg, "sss", &name, &old_owner, &new_owner) >= 0 && name[0] == ':' && !*new_owner)
                g_hash_table_remove(m->callers, name);
        return 0;
}

int manager_watch_callers(Manager *m) {
        assert(m && !m->callers);
        m->callers = g_hash_table_new_full(g_str_hash, g_str_equal, free, caller_free);
        return sd_bus_match_signal_async(m->bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                         "org.freedesktop.DBus", "NameOwnerChanged", on_name_owner_changed, NULL, m);
}

static void remember_caller(Manager *m, const char *sender, const Caller *caller) {
        Caller *c = calloc(1, sizeof(Caller));
        char *name = strdup(sender);

        if (!c || !name || caller_copy(c, caller) < 0) {
                free(c);
                free(name);
                return;
        }
        g_hash_table_replace(m->callers, name, c);
}

/* The bus's word on who the caller is holds only while the process still has those ids. */
static void checked(Caller *caller, credentials_done_t done, void *userdata) {
        _cleanup_free_ char *why = NULL;

        if (caller_check_identity(caller, &why) < 0)
                return done(userdata, BPFD_ERR_PERMISSION_DENIED,
                            why ?: "The calling process's identity cannot be checked.");
        done(userdata, BPFD_ERR_FAILED, NULL);
}

static int on_credentials(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Acquiring *q = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        _cleanup_free_ char *text = NULL;

        /* The slot (the caller's) goes with its request; q goes with the slot. */
        if (e) {
                if (asprintf(&text, "Cannot identify the caller: %s", strempty(e->message)) < 0)
                        text = NULL;
                q->done(q->userdata, BPFD_ERR_FAILED, text ?: "Out of memory.");
                return 0;
        }
        if (bus_caller_from_credentials(reply, q->caller) < 0) {
                q->done(q->userdata, BPFD_ERR_FAILED, "The bus daemon did not say who the caller is.");
                return 0;
        }
        remember_caller(q->m, q->sender, q->caller);
        checked(q->caller, q->done, q->userdata);
        return 0;
}

int credentials_acquire(Manager *m, sd_bus_message *msg, Caller *caller, credentials_done_t done, void *userdata,
                        sd_bus_slot **ret_slot) {
        const char *sender;
        Caller *known;
        Acquiring *q;
        int r;

        assert(m && m->callers && msg && caller && done && ret_slot);
        assert(caller->uid == (uid_t) -1 && caller->pidfd < 0); /* CALLER_NULL */
        sender = sd_bus_message_get_sender(msg);
        known = sender ? g_hash_table_lookup(m->callers, sender) : NULL;
        if (known) {
                if (caller_copy(caller, known) < 0) {
                        *caller = CALLER_NULL;
                        return -ENOMEM;
                }
                checked(caller, done, userdata);
                return 1;
        }
        if (!sender)
                return -EBADMSG;
        q = calloc(1, sizeof(Acquiring));
        if (!q || !(q->sender = strdup(sender))) {
                free(q);
                return -ENOMEM;
        }
        *q = (Acquiring) { .m = m, .sender = q->sender, .caller = caller, .done = done, .userdata = userdata };
        r = sd_bus_call_method_async(m->bus, ret_slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "GetConnectionCredentials", on_credentials, q, "s", sender);
        if (r < 0) {
                acquiring_free(q);
                return r;
        }
        (void) sd_bus_slot_set_destroy_callback(*ret_slot, acquiring_free);
        return 1; /* the reply comes later */
}
