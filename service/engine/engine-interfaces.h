/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Interfaces and the chains on their hooks (engine-interfaces.c). */

#include "engine.h"

/* Every interface of bpfd's own network namespace, and those of other namespaces where bpfd has links, with
 * the chains on their hooks. Links whose interface or namespace is gone are dropped (pins removed, records
 * rewritten); their ids come back in ret_gone. */
int engine_scan_interfaces(Engine *e, InterfaceInfo ***ret, size_t *ret_n, uint32_t **ret_gone, size_t *ret_n_gone);
/* An interface by namespace (inode) and index. */
typedef struct InterfaceKey {
        uint64_t netns_ino;
        uint32_t ifindex;
} InterfaceKey;
/* The same for these interfaces only, after a change bpfd made on them or an rtnetlink event about them.
 * Interfaces that are no longer there (or, in other namespaces, no longer hold links of bpfd) come back in
 * ret_vanished; links on vanished interfaces are dropped as above (ret_gone). */
int engine_scan_interfaces_of(Engine *e, const InterfaceKey *keys, size_t n_keys, InterfaceInfo ***ret, size_t *ret_n,
                              InterfaceKey **ret_vanished, size_t *ret_n_vanished, uint32_t **ret_gone, size_t *ret_n_gone);
