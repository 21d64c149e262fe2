/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

extern const sd_bus_vtable manager_vtable[];
/* Every object bpfd serves (manager, programs, links, interfaces), the object manager and the signature
 * filter; the view may be empty yet. */
int manager_add_bus_objects(Manager *m);
