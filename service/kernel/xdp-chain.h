/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Several XDP programs on one interface through libxdp's multi-program dispatcher.
 *
 * libxdp attaches a dispatcher program to the interface and the components as freplace extensions
 * of it; every change builds a complete new dispatcher with all components and swaps it in with one
 * atomic XDP_FLAGS_REPLACE, so the other programs keep running throughout. Components are pinned
 * under DIR/xdp/dispatch-IFINDEX-DISPATCHERID/progN-{prog,link} (DIR from xdp_chain_init()), which
 * keeps them alive after bpfd exits; a later process finds the chain again from the interface.
 *
 * Not thread-safe: call from one thread only (libxdp keeps global state). All functions return
 * 0 or a non-negative value on success and a negative errno on failure. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xdp/libxdp.h>

/* Most programs a chain holds (libxdp's MAX_DISPATCHER_ACTIONS). */
#define XDP_CHAIN_MAX 10

/* libxdp keeps its dispatchers and components pinned under DIR/xdp... (LIBXDP_BPFFS) so they outlive bpfd.
 * Call once, before any other function here, with bpfd's own bpffs (e.g. /run/bpfd/fs), and before
 * starting threads (it calls setenv()). DIR must lie on a bpffs (-EMEDIUMTYPE otherwise); it and DIR/xdp
 * are created if missing. -EPERM if the process runs in secure mode (AT_SECURE, e.g. file capabilities),
 * where libxdp would ignore LIBXDP_BPFFS; -EALREADY when called again with another DIR. */
int xdp_chain_init(const char *bpffs_dir);

/* Adds program prog_name of the ELF object (obj, size bytes) to ifindex's XDP chain in mode. libxdp loads it
 * as an extension of a rebuilt dispatcher; maps named in map_names are reused from map_fds (so the
 * component shares the maps of the program bpfd loaded before), everything else is created fresh.
 * run_prio orders the chain (lower first); chain_actions is a bitmap (1 << XDP action) of returns after which
 * the next program runs (libxdp adds its dispatcher-return bit itself).
 * Returns the component's kernel program id, which names it in the chain from then on. Errors: -E2BIG (the
 * chain is full: 10), -EBUSY (the interface carries a program that is not a libxdp dispatcher, e.g. someone
 * else's, which is never replaced), -EOPNOTSUPP (this kernel cannot run the dispatcher (no freplace) and the
 * interface already has a program), -ENODEV (no such interface), -EINVAL (not an XDP program, bad mode, a
 * mode other than the one the existing chain runs in, chain_actions beyond XDP_REDIRECT), -ENOENT (no
 * program prog_name or no map of a name in map_names in the object), or another negative errno. On failure
 * nothing changes on the interface. When the kernel cannot run the dispatcher and the interface is free, the
 * program is attached alone (libxdp's fallback): *ret_is_dispatcher tells which happened.
 * XDP_MODE_UNSPEC joins an existing chain in its mode, or lets the kernel pick for a new one (native if
 * the driver has it); XDP_MODE_HW is refused (-EINVAL). ret_prog_id and ret_is_dispatcher may be NULL. */
int xdp_chain_add(int ifindex, const void *obj, size_t size, const char *prog_name,
                  const char *const *map_names, const int *map_fds, size_t n_maps,
                  unsigned run_prio, unsigned chain_actions, enum xdp_attach_mode mode,
                  uint32_t *ret_prog_id, bool *ret_is_dispatcher);

/* Removes the component with this kernel program id from ifindex's chain (rebuilding the dispatcher, or
 * detaching it with the last component). -ENOENT if it is not in the chain. A plain program (the fallback
 * above) is detached when prog_id is its id. -ENODEV if there is no such interface. */
int xdp_chain_remove(int ifindex, uint32_t prog_id);

typedef struct XdpChainEntry {
        uint32_t prog_id;
        char name[64];
        unsigned run_prio;
        unsigned chain_actions;
} XdpChainEntry;

/* The chain as the kernel runs it, in order: for a dispatcher its components; for a plain program that
 * program alone (*ret_is_dispatcher false; run_prio and chain_actions 0, as nothing chains after it).
 * *ret_n 0 (and *ret NULL) when the interface has no XDP program. *ret is malloc()ed: free() it.
 * ret_mode, ret_is_dispatcher and ret_main_prog_id (the dispatcher's or the plain program's id) may be NULL. */
int xdp_chain_list(int ifindex, XdpChainEntry **ret, size_t *ret_n, enum xdp_attach_mode *ret_mode,
                   bool *ret_is_dispatcher, uint32_t *ret_main_prog_id);

/* Puts the loaded XDP program prog_fd in the place of the plain program old_id on ifindex, atomically
 * (XDP_FLAGS_REPLACE), in the same mode: for libxdp's fallback without dispatcher, which attaches a copy it
 * loads itself. -ENOENT if old_id is not what the interface runs. */
int xdp_chain_replace_plain(int ifindex, uint32_t old_id, int prog_fd);

/* The id (and name) of a plain XDP program on ifindex, i.e. one that is not libxdp's dispatcher; *ret_id
 * 0 if there is none. */
int xdp_chain_plain_program(int ifindex, uint32_t *ret_id, char *ret_name, size_t name_size);

/* The last message libxdp logged (warning or info) during the last call here, or our own explanation of
 * its error; "" if none. Valid until the next call. */
const char *xdp_chain_last_error(void);
