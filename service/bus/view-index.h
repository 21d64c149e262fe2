/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "model.h"

/* Indexes of the bus thread's view, so that a program's dictionary costs what the program has, not what the
 * machine has: program → its links (in id order) and map group → the programs using its maps (in id order).
 * They hold no references: the view tables do, and every change of those goes through here. */
typedef struct ViewIndex {
        GHashTable *program_links; /* program id → GPtrArray* of LinkInfo* */
        GHashTable *map_users;     /* map group → GArray* of uint32_t program ids */
} ViewIndex;

void view_index_init(ViewIndex *x);
void view_index_done(ViewIndex *x);

static inline uint32_t program_map_group(const ProgramInfo *p) {
        return p->map_group ?: p->load_group;
}

void view_index_add_program(ViewIndex *x, const ProgramInfo *p);
void view_index_remove_program(ViewIndex *x, const ProgramInfo *p);
void view_index_add_link(ViewIndex *x, LinkInfo *l);
void view_index_remove_link(ViewIndex *x, const LinkInfo *l);

/* NULL when there are none. */
GPtrArray *view_index_links_of(const ViewIndex *x, uint32_t program_id);
GArray *view_index_map_users(const ViewIndex *x, uint32_t map_group);
