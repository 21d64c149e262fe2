/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

/* What the network hooks of every interface of the current thread's namespace hold, from one RTM_GETLINK
 * and one RTM_GETQDISC dump: a scan of many interfaces then asks per interface only where something is
 * attached (each per-interface query of libxdp or of the TC filters would dump all interfaces again). */
typedef struct NetdevState {
        uint32_t ifindex;
        char name[IF_NAMESIZE];
        bool xdp;           /* a program is attached to the XDP hook (any mode) */
        char qdisc[16];     /* "clsact", "ingress" or "": the qdisc TC filters hang on */
} NetdevState;

typedef struct NetdevDump {
        NetdevState *devs;  /* in ifindex order */
        size_t n;
} NetdevDump;

int netdev_dump(NetdevDump *ret);
void netdev_dump_done(NetdevDump *d);
const NetdevState *netdev_dump_find(const NetdevDump *d, uint32_t ifindex);
