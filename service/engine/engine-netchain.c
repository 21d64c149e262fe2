/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine: network hooks: XDP through libxdp's dispatcher, TC through bpfd's, TCX ordered by priority. */
#include <assert.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>

#include "engine-internal.h"
#include "engine-hooks.h"
#include "log.h"
#include "netns.h"
#include "tc-dispatcher.h"
#include "tcx.h"
#include "xdp-chain.h"

/* The links of bpfd on one TCX hook, which a new link is ordered among. */
static bool same_tcx_hook(const LinkInfo *a, const LinkInfo *b) {
        return a->target.kind == KIND_TCX && b->target.kind == KIND_TCX && a->netns_ino == b->netns_ino &&
               a->ifindex == b->ifindex && streq(a->target.direction, b->target.direction);
}

static bool runs_before(const LinkInfo *a, const LinkInfo *b) {
        return a->target.priority < b->target.priority ||
               (a->target.priority == b->target.priority && a->seq < b->seq);
}

/* Places the link by priority (then attach order) among bpfd's own links on the hook, through before/after
 * anchors the kernel checks against the chain's revision: when someone changed the chain meanwhile, look again.
 * Programs others attached stay where they are. */
static int attach_tcx_ordered(Engine *e, ProgramInfo *p, LinkInfo *l, int *ret_link_fd, EngineError *error) {
        bool egress = streq(l->target.direction, "egress");

        assert(e);
        assert(p);
        assert(l);
        assert(ret_link_fd);

        for (unsigned attempt = 0; attempt < 10; attempt++) {
                _cleanup_(tcx_chain_done) TcxChain chain = {};
                TcxPosition position = TCX_APPEND;
                uint32_t anchor = 0;
                int r;

                r = tcx_query(l->ifindex, egress, &chain);
                if (r < 0)
                        return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED, "Cannot read the TCX chain of '%s': %s",
                                                 l->target.interface, strerror(-r));
                for (size_t i = 0; i < chain.n; i++) {
                        Group *g = chain.link_ids[i] ? g_hash_table_lookup(e->links, GUINT_TO_POINTER(chain.link_ids[i])) : NULL;
                        LinkInfo *other = NULL;

                        for (guint k = 0; g && k < g->links->len; k++)
                                if (((LinkInfo *) g_ptr_array_index(g->links, k))->id == chain.link_ids[i])
                                        other = g_ptr_array_index(g->links, k);
                        if (!other || !same_tcx_hook(other, l))
                                continue;
                        if (runs_before(other, l)) {
                                position = TCX_AFTER_LINK; /* the last of ours that runs before wins */
                                anchor = other->id;
                        } else if (position == TCX_APPEND) {
                                position = TCX_BEFORE_LINK; /* none of ours before: before the first after */
                                anchor = other->id;
                        }
                }
                r = tcx_attach(p->fd, l->ifindex, egress, position, anchor, chain.revision, ret_link_fd);
                if (r == -ESTALE)
                        continue;
                if (r == -EINVAL && p->kind != KIND_TC && p->kind != KIND_TCX)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Only tc programs attach to TCX.");
                if (r < 0)
                        return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                                 "The kernel refused the TCX attachment on '%s' (%s): %s",
                                                 l->target.interface, l->target.direction, strerror(-r));
                return 0;
        }
        return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                 "The TCX chain of '%s' kept changing while bpfd placed the program; try again.",
                                 l->target.interface);
}

static const char *const xdp_action_names[] = { "aborted", "drop", "pass", "tx", "redirect" };

/* The slot's place in libxdp's order: priority first, then attach order; unique per link, so it also tells
 * the slot apart in the chain before its component id is known (see the journal). */
unsigned xdp_run_prio(const LinkInfo *l) {
        assert(l);

        return ((unsigned) l->target.priority << 16) | (unsigned) (l->seq & 0xffff);
}

void remove_slot(Engine *e, LinkInfo *l) {
        NetnsGuard guard;
        int r;

        assert(e);
        assert(l);
        assert(l->component_id);

        if (netns_enter(l->target.netns, &daemon_caller, &guard) < 0)
                return; /* the namespace is gone, and the chain with it */
        if (l->target.kind == KIND_TCX)
                remove_tc_filter(l);
 else if (l->target.kind == KIND_TC) {
                _cleanup_(engine_error_done) EngineError error = ENGINE_ERROR_NULL;
                /* The hook as bpfd's records have it, without this slot. */
                if (tc_hook_update(e, l, NULL, -1, l->id, &error) < 0)
                        log_warning("Cannot rebuild the TC dispatcher of %s: %s", l->target.interface, error.message);
                if (l->pin_path && *l->pin_path)
                        (void) unlink(l->pin_path);
        } else {
                r = xdp_chain_remove((int) l->ifindex, l->component_id);
                if (r < 0 && r != -ENOENT && r != -ENODEV)
                        log_warning("Cannot take program %" PRIu32 " out of the XDP chain of %s: %s (%s)", l->component_id,
                                    l->target.interface, strerror(-r), xdp_chain_last_error());
        }
        netns_leave(&guard);
}

static int map_reuse_lists(ProgramInfo *p, char ***ret_names, int **ret_fds, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ int *fds = calloc(p->n_maps + 1, sizeof(int));
        size_t n = 0;

        assert(p);
        assert(ret_names);
        assert(ret_fds);
        assert(ret_n);

        if (!fds)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_maps; i++) {
                const char *dot = strchr(p->maps[i].name, '.');
                int fd = bpf_obj_get(p->maps[i].pin_path);
                if (fd < 0)
                        continue;
                /* Internal maps ("obj.rodata") are found by their section name in a fresh open. */
                if (strv_push(&names, strdup(dot ?: p->maps[i].name)) < 0) {
                        close(fd);
                        return -ENOMEM;
                }
                fds[n++] = fd;
        }
        *ret_names = TAKE_PTR(names);
        *ret_fds = TAKE_PTR(fds);
        *ret_n = n;
        return 0;
}

/* A dispatcher slot is filled from the program's object as bpfd kept it at load time. */
static int read_kept_object(const ProgramInfo *p, const char *object_path, char **ret, size_t *ret_size,
                            EngineError *error) {
        int r;

        assert(p);
        assert(ret);
        assert(ret_size);

        if (!object_path)
                return engine_error_setf(error, BPFD_ERR_FAILED, "The object of program %" PRIu32 " was not kept.", p->id);
        r = read_full_file(object_path, OBJECT_SIZE_MAX, ret, ret_size);
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot read the kept object %s: %m", object_path);
        return 0;
}

/* Whether the XDP program prog_id on the link's interface is the slot of one of bpfd's links. */
static bool xdp_program_is_ours(Engine *e, const LinkInfo *l, uint32_t prog_id) {
        g_autoptr(GPtrArray) all = engine_all_links(e);

        for (guint k = 0; k < all->len; k++) {
                const LinkInfo *o = g_ptr_array_index(all, k);
                if (o->target.kind == KIND_XDP && o->component_id == prog_id && o->ifindex == l->ifindex &&
                    o->netns_ino == l->netns_ino)
                        return true;
        }
        return false;
}

/* The interface already runs a plain XDP program: name it, and say whether it is bpfd's. */
static int xdp_occupied_error(Engine *e, const LinkInfo *l, EngineError *error) {
        char name[64] = "";
        uint32_t id = 0;

        assert(e);
        assert(l);

        if (xdp_chain_plain_program((int) l->ifindex, &id, name, sizeof(name)) < 0 || id == 0)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                         "Interface '%s' already runs an XDP program.", l->target.interface);
        if (!xdp_program_is_ours(e, l, id))
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                         "Interface '%s' already runs program %" PRIu32 " (%s), not loaded by bpfd.",
                                         l->target.interface, id, name);
        return engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED,
                                 "This kernel cannot run libxdp's dispatcher (it needs freplace), so '%s' takes one "
                                 "XDP program only, and it has one already (program %" PRIu32 " of bpfd).",
                                 l->target.interface, id);
}

static int attach_xdp(Engine *e, Undo *u, ProgramInfo *p, const char *object_path, LinkInfo *l, EngineError *error) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ int *fds = NULL;
        _cleanup_free_ char *obj = NULL;
        enum xdp_attach_mode mode = XDP_MODE_UNSPEC;
        unsigned actions = 0;
        size_t size, n = 0;
        bool is_dispatcher = false;
        uint32_t plain_id = 0;
        int r;

        assert(e);
        assert(u);
        assert(p);
        assert(l);

        r = read_kept_object(p, object_path, &obj, &size, error);
        if (r < 0)
                return r;
        for (char **a = l->target.proceed_on; a && *a; a++)
                for (unsigned i = 0; i < ELEMENTSOF(xdp_action_names); i++)
                        if (streq(*a, xdp_action_names[i]))
                                actions |= 1U << i;
        if (l->target.mode)
                mode = streq(l->target.mode, "skb") ? XDP_MODE_SKB : streq(l->target.mode, "hw") ? XDP_MODE_HW : XDP_MODE_NATIVE;
        r = map_reuse_lists(p, &names, &fds, &n);
        if (r < 0)
                return r;
        r = journal_write(e, u, l);
        if (r < 0)
                goto out;
        r = xdp_chain_add((int) l->ifindex, obj, size, p->name, (const char *const *) names, fds, n, xdp_run_prio(l),
                          actions, mode, &l->component_id, &is_dispatcher);
        switch (r) {
        case -E2BIG:
                engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                  "The XDP chain of '%s' is full: it holds %d programs, the dispatcher's limit.",
                                  l->target.interface, XDP_CHAIN_MAX);
                break;
        case -EBUSY:
                (void) xdp_occupied_error(e, l, error);
                break;
        case -EOPNOTSUPP:
                if (xdp_chain_plain_program((int) l->ifindex, &plain_id, NULL, 0) >= 0 && plain_id)
                        (void) xdp_occupied_error(e, l, error);
                else if (mode == XDP_MODE_NATIVE)
                        engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED,
                                          "Interface '%s' has no native XDP support (its driver cannot run XDP "
                                          "programs in mode 'native'; mode 'skb' works on every interface).",
                                          l->target.interface);
                else
                        engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED, "Cannot attach to '%s': %s",
                                          l->target.interface, xdp_chain_last_error());
                break;
        case -ENODEV:
                engine_error_setf(error, BPFD_ERR_ATTACH_TARGET_NOT_FOUND, "There is no network interface '%s'.",
                                  l->target.interface);
                break;
        case -EINVAL:
                engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "libxdp refused the attachment: %s",
                                  xdp_chain_last_error());
                break;
        default:
                if (r < 0)
                        engine_error_setf(error, BPFD_ERR_ATTACH_FAILED, "Cannot add the program to the XDP chain of '%s': %s (%s)",
                                          l->target.interface, strerror(-r), xdp_chain_last_error());
        }
        if (r >= 0 && !is_dispatcher) {
                /* libxdp fell back to attaching alone a copy it loaded from the object (the kernel cannot
                 * run its dispatcher): put the caller's program itself in its place, so that what runs is
                 * what bpfd reports; the copy goes when libxdp's descriptors close. */
                r = xdp_chain_replace_plain((int) l->ifindex, l->component_id, p->fd);
                if (r < 0) {
                        (void) xdp_chain_remove((int) l->ifindex, l->component_id);
                        engine_error_setf(error, BPFD_ERR_ATTACH_FAILED, "Cannot attach the program to '%s': %s",
                                          l->target.interface, xdp_chain_last_error());
                } else
                        l->component_id = p->id;
        }
        if (r >= 0) {
                r = 0;
                g_ptr_array_add(u->slots, link_info_ref(l));
                if (!is_dispatcher)
                        log_info("The kernel cannot run the XDP dispatcher: program %" PRIu32 " runs alone on %s.", p->id,
                                 l->target.interface);
        }
out:
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
        return r;
}

static const char *const tc_action_names[] = { "ok", "reclassify", "shot", "pipe", "stolen", "queued", "repeat",
                                               "redirect", "trap" };

static uint32_t tc_chain_actions(char **proceed_on) {
        uint32_t bits = 0;

        for (char **a = proceed_on; a && *a; a++) {
                if (streq(*a, "unspec"))
                        bits |= TC_DISPATCHER_ACTION_BIT(-1);
                else if (streq(*a, "dispatcher_return"))
                        bits |= TC_DISPATCHER_ACTION_BIT(TC_DISPATCHER_RETVAL);
                for (unsigned i = 0; i < ELEMENTSOF(tc_action_names); i++)
                        if (streq(*a, tc_action_names[i]))
                                bits |= TC_DISPATCHER_ACTION_BIT((int) i);
        }
        return bits;
}

static bool same_tc_hook(const LinkInfo *a, const LinkInfo *b) {
        return a->target.kind == KIND_TC && b->target.kind == KIND_TC && a->netns_ino == b->netns_ino &&
               a->ifindex == b->ifindex && streq(a->target.direction, b->target.direction);
}

static int cmp_slot(gconstpointer x, gconstpointer y) {
        const LinkInfo *a = *(LinkInfo *const *) x, *b = *(LinkInfo *const *) y;
        return runs_before(a, b) ? -1 : runs_before(b, a) ? 1 : 0;
}

/* Makes the hook's dispatcher run bpfd's committed slots of it, in priority order, plus adding (whose
 * extension is adding_fd) and without skip_id. The caller is in the hook's namespace. */
int tc_hook_update(Engine *e, const LinkInfo *hook, LinkInfo *adding, int adding_fd, uint32_t skip_id,
                   EngineError *error) {
        g_autoptr(GPtrArray) slots = g_ptr_array_new();
        _cleanup_free_ char *pin_dir = NULL;
        TcDispatcherSlot config[TC_DISPATCHER_MAX_SLOTS + 1];
        int fds[TC_DISPATCHER_MAX_SLOTS + 1];
        g_autoptr(GPtrArray) all = engine_all_links(e);
        size_t n = 0;
        int r = 0;

        assert(e);
        assert(hook);
        assert(hook->target.direction);
        assert(adding_fd >= 0 || !adding);

        for (guint k = 0; k < all->len; k++) {
                LinkInfo *l = g_ptr_array_index(all, k);
                assert(l); /* the engine's links */
                if (same_tc_hook(l, hook) && l->id != skip_id && !(adding && l == adding))
                        g_ptr_array_add(slots, l);
        }
        if (adding)
                g_ptr_array_add(slots, adding);
        if (slots->len > TC_DISPATCHER_MAX_SLOTS)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                         "The TC dispatcher of '%s' (%s) is full: it holds %d programs.",
                                         hook->target.interface, hook->target.direction, TC_DISPATCHER_MAX_SLOTS);
        g_ptr_array_sort(slots, cmp_slot);
        for (; n < slots->len; n++) {
                LinkInfo *l = g_ptr_array_index(slots, n);
                fds[n] = l == adding ? adding_fd : bpf_obj_get(l->pin_path);
                if (fds[n] < 0) {
                        r = engine_error_set_errnof(error, -errno, "Cannot open the extension of link %" PRIu32 ": %m", l->id);
                        goto out;
                }
                config[n] = (TcDispatcherSlot) { .ext_fd = fds[n], .chain_actions = tc_chain_actions(l->target.proceed_on),
                                                 .run_prio = (uint32_t) l->target.priority };
        }
        if (asprintf(&pin_dir, "%s/tc/%" PRIu64 "-%" PRIu32 "-%s", e->fs_dir, hook->netns_ino, hook->ifindex,
                     hook->target.direction) < 0) {
                r = -ENOMEM;
                goto out;
        }
        (void) mkdir_p_one(e->tc_dir, 0700);
        r = tc_dispatcher_update((int) hook->ifindex, streq(hook->target.direction, "egress"), config, n, pin_dir, NULL);
        if (r == -EBUSY)
                r = engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                      "'%s' has an \"ingress\" qdisc; bpfd's TC dispatcher needs clsact and never replaces "
                                      "someone else's qdisc.", hook->target.interface);
        else if (r < 0)
                r = engine_error_setf(error, BPFD_ERR_ATTACH_FAILED, "Cannot update the TC dispatcher of '%s' (%s): %s",
                                      hook->target.interface, hook->target.direction, strerror(-r));
out:
        for (size_t i = 0; i < n; i++)
                if (fds[i] != adding_fd)
                        close(fds[i]);
        return r;
}

static int attach_tc(Engine *e, Undo *u, ProgramInfo *p, const char *object_path, LinkInfo *l, EngineError *error) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ int *fds = NULL;
        _cleanup_free_ char *obj = NULL;
        _cleanup_close_ int ext_fd = -1;
        size_t size, n = 0;
        int r;

        assert(e);
        assert(u);
        assert(p);
        assert(l);

        r = read_kept_object(p, object_path, &obj, &size, error);
        if (r < 0)
                return r;
        r = map_reuse_lists(p, &names, &fds, &n);
        if (r < 0)
                return r;
        r = tc_component_load(obj, size, p->name, (const char *const *) names, fds, n, &ext_fd, &l->component_id);
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
        if (r == -EOPNOTSUPP)
                return engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED,
                                         "This kernel cannot run bpfd's TC dispatcher (it needs freplace); use tcx.");
        if (r < 0)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED, "Cannot load '%s' as a TC dispatcher extension: %s",
                                         p->name, strerror(-r));
        l->pin_path = path_join(e->fs_dir, "tcext_%" PRIu32, l->component_id);
        if (!l->pin_path)
                return -ENOMEM;
        r = pin_fd(u, ext_fd, strdup(l->pin_path));
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot pin the extension: %m");
        r = journal_write(e, u, l);
        if (r < 0)
                return r;
        r = tc_hook_update(e, l, l, ext_fd, 0, error);
        if (r < 0)
                return r;
        g_ptr_array_add(u->slots, link_info_ref(l));
        return 0;
}

static void tc_hook_of(const LinkInfo *l, struct bpf_tc_hook *hook) {
        *hook = (struct bpf_tc_hook) { .sz = sizeof *hook, .ifindex = (int) l->ifindex,
                                       .attach_point = streq(l->target.direction, "egress") ? BPF_TC_EGRESS : BPF_TC_INGRESS };
}

/* tcx without TCX: a direct-action cls_bpf filter whose tc priority encodes bpfd's priority, then attach
 * order (lower runs first, as in TCX); above the dispatcher's priority 50, below everything of 65100 up. */
static int attach_tc_filter(Engine *e, Undo *u, ProgramInfo *p, LinkInfo *l, EngineError *error) {
        struct bpf_tc_hook hook;
        int r;

        assert(e);
        assert(u);
        assert(p);
        assert(l);

        tc_hook_of(l, &hook);
        r = bpf_tc_hook_create(&hook);
        if (r < 0 && r != -EEXIST)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED, "Cannot add a clsact qdisc to '%s': %s",
                                         l->target.interface, strerror(-r));
        l->component_id = p->id;
        l->tc_priority = 100 + (uint32_t) (l->target.priority - 1) * 65 + (uint32_t) (l->seq % 65);
        r = journal_write(e, u, l);
        if (r < 0)
                return r;
        for (unsigned attempt = 0; attempt < 65; attempt++, l->tc_priority++) {
                LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = p->fd, .handle = BPFD_TC_FILTER_HANDLE,
                            .priority = l->tc_priority);
                r = bpf_tc_attach(&hook, &opts);
                if (r != -EEXIST)
                        break;
        }
        if (r < 0)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                         "The kernel refused the tc filter on '%s' (%s): %s", l->target.interface,
                                         l->target.direction, strerror(-r));
        g_ptr_array_add(u->slots, link_info_ref(l));
        return 0;
}

void remove_tc_filter(const LinkInfo *l) {
        struct bpf_tc_hook hook;
        LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BPFD_TC_FILTER_HANDLE, .priority = l->tc_priority);

        assert(l);

        tc_hook_of(l, &hook);
        (void) bpf_tc_detach(&hook, &opts);
}

bool tc_filter_present(const LinkInfo *l) {
        struct bpf_tc_hook hook;
        LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BPFD_TC_FILTER_HANDLE, .priority = l->tc_priority);

        assert(l);

        tc_hook_of(l, &hook);
        return bpf_tc_query(&hook, &opts) == 0 && opts.prog_id == l->component_id;
}

/* Network hooks: enter the target's namespace, find the interface, then attach there. */
int attach_net(Engine *e, Undo *u, ProgramInfo *p, const char *object_path, LinkInfo *l,
               const Caller *caller, int *ret_link_fd, EngineError *error) {
        _cleanup_(netns_leave) NetnsGuard guard = { .saved_fd = -1 };
        int r;

        assert(e);
        assert(u);
        assert(p);
        assert(l);
        assert(caller);
        assert(ret_link_fd);
        assert(l->target.interface);

        /* The namespace the caller opened before polkit was asked (attach_target_resolve()): that one. */
        if (l->target.resolved && l->target.resolved->netns_fd >= 0)
                r = netns_enter_fd(l->target.resolved->netns_fd, &guard);
        else
                r = netns_enter(l->target.netns, caller, &guard);
        if (r == -ENOENT)
                return engine_error_setf(error, BPFD_ERR_ATTACH_TARGET_NOT_FOUND, "There is no network namespace '%s'.",
                                         l->target.netns);
        if (r == -ENOTTY)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "'%s' is not a network namespace.",
                                         l->target.netns);
        if (r < 0)
                return engine_error_setf(error, bpfd_error_for_open_errno(r), "Cannot enter the network namespace '%s': %s",
                                         l->target.netns, strerror(-r));
        r = netns_current_inode(&l->netns_ino);
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot identify the network namespace: %m");
        l->ifindex = if_nametoindex(l->target.interface);
        if (l->ifindex == 0)
                return engine_error_setf(error, BPFD_ERR_ATTACH_TARGET_NOT_FOUND, "There is no network interface '%s'%s%s%s.",
                                         l->target.interface, l->target.netns ? " in " : "", strempty(l->target.netns),
                                         /* where a container's interface is looked for, and how to name another */
                                         l->target.netns ? "" : " in bpfd's network namespace (another is named "
                                         "with 'netns', a path such as /run/netns/NAME)");
        switch (l->target.kind) {
        case KIND_TCX:
                if (!e->tcx_native)
                        return attach_tc_filter(e, u, p, l, error);
                return attach_tcx_ordered(e, p, l, ret_link_fd, error);
        case KIND_XDP:
                return attach_xdp(e, u, p, object_path, l, error);
        case KIND_TC:
                return attach_tc(e, u, p, object_path, l, error);
        default:
                return engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED,
                                         "Attaching '%s' programs is not supported by this version of bpfd.",
                                         kind_to_string(l->target.kind));
        }
}
