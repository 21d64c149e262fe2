/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
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

/* One NLM_F_DUMP request of rtnetlink (in the current thread's namespace) with a family header of hdr_len
 * bytes (at most 64); cb sees every message of the answer, and its first error is returned after the end. */
struct nlmsghdr;
typedef int (*rtnl_dump_cb)(const struct nlmsghdr *h, void *userdata);
int rtnl_dump_all(uint16_t type, const void *hdr, size_t hdr_len, rtnl_dump_cb cb, void *userdata);

int netdev_dump(NetdevDump *ret);
void netdev_dump_done(NetdevDump *d);
const NetdevState *netdev_dump_find(const NetdevDump *d, uint32_t ifindex);
