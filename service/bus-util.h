/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include "bus-dict.h"   /* bus_append_dict_entry() and the other a{sv} writers, shared with bpfctl */
#include "util.h"

#define BPFD_STRING_MAX 4096U   /* paths, values */
#define BPFD_NAME_MAX 256U      /* program names, tracepoints, keys */
#define BPFD_LIST_MAX 1024U     /* entries in any list or dictionary argument */

static inline void sd_bus_message_unrefp_wrap(sd_bus_message **m) {
        sd_bus_message_unref(*m);
}

/* One key of an a{sv} options dictionary: its name, the variant's signature, and a reader called with the
 * message positioned inside the variant. */
typedef struct BusOption {
        const char *key;
        const char *signature;
        int (*read)(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error);
} BusOption;

/* Reads an a{sv}; unknown keys, wrong variant types and repeated keys become org.bpfd.Error.InvalidArgument. */
int bus_read_options(sd_bus_message *m, const char *what, const BusOption *options, void *userdata,
                     sd_bus_error *error);

/* Readers for the common shapes; they enforce the length limits above. */
int bus_read_string_checked(sd_bus_message *m, const char *key, size_t max, char **ret, sd_bus_error *error);
int bus_read_strv_checked(sd_bus_message *m, const char *key, char ***ret, sd_bus_error *error);

static inline void sd_bus_message_unrefp_wrap2(sd_bus_message **m) {
        sd_bus_message_unref(*m);
}
