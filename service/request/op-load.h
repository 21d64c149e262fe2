/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* LoadFromFd, LoadFromPath, LoadFromImage (op-load.c). Takes ownership of load, also on failure, and answers
 * msg itself from then on (a return < 0: the handler answers with that error). */

#include <systemd/sd-bus.h>

#include "engine.h"
#include "manager.h"

int request_load(Manager *m, sd_bus_message *msg, LoadRequest *load);
