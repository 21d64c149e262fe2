/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* What keeps the interface objects current: scans on the worker and the kernel's link notifications. */
int manager_watch_interfaces(Manager *m);
void manager_scan_interfaces(Manager *m);
/* Reads this interface again (gathered with others into one scan). */
void manager_scan_interface(Manager *m, uint64_t netns_ino, uint32_t ifindex);
/* ListInterfaces: answered (interfaces_reply(), interface.c) once the reads of interfaces asked before it are
 * done, so a caller sees the chain its own Attach, Detach or Unload changed; returns 1 when it waits. */
int interfaces_list_when_read(Manager *m, sd_bus_message *msg, sd_bus_error *error);
/* Answers every call still waiting: bpfd stops. */
void interfaces_lists_done(Manager *m);
