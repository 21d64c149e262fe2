/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

extern const sd_bus_vtable link_vtable[];
/* The org.bpfd.Link objects of the view, under LINK_PATH_PREFIX. */
int link_objects_add(Manager *m);
