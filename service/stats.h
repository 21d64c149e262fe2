/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

/* bpfd's own request statistics: every call of an org.bpfd method is counted by method ("Manager.LoadFromFd",
 * "Program.MapDump", ...) and result ("ok" or the error name), with its latency from arrival to reply in a
 * histogram. Calls answered in the handler are measured around it; a request that replies later (after polkit
 * and the worker) takes the measurement over with stats_defer() and ends it with stats_finish(). */

typedef struct StatsToken {
        const char *method; /* static, owned by the stats table */
        uint64_t start_usec;
} StatsToken;

/* A copy of vtable whose method handlers go through the measuring trampoline (the copy lives as long as the
 * process; interface is the D-Bus interface the vtable is registered under). */
const sd_bus_vtable *stats_wrap_vtable(const char *interface, const sd_bus_vtable *vtable);

/* Takes the call being dispatched over: the trampoline will not record it. Outside a call, an empty token. */
StatsToken stats_defer(void);
/* Records a deferred call. error_name NULL: "ok". No-op for an empty or already finished token. */
void stats_finish(StatsToken *t, const char *error_name);
/* A deferred request freed without a reply of its own while its handler still runs: the handler's return
 * value tells the result, so give the call back to the trampoline. Anything else unfinished counts as failed. */
void stats_abandon(StatsToken *t);

/* Histogram bounds in microseconds (the last bucket is everything above). */
extern const uint64_t stats_bucket_bounds_usec[];
#define STATS_N_BUCKETS 14

/* org.bpfd.Manager.GetRequestStatistics and SetStatsEnabled (userdata: the Manager) */
int stats_method_get_request_statistics(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int stats_method_set_stats_enabled(sd_bus_message *msg, void *userdata, sd_bus_error *error);

/* Kernel run statistics (BPF_ENABLE_STATS): on while bpfd holds the descriptor. Called on the worker thread,
 * which has CAP_SYS_ADMIN; returns 0 or -errno. */
int stats_kernel_set(bool on);
/* Whether run statistics are on: bpfd holds the descriptor or kernel.bpf_stats_enabled is 1. */
bool stats_kernel_enabled(void);
bool stats_kernel_held(void);
