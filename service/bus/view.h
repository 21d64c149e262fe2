/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "engine-changes.h"
#include "engine.h"
#include "manager.h"
#include "engine-interfaces.h"

/* The bus view: the programs, links and interfaces the objects under /org/bpfd/Manager show, and the one
 * place that changes them and sends the signals that say so (InterfacesAdded/Removed, PropertiesChanged).
 *
 * Programs and links are derived from the engine's records: each job hands over what it changed in them
 * (engine-changes.h) and view_apply_changes() applies that right after the job's done callback, so the
 * caller's reply goes first and nobody else sees the gap. Interfaces come from the worker's scans.
 * "This changed" signals (the counts, a program's Links) are gathered and sent in the loop's next turn, so a
 * burst of requests costs one of each. Bus thread only. */

void view_init(Manager *m);
void view_done(Manager *m);

/* The worker's changes handler (worker_set_changes_handler()); takes changes. */
void view_apply_changes(EngineChanges *changes, void *userdata);
/* From here on, changes of the view are announced with signals (once the objects are registered; the view
 * built at start is not). */
void view_start_announcing(Manager *m);

/* An interface scan's result: interfaces found (taken), and those gone (all that were not found, if full). */
void view_apply_interfaces(Manager *m, InterfaceInfo **found, size_t n_found, bool full, const InterfaceKey *vanished,
                           size_t n_vanished);

/* Lookups; NULL if not there. */
ProgramInfo *view_program(Manager *m, uint32_t id);
LinkInfo *view_link(Manager *m, uint32_t id);
InterfaceInfo *view_interface(Manager *m, const char *object_name);
/* The program's links in id order, and the programs sharing a map group; NULL when none. */
GPtrArray *view_links_of(Manager *m, uint32_t program_id);
GArray *view_map_users(Manager *m, uint32_t map_group);
