/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Appending "{sv}" entries of a{sv} dictionaries (options, filters, properties), for bpfd and bpfctl.
 * Call between sd_bus_message_open_container(m, 'a', "{sv}") and its close. */

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

int bus_append_sv_string(sd_bus_message *m, const char *key, const char *value);
int bus_append_sv_bool(sd_bus_message *m, const char *key, bool value);
int bus_append_sv_u32(sd_bus_message *m, const char *key, uint32_t value);
int bus_append_sv_i32(sd_bus_message *m, const char *key, int32_t value);
int bus_append_sv_u64(sd_bus_message *m, const char *key, uint64_t value);
int bus_append_sv_strv(sd_bus_message *m, const char *key, char **value);

/* Any value: "signature" is the variant's contents, the arguments as for sd_bus_message_append(). */
int bus_append_dict_entry(sd_bus_message *m, const char *key, const char *signature, ...);

/* Opens "{sv}" entry key with a variant of the given contents signature;
 * close it with bus_close_sv(). For values built piece by piece. */
int bus_open_sv(sd_bus_message *m, const char *key, const char *contents);
int bus_close_sv(sd_bus_message *m);
