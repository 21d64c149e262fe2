/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "engine.h"
#include "inspect.h"

/* On the bus thread, from what bpfd-inspect found (no privileges, nothing parsed here but its answer):
 * which programs are loaded, their kinds, which program each attach target is for, and the targets completed
 * from the sections and checked. Takes the inspection's memfd into req. */
int load_plan(LoadRequest *req, Inspection *ins, const bool supported[_KIND_MAX], EngineError *error);
