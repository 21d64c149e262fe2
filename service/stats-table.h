/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "stats.h"

/* The counters of one (method, result) pair. */
typedef struct RequestCounter {
        const char *method;
        const char *result; /* points into the table's key */
        uint64_t count;
        uint64_t total_usec;
        uint64_t buckets[STATS_N_BUCKETS + 1];
} RequestCounter;

uint64_t stats_now_usec(void);
void stats_record(const char *method, const char *result, uint64_t usec);
/* "method\nresult" → RequestCounter*, or NULL before the first call. */
GHashTable *stats_table(void);
