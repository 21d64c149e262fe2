/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

#include <systemd/sd-bus.h>

#include "bpfd-error.h"
#include "caller.h"

struct Manager;

/* Who the sender of a call is, as the bus daemon vouches for it (GetConnectionCredentials, remembered per
 * unique name until the name goes away), and whether the process still has those ids. Requests and spec
 * jobs both start here. */

/* message NULL: *caller is filled and checked. Otherwise the call is to be refused with code and message. */
typedef void (*credentials_done_t)(void *userdata, BpfdError code, const char *message);

/* Fills *caller (CALLER_NULL before) for the sender of msg; done runs once, at once when the caller is
 * remembered, else from the event loop (the question's slot in *ret_slot, to cancel it). < 0: nothing
 * was started and done will not run. */
int credentials_acquire(struct Manager *m, sd_bus_message *msg, Caller *caller, credentials_done_t done,
                        void *userdata, sd_bus_slot **ret_slot);

/* credentials.c: remembers the callers' credentials per unique name until the name goes away. */
int manager_watch_callers(Manager *m);
