/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>

#include "view-index.h"

static void ptr_array_free(gpointer a) {
        g_ptr_array_unref(a);
}

static void array_free(gpointer a) {
        g_array_unref(a);
}

void view_index_init(ViewIndex *x) {
        x->program_links = g_hash_table_new_full(NULL, NULL, NULL, ptr_array_free);
        x->map_users = g_hash_table_new_full(NULL, NULL, NULL, array_free);
}

void view_index_done(ViewIndex *x) {
        if (x->program_links)
                g_hash_table_unref(x->program_links);
        if (x->map_users)
                g_hash_table_unref(x->map_users);
        *x = (ViewIndex) {};
}

/* Where id goes in an id-sorted array (binary search); *found tells whether it is there already. */
static guint id_position(GArray *a, uint32_t id, bool *found) {
        guint lo = 0, hi = a->len;

        while (lo < hi) {
                guint mid = lo + (hi - lo) / 2;
                if (g_array_index(a, uint32_t, mid) < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = lo < a->len && g_array_index(a, uint32_t, lo) == id;
        return lo;
}

static guint link_position(GPtrArray *a, uint32_t id, bool *found) {
        guint lo = 0, hi = a->len;

        while (lo < hi) {
                guint mid = lo + (hi - lo) / 2;
                if (((LinkInfo *) g_ptr_array_index(a, mid))->id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = lo < a->len && ((LinkInfo *) g_ptr_array_index(a, lo))->id == id;
        return lo;
}

void view_index_add_program(ViewIndex *x, const ProgramInfo *p) {
        uint32_t group = program_map_group(p);
        GArray *a = g_hash_table_lookup(x->map_users, GUINT_TO_POINTER(group));
        bool found;
        guint i;

        if (!a) {
                a = g_array_new(FALSE, FALSE, sizeof(uint32_t));
                g_hash_table_insert(x->map_users, GUINT_TO_POINTER(group), a);
        }
        i = id_position(a, p->id, &found);
        if (!found)
                g_array_insert_val(a, i, p->id);
}

void view_index_remove_program(ViewIndex *x, const ProgramInfo *p) {
        uint32_t group = program_map_group(p);
        GArray *a = g_hash_table_lookup(x->map_users, GUINT_TO_POINTER(group));
        bool found = false;
        guint i;

        if (a) {
                i = id_position(a, p->id, &found);
                if (found)
                        g_array_remove_index(a, i);
                if (a->len == 0)
                        g_hash_table_remove(x->map_users, GUINT_TO_POINTER(group));
        }
        /* The program's links are gone with it (the view removes them first). */
        g_hash_table_remove(x->program_links, GUINT_TO_POINTER(p->id));
}

void view_index_add_link(ViewIndex *x, LinkInfo *l) {
        GPtrArray *a = g_hash_table_lookup(x->program_links, GUINT_TO_POINTER(l->program_id));
        bool found;
        guint i;

        if (!a) {
                a = g_ptr_array_new();
                g_hash_table_insert(x->program_links, GUINT_TO_POINTER(l->program_id), a);
        }
        i = link_position(a, l->id, &found);
        if (found)
                a->pdata[i] = l; /* the view replaced the link object */
        else
                g_ptr_array_insert(a, (gint) i, l);
}

void view_index_remove_link(ViewIndex *x, const LinkInfo *l) {
        GPtrArray *a = g_hash_table_lookup(x->program_links, GUINT_TO_POINTER(l->program_id));
        bool found = false;
        guint i;

        if (!a)
                return;
        i = link_position(a, l->id, &found);
        if (found)
                g_ptr_array_remove_index(a, i);
        if (a->len == 0)
                g_hash_table_remove(x->program_links, GUINT_TO_POINTER(l->program_id));
}

GPtrArray *view_index_links_of(const ViewIndex *x, uint32_t program_id) {
        return g_hash_table_lookup(x->program_links, GUINT_TO_POINTER(program_id));
}

GArray *view_index_map_users(const ViewIndex *x, uint32_t map_group) {
        return g_hash_table_lookup(x->map_users, GUINT_TO_POINTER(map_group));
}
