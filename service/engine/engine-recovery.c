/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine: recovery after a restart. */
#include <assert.h>
#include <bpf/bpf.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>

#include "engine-internal.h"
#include "engine-steps.h"
#include "engine-hooks.h"
#include "log.h"
#include "netns.h"
#include "target-record.h"
#include "xdp-chain.h"

static ProgramInfo *recover_program(Engine *e, GKeyFile *kf, const char *sec, uint32_t id, Group *g) {
        _cleanup_(program_info_unrefp) ProgramInfo *p = calloc(1, sizeof(ProgramInfo));
        struct bpf_prog_info info = {};
        uint32_t len = sizeof info;

        assert(e);
        assert(kf);
        assert(sec);
        assert(g);

        if (!p)
                return NULL;
        p->n_ref = 1;
        p->fd = -1;
        p->pin_path = path_join(e->fs_dir, "prog_%" PRIu32, id);
        if (!p->pin_path)
                return NULL;
        p->fd = bpf_obj_get(p->pin_path);
        if (p->fd < 0) {
                /* No pin at all is what a reboot leaves (bpffs is empty again): counted, said once. */
                if (errno == ENOENT) {
                        log_debug("Program %" PRIu32 " of the state is gone (%s: %m), forgetting it.", id, p->pin_path);
                        e->forgotten_programs++;
                } else
                        log_warning("Program %" PRIu32 " of the state is gone (%s: %m), forgetting it.", id, p->pin_path);
                return NULL;
        }
        if (bpf_obj_get_info_by_fd(p->fd, &info, &len) < 0 || info.id != id) {
                log_warning("The pin %s holds another program than %" PRIu32 ", forgetting it.", p->pin_path, id);
                (void) unlink(p->pin_path);
                return NULL;
        }
        p->id = id;
        p->load_group = g->id;
        p->owner_uid = g->owner_uid;
        p->source = strdup(g->source);
        if (!p->source || record_read_program(kf, sec, p) < 0)
                return NULL;
        return TAKE_PTR(p);
}

/* Whether the slot's program is still in the XDP chain of its interface, looked at in its namespace. */
static bool slot_in_chain(const LinkInfo *l) {
        _cleanup_free_ XdpChainEntry *entries = NULL;
        NetnsGuard guard;
        uint64_t ino = 0;
        size_t n = 0;
        bool found = false;

        assert(l);

        if (netns_enter(l->target.netns, &daemon_caller, &guard) < 0)
                return false;
        if (netns_current_inode(&ino) >= 0 && ino == l->netns_ino &&
            xdp_chain_list((int) l->ifindex, &entries, &n, NULL, NULL, NULL) >= 0)
                for (size_t i = 0; i < n; i++)
                        found = found || entries[i].prog_id == l->component_id;
        netns_leave(&guard);
        return found;
}

/* A journal's slot: where it was being added. */
typedef struct JournalSlot {
        GKeyFile *kf;
        const char *netns;
        uint64_t netns_ino;
        uint32_t ifindex;
} JournalSlot;

/* Enters the slot's namespace if it is still the one the journal names. */
static bool journal_slot_enter(const JournalSlot *j, NetnsGuard *guard) {
        uint64_t ino;

        if (netns_enter(j->netns, &daemon_caller, guard) < 0)
                return false;
        if (netns_current_inode(&ino) >= 0 && ino == j->netns_ino)
                return true;
        netns_leave(guard);
        return false;
}

/* tcx without TCX: a filter added but never committed goes again. */
static void journal_undo_tcx(Engine *e, const JournalSlot *j) {
        g_autofree gchar *direction = g_key_file_get_string(j->kf, "Slot", "Direction", NULL);
        g_autoptr(GPtrArray) all = engine_all_links(e);
        LinkInfo slot = { .netns_ino = j->netns_ino, .ifindex = j->ifindex,
                          .tc_priority = (uint32_t) g_key_file_get_uint64(j->kf, "Slot", "TcPriority", NULL),
                          .target = { .kind = KIND_TCX, .netns = (char *) j->netns, .direction = direction } };
        NetnsGuard guard;

        for (guint k = 0; k < all->len; k++) {
                LinkInfo *l = g_ptr_array_index(all, k);
                if (l->tc_priority == slot.tc_priority && l->ifindex == j->ifindex && l->netns_ino == j->netns_ino &&
                    streq_ptr(l->target.direction, direction))
                        return; /* committed after all */
        }
        if (!direction || !slot.tc_priority || !journal_slot_enter(j, &guard))
                return;
        remove_tc_filter(&slot);
        netns_leave(&guard);
}

/* TC: whatever was half done there, the hook gets exactly the committed slots. */
static void journal_undo_tc(Engine *e, const JournalSlot *j) {
        g_autofree gchar *direction = g_key_file_get_string(j->kf, "Slot", "Direction", NULL);
        LinkInfo hook = { .netns_ino = j->netns_ino, .ifindex = j->ifindex,
                          .target = { .kind = KIND_TC, .netns = (char *) j->netns, .direction = direction,
                                      .interface = (char *) "(recovered)" } };
        _cleanup_(engine_error_done) EngineError error = ENGINE_ERROR_NULL;
        NetnsGuard guard;

        if (!direction || !journal_slot_enter(j, &guard))
                return;
        if (tc_hook_update(e, &hook, NULL, -1, 0, &error) < 0)
                log_warning("Cannot restore the TC dispatcher of ifindex %" PRIu32 ": %s", j->ifindex, error.message);
        netns_leave(&guard);
}

/* XDP: a slot of the dispatcher is found by its run priority (unique), a program attached alone by its id. */
static void journal_undo_xdp(Engine *e, const JournalSlot *j) {
        unsigned run_prio = (unsigned) g_key_file_get_uint64(j->kf, "Slot", "RunPrio", NULL);
        uint32_t alone = (uint32_t) g_key_file_get_uint64(j->kf, "Slot", "Program", NULL);
        g_autoptr(GPtrArray) all = engine_all_links(e);
        _cleanup_free_ XdpChainEntry *entries = NULL;
        NetnsGuard guard;
        size_t n = 0;

        for (guint k = 0; k < all->len; k++) {
                LinkInfo *l = g_ptr_array_index(all, k);
                if (l->component_id && l->ifindex == j->ifindex && l->netns_ino == j->netns_ino &&
                    xdp_run_prio(l) == run_prio)
                        return; /* committed after all */
        }
        if (!journal_slot_enter(j, &guard))
                return;
        if (xdp_chain_list((int) j->ifindex, &entries, &n, NULL, NULL, NULL) >= 0)
                for (size_t i = 0; i < n; i++)
                        if ((run_prio && entries[i].run_prio == run_prio) || (alone && entries[i].prog_id == alone)) {
                                log_info("Taking the uncommitted program %" PRIu32 " out of the XDP chain of ifindex %" PRIu32 ".",
                                         entries[i].prog_id, j->ifindex);
                                (void) xdp_chain_remove((int) j->ifindex, entries[i].prog_id);
                        }
        netns_leave(&guard);
}

/* A journal names a slot that was being added when bpfd stopped. If no record took it over, it is taken
 * out of its chain again. The journal goes either way. */
static void recover_journal(Engine *e, const char *path) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree gchar *kind = NULL, *netns = NULL;
        JournalSlot j;

        assert(e);
        assert(path);

        if (g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL)) {
                netns = g_key_file_get_string(kf, "Slot", "Netns", NULL);
                kind = g_key_file_get_string(kf, "Slot", "Kind", NULL);
                j = (JournalSlot) { .kf = kf, .netns = netns,
                                    .netns_ino = g_key_file_get_uint64(kf, "Slot", "NetnsInode", NULL),
                                    .ifindex = (uint32_t) g_key_file_get_uint64(kf, "Slot", "Ifindex", NULL) };
                if (kind && streq(kind, "tcx"))
                        journal_undo_tcx(e, &j);
                else if (kind && streq(kind, "tc"))
                        journal_undo_tc(e, &j);
                else
                        journal_undo_xdp(e, &j);
        }
        (void) unlink(path);
}

/* A link in a dispatcher's slot (TCX placed by priority, bpfd's TC dispatcher, libxdp's XDP dispatcher):
 * still there if its extension is. */
static bool recover_component_link(Engine *e, LinkInfo *l, uint32_t id) {
        assert(e);
        assert(l);

        if (l->target.kind == KIND_TCX) {
                NetnsGuard guard;
                bool present = false;

                if (!(l->pin_path = strdup("")))
                        return false;
                if (netns_enter(l->target.netns, &daemon_caller, &guard) >= 0) {
                        present = tc_filter_present(l);
                        netns_leave(&guard);
                }
                if (!present) {
                        log_warning("The tc filter of link %" PRIu32 " is gone, forgetting it.", id);
                        return false;
                }
                return true;
        }
        if (l->target.kind == KIND_TC) {
                struct bpf_prog_info info = {};
                uint32_t len = sizeof info;
                _cleanup_close_ int ext = -1;

                /* The extension's pin keeps it; the dispatcher's own pins keep the chain. */
                l->pin_path = path_join(e->fs_dir, "tcext_%" PRIu32, l->component_id);
                ext = l->pin_path ? bpf_obj_get(l->pin_path) : -1;
                if (ext < 0 || bpf_obj_get_info_by_fd(ext, &info, &len) < 0 || info.id != l->component_id) {
                        log_warning("The extension of link %" PRIu32 " is gone, forgetting it.", id);
                        return false;
                }
                return true;
        }
        if (!(l->pin_path = strdup("")))
                return false;
        if (!slot_in_chain(l)) {
                log_warning("Link %" PRIu32 " is no longer in the XDP chain of %s, forgetting it.", id,
                            l->target.interface);
                return false;
        }
        return true;
}

/* A plain link: its pin still holds the link of this id, of this program. */
static bool recover_pinned_link(Engine *e, LinkInfo *l, uint32_t id) {
        _cleanup_close_ int fd = -1;
        uint32_t kid, kprog;

        assert(e);
        assert(l);

        l->pin_path = path_join(e->fs_dir, "link_%" PRIu32, id);
        if (!l->pin_path)
                return false;
        fd = bpf_obj_get(l->pin_path);
        if (fd < 0) {
                log_warning("Link %" PRIu32 " of the state is gone (%s: %m), forgetting it.", id, l->pin_path);
                return false;
        }
        if (link_id_of_fd(fd, &kid, &kprog) < 0 || kid != id || kprog != l->program_id) {
                log_warning("The pin %s holds another link than %" PRIu32 ", forgetting it.", l->pin_path, id);
                (void) unlink(l->pin_path);
                return false;
        }
        return true;
}

static LinkInfo *recover_link(Engine *e, GKeyFile *kf, const char *sec, uint32_t id, Group *g) {
        _cleanup_(link_info_unrefp) LinkInfo *l = calloc(1, sizeof(LinkInfo));
        int r;

        assert(e);
        assert(kf);
        assert(sec);
        assert(g);

        if (!l)
                return NULL;
        l->n_ref = 1;
        l->id = id;
        r = record_read_link(kf, sec, l);
        /* Even a link that is not recovered has used its place in the attach order. */
        if (l->seq > e->link_seq)
                e->link_seq = l->seq;
        if (r < 0 || !group_find_program(g, l->program_id, NULL))
                return NULL;
        /* Slot ids, like link ids, are never given out twice, recovered or not. */
        if (l->component_id && id > e->slot_id)
                e->slot_id = id;
        if (!(l->component_id ? recover_component_link(e, l, id) : recover_pinned_link(e, l, id)))
                return NULL;
        return TAKE_PTR(l);
}

static int recover_group(Engine *e, const char *path) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_auto(GStrv) sections = NULL;
        g_autofree gchar *source = NULL;
        Group *g;
        bool changed = false;

        assert(e);
        assert(path);

        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL)) {
                log_warning("Cannot parse state record %s, removing it.", path);
                (void) unlink(path);
                return 0;
        }
        source = g_key_file_get_string(kf, "Group", "Source", NULL);
        g = group_new((uint32_t) g_key_file_get_uint64(kf, "Group", "Id", NULL),
                      (uid_t) g_key_file_get_uint64(kf, "Group", "Owner", NULL), source);
        if (!g)
                return -ENOMEM;
        g->object_path = g_key_file_get_string(kf, "Group", "Object", NULL);
        sections = g_key_file_get_groups(kf, NULL);
        for (int pass = 0; pass < 2; pass++)
                for (gchar **s = sections; *s; s++) {
                        unsigned id;
                        if (pass == 0 && sscanf(*s, "Program %u", &id) == 1) {
                                ProgramInfo *p = recover_program(e, kf, *s, id, g);
                                if (p)
                                        g_ptr_array_add(g->programs, p);
                                else
                                        changed = true;
                        } else if (pass == 1 && sscanf(*s, "Link %u", &id) == 1) {
                                LinkInfo *l = recover_link(e, kf, *s, id, g);
                                if (l)
                                        g_ptr_array_add(g->links, l);
                                else
                                        changed = true;
                        }
                }
        if (g->programs->len == 0) {
                log_info("Nothing of load group %" PRIu32 " survived, removing its record.", g->id);
                (void) unlink(path);
                group_free(g);
                return 0;
        }
        if (changed)
                (void) group_save(e, g);
        engine_index_group(e, g);
        return 0;
}

static bool tc_extension_in_use(Engine *e, uint32_t component_id) {
        g_autoptr(GPtrArray) all = engine_all_links(e);

        for (guint k = 0; k < all->len; k++) {
                LinkInfo *l = g_ptr_array_index(all, k);
                if (l->target.kind == KIND_TC && l->component_id == component_id)
                        return true;
        }
        return false;
}

/* Removes name from the directory d reads (never from the working directory, whatever dirfd() says). */
static void unlink_in(DIR *d, const char *name) {
        int fd = dirfd(d);

        if (fd >= 0)
                (void) unlinkat(fd, name, 0);
}

/* Pins no record names are leftovers of an operation that was interrupted before its commit. */
static void sweep_orphans(Engine *e) {
        DIR *d = opendir(e->fs_dir);
        struct dirent *de;

        assert(e);

        if (!d)
                return;
        while ((de = readdir(d))) {
                unsigned id;
                bool keep = true;

                if (sscanf(de->d_name, "prog_%u", &id) == 1)
                        keep = g_hash_table_contains(e->programs, GUINT_TO_POINTER(id));
                else if (sscanf(de->d_name, "link_%u", &id) == 1)
                        keep = g_hash_table_contains(e->links, GUINT_TO_POINTER(id));
                else if (sscanf(de->d_name, "tcext_%u", &id) == 1)
                        keep = tc_extension_in_use(e, id);
                if (!keep) {
                        log_info("Removing orphaned pin %s/%s.", e->fs_dir, de->d_name);
                        unlink_in(d, de->d_name);
                }
        }
        closedir(d);
        d = opendir(e->objects_dir);
        while (d && (de = readdir(d))) {
                unsigned id;
                if (sscanf(de->d_name, "group-%u.o", &id) == 1 && !g_hash_table_contains(e->groups, GUINT_TO_POINTER(id))) {
                        log_info("Removing the orphaned object %s/%s.", e->objects_dir, de->d_name);
                        unlink_in(d, de->d_name);
                }
        }
        if (d)
                closedir(d);
        d = opendir(e->maps_dir);
        if (!d)
                return;
        while ((de = readdir(d))) {
                unsigned id;
                if (sscanf(de->d_name, "%u", &id) == 1 && !map_dir_in_use(e, id)) {
                        _cleanup_free_ char *dir = path_join(e->maps_dir, "%s", de->d_name);
                        log_info("Removing orphaned map pins %s.", strempty(dir));
                        if (dir) {
                                (void) rm_rf_children(dir);
                                (void) rmdir(dir);
                        }
                }
        }
        closedir(d);
}

int engine_recover(Engine *e) {
        DIR *d;
        struct dirent *de;
        int r = 0;

        assert(e);

        r = mkdir_p_one(e->state_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Cannot create %s: %m", e->state_dir);
        (void) mkdir_p_one(e->maps_dir, 0755);
        /* Made here with the rest of bpfd's state, not by the first network load (which left it behind
         * when that load failed). */
        (void) mkdir_p_one(e->objects_dir, 0700);
        d = opendir(e->state_dir);
        if (!d)
                return log_error_errno(-errno, "Cannot open %s: %m", e->state_dir);
        while ((de = readdir(d))) {
                _cleanup_free_ char *p = path_join(e->state_dir, "%s", de->d_name);
                size_t n = strlen(de->d_name);

                if (!p)
                        continue;
                if (n > 4 && streq(de->d_name + n - 4, ".tmp")) {
                        (void) unlink(p); /* an interrupted write; the record it replaced is still there */
                        continue;
                }
                if (strncmp(de->d_name, "group-", 6) == 0 && n > 5 && streq(de->d_name + n - 5, ".conf")) {
                        r = recover_group(e, p);
                        if (r < 0)
                                break;
                }
        }
        closedir(d);
        d = opendir(e->state_dir);
        while (d && (de = readdir(d))) {
                size_t n = strlen(de->d_name);
                if (n > 8 && streq(de->d_name + n - 8, ".journal")) {
                        _cleanup_free_ char *p = path_join(e->state_dir, "%s", de->d_name);
                        if (p)
                                recover_journal(e, p);
                }
        }
        if (d)
                closedir(d);
        sweep_orphans(e);
        log_info("Recovered %u program(s) and %u link(s) from %s.", g_hash_table_size(e->programs),
                 g_hash_table_size(e->links), e->state_dir);
        if (e->forgotten_programs > 0)
                log_info("Forgot %u program(s) of the state that are no longer in the kernel (as after a reboot), "
                         "with their links.", e->forgotten_programs);
        return r;
}
