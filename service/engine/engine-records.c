/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine: the records: one key file per load group (its format in record.c), and the journal of a slot being
 * added. */
#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>

#include "engine-internal.h"
#include "engine-hooks.h"

static char *group_record_path(Engine *e, uint32_t id) {
        return path_join(e->state_dir, "group-%" PRIu32 ".conf", id);
}

int group_save(Engine *e, Group *g) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        _cleanup_free_ char *path = group_record_path(e, g->id);
        g_autofree gchar *data = NULL;
        gsize size;

        assert(e);
        assert(g);

        if (!path)
                return -ENOMEM;
        g_key_file_set_uint64(kf, "Group", "Id", g->id);
        g_key_file_set_uint64(kf, "Group", "Owner", g->owner_uid);
        g_key_file_set_string(kf, "Group", "Source", g->source);
        if (g->object_path)
                g_key_file_set_string(kf, "Group", "Object", g->object_path);
        for (guint i = 0; i < g->programs->len; i++)
                if (record_write_program(kf, g_ptr_array_index(g->programs, i)) < 0)
                        return -ENOMEM;
        for (guint i = 0; i < g->links->len; i++)
                record_write_link(kf, g_ptr_array_index(g->links, i));
        data = g_key_file_to_data(kf, &size, NULL);
        return write_file_atomic(path, data, size);
}

int group_remove_record(Engine *e, uint32_t id) {
        _cleanup_free_ char *path = group_record_path(e, id);
        _cleanup_close_ int dfd = -1;

        assert(e);

        if (!path)
                return -ENOMEM;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        dfd = open(e->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
        return 0;
}

int journal_write(Engine *e, Undo *u, const LinkInfo *l) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree gchar *data = NULL;
        char *path;
        gsize size;
        int r;

        assert(e);
        assert(u);
        assert(u->journals);
        assert(l);

        path = path_join(e->state_dir, "slot-%" PRIu64 ".journal", l->seq);
        if (!path)
                return -ENOMEM;
        g_key_file_set_string(kf, "Slot", "Kind", kind_to_string(l->target.kind));
        g_key_file_set_string(kf, "Slot", "Netns", strempty(l->target.netns));
        g_key_file_set_uint64(kf, "Slot", "NetnsInode", l->netns_ino);
        g_key_file_set_uint64(kf, "Slot", "Ifindex", l->ifindex);
        g_key_file_set_uint64(kf, "Slot", "RunPrio", xdp_run_prio(l));
        g_key_file_set_uint64(kf, "Slot", "Program", l->program_id); /* XDP alone: what runs is the program */
        if (l->target.direction)
                g_key_file_set_string(kf, "Slot", "Direction", l->target.direction);
        if (l->tc_priority)
                g_key_file_set_uint64(kf, "Slot", "TcPriority", l->tc_priority);
        data = g_key_file_to_data(kf, &size, NULL);
        r = write_file_atomic(path, data, size);
        if (r < 0) {
                free(path);
                return r;
        }
        g_ptr_array_add(u->journals, path);
        return 0;
}

