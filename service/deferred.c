/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Memory freed by bulk unloads goes back to the system once bpfd has been idle for a moment. (The signals
 * that only say "this changed" are gathered in bus/view.c.) */
#include <malloc.h>

#include "log.h"
#include "deferred.h"

#define TRIM_DELAY_USEC (500 * 1000ULL)

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
        m->trim_timer = sd_event_source_disable_unref(m->trim_timer);
}
