/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* SIGTERM and SIGINT end bpfd only after every request in flight got its answer. */
int manager_watch_stop_signals(Manager *m);
/* A request came or went: the idle exit (--exit-idle-time) starts counting again. */
void manager_note_activity(Manager *m);
