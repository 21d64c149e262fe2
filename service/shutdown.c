/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* When bpfd ends: after SIGTERM, or when idle for --exit-idle-time.
 *
 * Stopping without leaving anyone silent. A request that has been taken is carried through to its answer:
 * after SIGTERM the event loop keeps running until no request is in flight and the worker has nothing left,
 * and calls that arrive meanwhile are refused at once (nothing done). Ending the loop right away, as before,
 * let the worker finish jobs whose replies were never sent: callers got NoReply for loads that had happened,
 * and retried them. */
#include <assert.h>
#include <signal.h>

#include "errors.h"
#include "log.h"
#include "bus-spec.h"
#include "shutdown.h"
#include "stats.h"

/* Only a stuck polkit or kernel call holds bpfd this long; systemd's stop timeout is longer still. */
#define STOP_TIMEOUT_USEC (60ULL * 1000000ULL)

static int on_name_released(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;

        m->name_released = true; /* or it was never ours: either way no call for org.bpfd comes here any more */
        return 0;
}

static void maybe_exit(Manager *m) {
        int r;

        if (m->requests_in_flight > 0 || worker_pending(m->worker) > 0)
                return;
        /* Give the name back first, so that the bus routes no further calls to us; calls that came before
         * are in our queue, and get their answer below. */
        assert(m->stopping);
        if (!m->name_released) {
                if (!m->name_release_sent) {
                        m->name_release_sent = true;
                        r = sd_bus_release_name_async(m->bus, NULL, "org.bpfd", on_name_released, m);
                        if (r < 0)
                                m->name_released = true;
                }
                if (!m->name_released)
                        return;
        }
        /* Not from within a bus callback (this is a post source): answer what is queued (the filter refuses
         * it), until nothing is left. */
        while (sd_bus_process(m->bus, NULL) > 0)
                ;
        if (m->requests_in_flight > 0 || worker_pending(m->worker) > 0)
                return;
        (void) sd_bus_flush(m->bus);
        m->stop_post = sd_event_source_disable_unref(m->stop_post);
        (void) sd_event_exit(m->event, 0);
}

static int on_post(sd_event_source *s, void *userdata) {
        maybe_exit(userdata);
        return 0;
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        log_warning("%u request(s) still in flight after %llu s, exiting all the same.", m->requests_in_flight,
                    STOP_TIMEOUT_USEC / 1000000ULL);
        return sd_event_exit(m->event, 0);
}

static int on_stop_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        int r;

        if (m->stopping)
                return 0;
        m->stopping = true;
        if (m->requests_in_flight > 0 || worker_pending(m->worker) > 0)
                log_info("Stopping: answering %u request(s) in flight first.", m->requests_in_flight);
        r = sd_event_add_post(m->event, &m->stop_post, on_post, m);
        if (r < 0)
                return sd_event_exit(m->event, 0);
        (void) sd_event_add_time_relative(m->event, &m->stop_timer, CLOCK_MONOTONIC, STOP_TIMEOUT_USEC, 0,
                                          on_stop_timeout, m);
        maybe_exit(m);
        return 0;
}

/* While stopping, calls of bpfd's own interfaces get an error before anything is done. */
static int refuse_while_stopping(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;
        const char *iface;

        if (!m->stopping || !sd_bus_message_is_method_call(msg, NULL, NULL))
                return 0;
        iface = sd_bus_message_get_interface(msg);
        if (!iface || strncmp(iface, "org.bpfd.", 9) != 0)
                return 0;
        (void) sd_bus_reply_method_errorf(msg, BPFD_ERROR_FAILED, "bpfd is stopping; nothing was done. Try again.");
        return 1;
}

int manager_watch_stop_signals(Manager *m) {
        int r;

        r = sd_event_add_signal(m->event, NULL, SIGTERM, on_stop_signal, m);
        if (r < 0)
                return r;
        r = sd_event_add_signal(m->event, NULL, SIGINT, on_stop_signal, m);
        if (r < 0)
                return r;
        return sd_bus_add_filter(m->bus, NULL, refuse_while_stopping, m);
}

/* ---- the idle exit (--exit-idle-time) ---- */

static int on_idle_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        /* Run statistics live as long as bpfd holds them: an idle exit would turn them off behind the admin's
         * back; a spec waiting for an interface or an image needs bpfd there to see it come. */
        if (m->requests_in_flight == 0 && worker_pending(m->worker) == 0 && !stats_kernel_held() &&
            !manager_specs_waiting(m)) {
                log_info("Idle for a while, exiting; loaded programs stay pinned.");
                return sd_event_exit(m->event, 0);
        }
        manager_note_activity(m);
        return 0;
}

void manager_note_activity(Manager *m) {
        if (!m->idle_exit_usec)
                return;
        if (!m->idle_timer)
                (void) sd_event_add_time_relative(m->event, &m->idle_timer, CLOCK_MONOTONIC, m->idle_exit_usec, 0,
                                                  on_idle_timer, m);
        else {
                (void) sd_event_source_set_time_relative(m->idle_timer, m->idle_exit_usec);
                (void) sd_event_source_set_enabled(m->idle_timer, SD_EVENT_ONESHOT);
        }
}
