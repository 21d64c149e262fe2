/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Several TC programs per interface and direction, in order: bpfd's TC dispatcher.
 *
 * The dispatcher (bpf/tc_dispatcher.bpf.c) is a SCHED_CLS program bpfd attaches as the one direct-action
 * cls_bpf filter of handle TC_DISPATCHER_HANDLE, priority TC_DISPATCHER_PRIORITY on the interface's
 * clsact qdisc. It calls up to TC_DISPATCHER_MAX_SLOTS stubs prog0..prog9 in order; each used stub is
 * replaced by a component, the user's program loaded as BPF_PROG_TYPE_EXT (freplace, kernel >= 5.10 for
 * linking one extension to several dispatchers). Its configuration (number of slots, per slot the proceed-on
 * mask and run priority) is frozen at load, so every change builds a new dispatcher ("revision"), links
 * the components into it, and replaces the filter's program in one netlink request: packets see either
 * the old chain or the new one, never a partial one.
 *
 * Proceed-on: after slot i returns action A (TC_ACT_UNSPEC -1, OK 0, RECLASSIFY 1, SHOT 2, PIPE 3, STOLEN 4,
 * QUEUED 5, REPEAT 6, REDIRECT 7, TRAP 8), slot i+1 runs if bit (A + 1) of chain_actions is set; otherwise
 * the dispatcher returns A to TC. After the last slot it returns TC_ACT_OK. "Continue" thus means "run the
 * next program of the chain"; TC_ACT_UNSPEC, returned by the dispatcher, means what it means for any
 * direct-action filter: go on with the next filter on the hook. TC_DISPATCHER_DEFAULT_ACTIONS is bpfman's
 * default (ok, pipe, dispatcher_return). The dispatcher_return bit (a stub's own return value) is always
 * added.
 *
 * Pin layout under pin_dir (a directory on bpffs, one per interface and direction; made if missing):
 *     pin_dir/rev-<N>/dispatcher     the dispatcher program of revision N
 *     pin_dir/rev-<N>/link-<i>       the freplace link of slot i (0-based) into that dispatcher
 * N grows by one with each update. The active revision is the one whose dispatcher is attached to the
 * hook (tc_dispatcher_list() or the filter at handle/priority above tells its prog id); normally it is the
 * only rev-* directory. A crash in the middle of an update can leave a second one, which is either not
 * attached yet (the new one) or already detached (the old one); the next update or clear removes every
 * rev-* directory but the one it makes active. The pins keep the chain alive and findable after bpfd exits.
 *
 * All functions return negative errno-style errors and expect to run in the interface's network
 * namespace. They keep no state but the dispatcher object's path and a cached feature probe. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_DISPATCHER_MAX_SLOTS 10
#define TC_DISPATCHER_HANDLE 0xbfd0U
#define TC_DISPATCHER_PRIORITY 50U
#define TC_DISPATCHER_PROG_NAME "tc_dispatcher"
/* What a dispatcher stub returns ("dispatcher_return" in bpfman's proceed-on lists). */
#define TC_DISPATCHER_RETVAL 30

#define TC_DISPATCHER_ACTION_BIT(action) (UINT32_C(1) << ((action) + 1))
/* ok (0), pipe (3), dispatcher_return (30) */
#define TC_DISPATCHER_DEFAULT_ACTIONS                                                                  \
        (TC_DISPATCHER_ACTION_BIT(0) | TC_DISPATCHER_ACTION_BIT(3) | TC_DISPATCHER_ACTION_BIT(TC_DISPATCHER_RETVAL))

typedef struct TcDispatcherSlot {
        int ext_fd;              /* the component: an EXT program (tc_component_load) */
        uint32_t chain_actions;  /* bit (action + 1) for each TC action after which the next slot runs */
        uint32_t run_prio;       /* informational, stored in the dispatcher's config */
} TcDispatcherSlot;

/* Where the dispatcher object (build/bpf/tc_dispatcher.bpf.o or the installed copy) is. Call once. */
int tc_dispatcher_init(const char *dispatcher_object_path);

/* Loads program prog_name of the ELF object (obj, size bytes) as an extension (BPF_PROG_TYPE_EXT) that can
 * replace any dispatcher stub, reusing the maps named in map_names from map_fds (so it shares the maps of
 * the program bpfd loaded earlier). Returns the EXT program's fd and kernel id. -EINVAL if it is not a
 * SCHED_CLS program; -EOPNOTSUPP if the kernel cannot load extensions; -ENOENT if prog_name or one of
 * map_names is not in the object. The extension keeps a reference on a throwaway dispatcher (its load-time
 * target) until it is first linked. */
/* Whether this kernel can run the dispatcher: it loads extensions (freplace). Needs tc_dispatcher_init(). */
bool tc_dispatcher_supported(void);

int tc_component_load(const void *obj, size_t size, const char *prog_name,
                      const char *const *map_names, const int *map_fds, size_t n_maps,
                      int *ret_ext_fd, uint32_t *ret_prog_id);

/* Makes the interface's (ingress or egress) TC dispatcher run exactly these slots, in this order: builds a
 * new dispatcher with this config, links every component into its stub, pins the new dispatcher and its
 * links under pin_dir (see the layout above), then swaps it in as the tc filter in one atomic replace
 * (creating the clsact qdisc if missing; refusing with -EBUSY if an "ingress" qdisc exists), and only then
 * unpins and drops the previous revision. n == 0 removes the dispatcher's filter and its pins (and pin_dir
 * if it is then empty; the clsact qdisc stays, other filters may use it). Returns, per slot, the kernel
 * link id of its new link (ret_link_ids may be NULL). On failure the previous revision stays as it was.
 * The caller is already in the interface's network namespace. -E2BIG for n > 10. */
int tc_dispatcher_update(int ifindex, bool egress, const TcDispatcherSlot *slots, size_t n,
                         const char *pin_dir, uint32_t *ret_link_ids);

/* What runs now, in the order TC runs it: the hook's filters by priority; bpfd's dispatcher
 * (is_dispatcher) is followed by its components (slot >= 0, EXT prog ids, in slot order). Other filters
 * have slot -1: cls_bpf ones with their prog id and name, others with prog_id 0 and their kind as name.
 * An empty list (*ret_n == 0, *ret NULL) if there is no clsact qdisc. Free *ret with free(). */
typedef struct TcHookProgram {
        uint32_t prog_id;
        char name[16];
        bool is_dispatcher;
        int slot;                /* the component's slot in the dispatcher before it, or -1 */
} TcHookProgram;
int tc_dispatcher_list(int ifindex, bool egress, TcHookProgram **ret, size_t *ret_n);
/* The same when the qdisc on the hook is known (kind "clsact", "ingress" or "": nothing to list). */
int tc_dispatcher_list_on(int ifindex, bool egress, const char *kind, TcHookProgram **ret, size_t *ret_n);
