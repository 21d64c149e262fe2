/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Asks polkitd, without waiting: callback(authorized, error, userdata) runs from the event loop when it
 * answers. details is NULL-terminated key, value, ... pairs that rules read with action.lookup(). */
/* Longer than any client waits for a mutating call (bpfctl: 5 minutes). */
#define POLKIT_TIMEOUT_USEC (6ULL * 60 * 1000 * 1000)

typedef void (*polkit_callback_t)(int authorized, const sd_bus_error *error, void *userdata);

int polkit_check_async(sd_bus *bus, sd_bus_message *request, const char *action, char **details,
                       polkit_callback_t callback, void *userdata, sd_bus_slot **ret_slot);
