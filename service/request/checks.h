/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "authorize.h"
#include "caller.h"
#include "engine.h"

/* The questions that requests and spec jobs share (checks.c). */

/* The owner rule: owners act on what is theirs without asking anybody beyond the operation's own action;
 * what is another user's needs org.bpfd.manage-others (maps: org.bpfd.map-others). */
bool caller_owns(const Caller *caller, uid_t owner);

/* The questions of one planned load (load_plan() ran): per program org.bpfd.load (org.bpfd.load-image for an
 * image), once per attach target of it where it has some, then org.bpfd.attach per target: a load that
 * attaches is an attachment too, the same question as Attach. map_owner_uid: the owner of the maps it shares
 * (has_map_owner false: none). extra_key/extra_value: one more detail on each question (specs: "spec"), or
 * NULL. */
void checks_add_load(Authorization *out, const LoadRequest *load, uid_t caller_uid, bool has_map_owner,
                     uid_t map_owner_uid, const char *extra_key, const char *extra_value);
