/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>
#include "bpfd-limits.h"
#include "bus-dict.h"   /* bus_append_dict_entry() and the other a{sv} writers, shared with bpfctl */
#include "util.h"


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

int bus_append_dict_entry(sd_bus_message *m, const char *key, const char *signature, ...);

/* The reply of a List* method without filters: reads the (empty) a{sv} filter of msg, then replies with the
 * values of `table` sorted by `cmp` (on pointers to the values, as g_ptr_array_sort() passes them), each an
 * a{sv} written by `append`. */
int bus_reply_sorted_dicts(sd_bus_message *msg, GHashTable *table, GCompareFunc cmp,
                           int (*append)(sd_bus_message *reply, const void *value), sd_bus_error *error);

#define PROPERTY_GETTER_ARGS                                                                                    \
        sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,     \
                void *userdata, sd_bus_error *error

/* In a handler or getter of a vtable: the userdata the vtable was registered with (for a fallback vtable,
 * the handler's own userdata is the object its find callback found). */
static inline void *bus_current_slot_userdata(sd_bus *bus) {
        sd_bus_slot *slot = sd_bus_get_current_slot(bus);
        return slot ? sd_bus_slot_get_userdata(slot) : NULL;
}

static inline void sd_bus_message_unrefp_wrap2(sd_bus_message **m) {
        sd_bus_message_unref(*m);
}
