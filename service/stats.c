/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bpfd's request statistics (counts and latency histograms by method and result) and the kernel's BPF run
 * statistics switch. The counters live on the bus thread only; the run statistics descriptor is opened and
 * closed by the worker (it needs CAP_SYS_ADMIN) and only looked at from the bus thread. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"
#include "stats-table.h"
#include "util.h"

const uint64_t stats_bucket_bounds_usec[STATS_N_BUCKETS] = {
        500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

static GHashTable *table; /* "method\nresult" → RequestCounter* */

uint64_t stats_now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

void stats_record(const char *method, const char *result, uint64_t usec) {
        _cleanup_free_ char *key = NULL;
        RequestCounter *c;
        size_t b = 0;

        if (!method)
                return;
        if (!table)
                table = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
        if (asprintf(&key, "%s\n%s", method, result ?: "ok") < 0)
                return;
        c = g_hash_table_lookup(table, key);
        if (!c) {
                c = calloc(1, sizeof(RequestCounter));
                if (!c)
                        return;
                c->method = method;
                c->result = strchr(key, '\n') + 1;
                g_hash_table_insert(table, TAKE_PTR(key), c);
        }
        while (b < STATS_N_BUCKETS && usec > stats_bucket_bounds_usec[b])
                b++;
        c->count++;
        c->total_usec += usec;
        c->buckets[b]++;
}

GHashTable *stats_table(void) {
        return table;
}

void stats_finish(StatsToken *t, const char *error_name) {
        if (!t->method)
                return;
        stats_record(t->method, error_name, stats_now_usec() - t->start_usec);
        t->method = NULL;
}

/* ---- kernel run statistics ---- */

static atomic_int stats_fd = -1;

int stats_kernel_set(bool on) {
        int fd = atomic_load(&stats_fd);

        if (on && fd < 0) {
                fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
                if (fd < 0)
                        return -errno;
                atomic_store(&stats_fd, fd);
        } else if (!on && fd >= 0) {
                atomic_store(&stats_fd, -1);
                close(fd);
        }
        return 0;
}

bool stats_kernel_held(void) {
        return atomic_load(&stats_fd) >= 0;
}

bool stats_kernel_enabled(void) {
        FILE *f;
        int v = 0;

        if (stats_kernel_held())
                return true;
        /* The sysctl shows only its own setting, not descriptors held by anyone. */
        f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
        if (f) {
                if (fscanf(f, "%d", &v) != 1)
                        v = 0;
                fclose(f);
        }
        return v > 0;
}
