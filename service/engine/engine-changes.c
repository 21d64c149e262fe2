/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>

#include "engine-changes.h"

static void change_clear(gpointer data) {
        EngineChange *c = data;

        program_info_unref(c->program);
        link_info_unref(c->link);
}

static void note(EngineChanges **c, EngineChange change) {
        assert(c);
        if (!*c) {
                *c = g_array_new(FALSE, FALSE, sizeof(EngineChange));
                g_array_set_clear_func(*c, change_clear);
        }
        g_array_append_val(*c, change);
}

void engine_changes_note_program(EngineChanges **c, ProgramInfo *p, bool added) {
        assert(p);
        note(c, (EngineChange) { .type = added ? ENGINE_PROGRAM_ADDED : ENGINE_PROGRAM_REMOVED, .id = p->id,
                                 .program = added ? program_info_ref(p) : NULL });
}

void engine_changes_note_link(EngineChanges **c, LinkInfo *l, bool added) {
        assert(l);
        note(c, (EngineChange) { .type = added ? ENGINE_LINK_ADDED : ENGINE_LINK_REMOVED, .id = l->id,
                                 .link = added ? link_info_ref(l) : NULL });
}

EngineChanges *engine_changes_free(EngineChanges *c) {
        if (c)
                g_array_unref(c);
        return NULL;
}
