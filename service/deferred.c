/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the bus thread does after the replies: signals that only say "this changed" are gathered and sent in
 * the next turn of the event loop (what arrived meanwhile is handled first, so a burst of loads costs one
 * PropertiesChanged of the counts, and each program's Links one per burst), and memory freed by bulk unloads
 * goes back to the system once bpfd has been idle for a moment. */
#include <malloc.h>

#include "log.h"
#include "manager.h"

#define TRIM_DELAY_USEC (500 * 1000ULL)

static int on_deferred(sd_event_source *s, void *userdata) {
        Manager *m = userdata;
        GHashTableIter it;
        gpointer k;

        if (m->counts_dirty)
                (void) sd_bus_emit_properties_changed(m->bus, MANAGER_PATH, "org.bpfd.Manager", "ProgramCount",
                                                      "LinkCount", NULL);
        m->counts_dirty = false;
        g_hash_table_iter_init(&it, m->links_dirty);
        while (g_hash_table_iter_next(&it, &k, NULL)) {
                _cleanup_free_ char *path = program_object_path(GPOINTER_TO_UINT(k));
                /* A program that went meanwhile said so with InterfacesRemoved. */
                if (path && g_hash_table_contains(m->programs, k))
                        (void) sd_bus_emit_properties_changed(m->bus, path, "org.bpfd.Program", "Links",
                                                              "AttachPoints", NULL);
        }
        g_hash_table_remove_all(m->links_dirty);
        return 0;
}

static void deferred_arm(Manager *m) {
        if (!m->deferred_source) {
                if (sd_event_add_defer(m->event, &m->deferred_source, on_deferred, m) < 0)
                        return;
                /* The bus's own priority: after what is already pending (the replies), never starved by a
                 * busy bus. */
                (void) sd_event_source_set_priority(m->deferred_source, SD_EVENT_PRIORITY_NORMAL);
        }
        (void) sd_event_source_set_enabled(m->deferred_source, SD_EVENT_ONESHOT);
}

void manager_emit_counts_changed(Manager *m) {
        m->counts_dirty = true;
        deferred_arm(m);
}

void manager_emit_program_links_changed(Manager *m, uint32_t program_id) {
        g_hash_table_add(m->links_dirty, GUINT_TO_POINTER(program_id));
        deferred_arm(m);
}

static int on_trim(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        if (m->requests_in_flight > 0 || worker_pending(m->worker) > 0) {
                manager_trim_later(m);
                return 0;
        }
        /* glibc keeps freed memory in its arenas (the worker's too); give it back. */
        (void) malloc_trim(0);
        return 0;
}

void manager_trim_later(Manager *m) {
        if (!m->trim_timer) {
                if (sd_event_add_time_relative(m->event, &m->trim_timer, CLOCK_MONOTONIC, TRIM_DELAY_USEC, 0, on_trim,
                                               m) < 0)
                        return;
                (void) sd_event_source_set_priority(m->trim_timer, SD_EVENT_PRIORITY_IDLE);
                return;
        }
        (void) sd_event_source_set_time_relative(m->trim_timer, TRIM_DELAY_USEC);
        (void) sd_event_source_set_enabled(m->trim_timer, SD_EVENT_ONESHOT);
}

void manager_deferred_done(Manager *m) {
        m->deferred_source = sd_event_source_disable_unref(m->deferred_source);
        m->trim_timer = sd_event_source_disable_unref(m->trim_timer);
        if (m->links_dirty)
                g_hash_table_unref(m->links_dirty);
        m->links_dirty = NULL;
}
