/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "caller.h"

/* The caller as the bus daemon vouches for it, from the reply of GetConnectionCredentials: UnixUserID,
 * UnixGroupIDs, ProcessID, and ProcessFD where the bus offers one (else a pidfd is taken at once, so a
 * recycled pid cannot stand in from here on). c starts as CALLER_NULL. -EBADMSG if the reply does not say
 * who the caller is. */
int bus_caller_from_credentials(sd_bus_message *reply, Caller *c);
