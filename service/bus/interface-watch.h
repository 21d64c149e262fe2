/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* What keeps the interface objects current: scans on the worker and the kernel's link notifications. */
int manager_watch_interfaces(Manager *m);
void manager_scan_interfaces(Manager *m);
/* Reads this interface again (gathered with others into one scan). */
void manager_scan_interface(Manager *m, uint64_t netns_ino, uint32_t ifindex);
