/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Attach, detach, unload (engine-lifecycle.c). */

#include "engine.h"

int engine_attach(Engine *e, uint32_t program_id, const AttachTarget *target, const Caller *caller,
                  LinkInfo **ret, EngineError *error);
int engine_detach(Engine *e, uint32_t link_id, EngineError *error);
/* Returns the ids of the links that went with the program. */
int engine_unload(Engine *e, uint32_t program_id, uint32_t **ret_link_ids, size_t *ret_n, EngineError *error);
