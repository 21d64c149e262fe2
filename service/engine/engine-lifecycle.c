/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine: attach, detach, unload. */
#include <assert.h>
#include <inttypes.h>
#include <time.h>

#include "attach.h"
#include "engine-internal.h"
#include "engine-steps.h"
#include "engine-hooks.h"
#include "log.h"
#include "engine-lifecycle.h"

/* object_path: the ELF object kept for the program's load group, for dispatchers that load it again. */
int make_link(Engine *e, Undo *u, ProgramInfo *p, const char *object_path, const AttachTarget *target,
              const Caller *caller, LinkInfo **ret, EngineError *error) {
        _cleanup_(link_info_unrefp) LinkInfo *l = NULL;
        _cleanup_close_ int link_fd = -1;
        int r;

        assert(e);
        assert(u);
        assert(p);
        assert(target);
        assert(caller);
        assert(ret);

        l = calloc(1, sizeof(LinkInfo));
        if (!l)
                return -ENOMEM;
        l->n_ref = 1;
        l->program_id = p->id;
        l->owner_uid = caller->uid;
        l->attach_time_usec = now_usec(CLOCK_REALTIME);
        l->seq = ++e->link_seq;
        r = attach_target_copy(&l->target, target);
        if (r < 0)
                return r;
        free(l->target.program);
        l->target.program = NULL;
        r = attach_target_apply_defaults(&l->target);
        if (r < 0)
                return r;
        if (IN_SET2(l->target.kind, KIND_XDP, KIND_TC) || l->target.kind == KIND_TCX)
                r = attach_net(e, u, p, object_path, l, caller, &link_fd, error);
        else
                r = attach_program(p->fd, p->expected_attach_type, &l->target, caller, &link_fd, error);
        if (r < 0)
                return r;
        r = attach_target_settle(&l->target);
        if (r < 0)
                return r;
        l->attach_point = attach_target_describe(&l->target);
        if (l->component_id) {
                /* A dispatcher slot: the dispatcher's pins hold it; the id is bpfd's. */
                l->id = ++e->slot_id;
                if (!l->pin_path)
                        l->pin_path = strdup(""); /* XDP: libxdp's pins hold it */
                if (!l->attach_point || !l->pin_path)
                        return -ENOMEM;
                *ret = TAKE_PTR(l);
                return 0;
        }
        r = link_id_of_fd(link_fd, &l->id, NULL);
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot query the new link: %m");
        l->pin_path = path_join(e->fs_dir, "link_%" PRIu32, l->id);
        if (!l->attach_point || !l->pin_path)
                return -ENOMEM;
        r = pin_fd(u, link_fd, strdup(l->pin_path));
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot pin link %" PRIu32 ": %m", l->id);
        *ret = TAKE_PTR(l);
        return 0;
}

int engine_attach(Engine *e, uint32_t program_id, const AttachTarget *target, const Caller *caller,
                  LinkInfo **ret, EngineError *error) {
        _cleanup_(undo_done) Undo undo = { .engine = e, .pins = g_ptr_array_new_with_free_func(free),
                                           .slots = g_ptr_array_new_with_free_func(link_info_destroy),
                                           .journals = g_ptr_array_new_with_free_func(free) };
        Group *g = g_hash_table_lookup(e->programs, GUINT_TO_POINTER(program_id));
        LinkInfo *l = NULL;
        ProgramInfo *p;
        int r;

        assert(e);
        assert(target);
        assert(caller);
        assert(ret);

        if (!g || !(p = group_find_program(g, program_id, NULL)))
                return engine_error_setf(error, BPFD_ERR_PROGRAM_NOT_FOUND, "No program %" PRIu32 " is loaded by bpfd.",
                                         program_id);
        if (IN_SET2(target->kind, KIND_FENTRY, KIND_FEXIT) && p->attach_function &&
            !streq(target->function, p->attach_function))
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "Program %" PRIu32 " was loaded to trace '%s'; it cannot trace '%s'.", p->id,
                                         p->attach_function, target->function);
        r = make_link(e, &undo, p, g->object_path, target, caller, &l, error);
        if (r < 0) {
                undo_run(&undo);
                return r;
        }
        g_ptr_array_add(g->links, l);
        r = group_save(e, g);
        if (r < 0) {
                g_ptr_array_remove(g->links, l); /* drops the last reference */
                undo_run(&undo);
                return engine_error_set_errnof(error, r, "Cannot write the state record: %m");
        }
        g_hash_table_replace(e->links, GUINT_TO_POINTER(l->id), g);
        engine_changes_note_link(&e->changes, l, true);
        undo_commit(&undo);
        log_info("Attached program %" PRIu32 " at %s (link %" PRIu32 ", uid %u).", program_id, l->attach_point, l->id,
                 (unsigned) caller->uid);
        *ret = link_info_ref(l);
        return 0;
}

static LinkInfo *group_steal_link(Group *g, uint32_t id) {
        assert(g);

        for (guint i = 0; i < g->links->len; i++) {
                LinkInfo *l = g_ptr_array_index(g->links, i);
                if (l->id == id)
                        return g_ptr_array_steal_index(g->links, i);
        }
        return NULL;
}

/* Drops bpfd's pin of a link. The answer to the caller waits until the kernel has let go of the hook, so
 * that an attach right after finds the place free (a tracepoint takes 64 programs). */
static void unpin_link(const LinkInfo *l) {
        int r;

        assert(l);
        assert(l->pin_path);

        if (unlink(l->pin_path) < 0) {
                log_warning("Cannot unpin %s: %m", l->pin_path);
                return;
        }
        if (l->target.kind == KIND_TRACEPOINT && l->target.tracepoint) {
                r = tracepoint_wait_released(l->target.tracepoint, l->program_id);
                if (r < 0)
                        log_warning_errno(r, "Program %" PRIu32 " may still be on tracepoint %s: %m", l->program_id,
                                          l->target.tracepoint);
        }
}

int engine_detach(Engine *e, uint32_t link_id, EngineError *error) {
        Group *g = g_hash_table_lookup(e->links, GUINT_TO_POINTER(link_id));
        _cleanup_(link_info_unrefp) LinkInfo *l = NULL;
        int r;

        assert(e);

        if (!g || !(l = group_steal_link(g, link_id)))
                return engine_error_setf(error, BPFD_ERR_LINK_NOT_FOUND, "No link %" PRIu32 " is managed by bpfd.",
                                         link_id);
        r = group_save(e, g);
        if (r < 0) {
                g_ptr_array_add(g->links, TAKE_PTR(l));
                return engine_error_set_errnof(error, r, "Cannot write the state record: %m");
        }
        g_hash_table_remove(e->links, GUINT_TO_POINTER(link_id));
        engine_changes_note_link(&e->changes, l, false);
        /* The record no longer names the link; dropping the pin (or the slot) detaches it. */
        if (l->component_id)
                remove_slot(e, l);
        else
                unpin_link(l);
        log_info("Detached link %" PRIu32 " (%s).", link_id, l->attach_point);
        return 0;
}

/* Whether any loaded program keeps its maps in load group gid's directory (its own group, or a borrower:
 * counted, so an unload does not walk every program). */
bool map_dir_in_use(Engine *e, uint32_t gid) {
        assert(e);

        return g_hash_table_contains(e->groups, GUINT_TO_POINTER(gid)) ||
               g_hash_table_contains(e->map_borrowers, GUINT_TO_POINTER(gid));
}

/* Shared maps stay pinned while any program that uses them is loaded, whichever unloads first. */
static void release_map_dir(Engine *e, uint32_t gid) {
        _cleanup_free_ char *dir = NULL;

        assert(e);

        if (map_dir_in_use(e, gid) || !(dir = path_join(e->maps_dir, "%" PRIu32, gid)))
                return;
        (void) rm_rf_children(dir);
        (void) rmdir(dir);
}

int engine_unload(Engine *e, uint32_t program_id, uint32_t **ret_link_ids, size_t *ret_n, EngineError *error) {
        Group *g = g_hash_table_lookup(e->programs, GUINT_TO_POINTER(program_id));
        _cleanup_(program_info_unrefp) ProgramInfo *p = NULL;
        g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(link_info_destroy);
        _cleanup_free_ uint32_t *ids = NULL;
        guint index;
        int r;

        assert(e);
        assert(ret_link_ids);
        assert(ret_n);

        if (!g || !group_find_program(g, program_id, &index))
                return engine_error_setf(error, BPFD_ERR_PROGRAM_NOT_FOUND, "No program %" PRIu32 " is loaded by bpfd.",
                                         program_id);
        ids = calloc(g->links->len + 1, sizeof(uint32_t));
        if (!ids)
                return -ENOMEM;
        p = g_ptr_array_steal_index(g->programs, index);
        for (guint i = g->links->len; i > 0; i--) {
                LinkInfo *l = g_ptr_array_index(g->links, i - 1);
                if (l->program_id == program_id)
                        g_ptr_array_add(gone, g_ptr_array_steal_index(g->links, i - 1));
        }
        r = g->programs->len > 0 ? group_save(e, g) : group_remove_record(e, g->id);
        if (r < 0) {
                g_ptr_array_add(g->programs, TAKE_PTR(p));
                for (guint i = 0; i < gone->len; i++)
                        g_ptr_array_add(g->links, link_info_ref(g_ptr_array_index(gone, i)));
                return engine_error_set_errnof(error, r, "Cannot write the state record: %m");
        }
        /* Committed: now release the kernel objects. */
        for (guint i = 0; i < gone->len; i++) {
                LinkInfo *l = g_ptr_array_index(gone, i);
                ids[i] = l->id;
                g_hash_table_remove(e->links, GUINT_TO_POINTER(l->id));
                engine_changes_note_link(&e->changes, l, false);
                if (l->component_id)
                        remove_slot(e, l);
                else
                        unpin_link(l);
        }
        if (unlink(p->pin_path) < 0)
                log_warning("Cannot unpin %s: %m", p->pin_path);
        g_hash_table_remove(e->programs, GUINT_TO_POINTER(program_id));
        engine_changes_note_program(&e->changes, p, false);
        if (g->programs->len == 0) {
                uint32_t gid = g->id;
                if (g->object_path)
                        (void) unlink(g->object_path);
                g_hash_table_remove(e->groups, GUINT_TO_POINTER(gid));
                release_map_dir(e, gid);
        }
        /* A program that shared another group's maps may have been their last user. */
        if (p->map_group) {
                map_borrowers_add(e, p->map_group, -1);
                release_map_dir(e, p->map_group);
        }
        log_info("Unloaded program %" PRIu32 " (%s) and %u link(s).", program_id, p->name, gone->len);
        *ret_n = gone->len;
        *ret_link_ids = TAKE_PTR(ids);
        return 0;
}
