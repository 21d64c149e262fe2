/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Human-readable text for D-Bus values: timestamps, user names, and a
 * "Label: value" listing of a dictionary that shows every key, including
 * keys bpfctl does not know. */

#include <stdint.h>
#include <stdio.h>

#include "bus-value.h"

typedef enum FieldFormat {
        FIELD_GENERIC,    /* by type: lists joined by ", ", dictionaries as key=value lines */
        FIELD_TIME_USEC,  /* t: microseconds since the epoch, shown in local time */
        FIELD_USER,       /* u: uid, shown as "name (uid)" */
        FIELD_LINES,      /* as: one item per line */
        FIELD_OBJECT_IDS, /* ao: the ids at the end of bpfd object paths */
        FIELD_NSEC,       /* t: a duration in nanoseconds */
        FIELD_BYTE_COUNT, /* ay: only its length, "N bytes" ("-" if empty) */
        FIELD_STATS_OFF,  /* a kernel run statistic while the kernel keeps none: says so instead of 0 */
} FieldFormat;

typedef struct Field {
        const char *key;
        const char *label;
        FieldFormat format;
} Field;

/* "%Y-%m-%d %H:%M:%S" in local time; "-" for 0. NULL only on OOM. */
char *format_timestamp_usec(uint64_t usec);

/* One-line text of any value, e.g. for table cells. NULL only on OOM. */
char *format_value_inline(const BusValue *v);

/* Prints the entries of dict as aligned "Label: value" lines: first the
 * known fields in the given order (those present), then any other key,
 * labelled by the key itself, in the order the daemon sent them. */
int print_fields(FILE *f, const BusValue *dict, const Field *fields, size_t n_fields);
