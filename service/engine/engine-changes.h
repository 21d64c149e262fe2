/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "model.h"

/* What a job changed in the engine's records, in order: the engine notes each program and link as it enters
 * or leaves its indexes (load, recovery, attach, detach, unload, links dropped with their interface), the
 * worker hands the list to the bus thread with the job, and the bus view applies it after the job's reply.
 * So the bus view is derived from the engine's records, in one place, whatever the job was. */
typedef enum EngineChangeType {
        ENGINE_PROGRAM_ADDED,
        ENGINE_PROGRAM_REMOVED,
        ENGINE_LINK_ADDED,
        ENGINE_LINK_REMOVED,
} EngineChangeType;

typedef struct EngineChange {
        EngineChangeType type;
        uint32_t id;
        ProgramInfo *program; /* referenced, for ENGINE_PROGRAM_ADDED */
        LinkInfo *link;       /* referenced, for ENGINE_LINK_ADDED */
} EngineChange;

/* A GArray of EngineChange (that frees its references); NULL stands for none. */
typedef GArray EngineChanges;

void engine_changes_note_program(EngineChanges **c, ProgramInfo *p, bool added);
void engine_changes_note_link(EngineChanges **c, LinkInfo *l, bool added);
EngineChanges *engine_changes_free(EngineChanges *c);
