/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

extern const sd_bus_vtable program_vtable[];
/* The org.bpfd.Program objects of the view, under PROGRAM_PATH_PREFIX. */
int program_objects_add(Manager *m);
