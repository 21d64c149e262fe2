/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* Memory back to the system once bpfd has been idle a moment (after unloads). */
void manager_trim_later(Manager *m);
void manager_deferred_done(Manager *m);
