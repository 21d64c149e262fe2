/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netdev-dump.h"
#include "util.h"

int rtnl_dump_all(uint16_t type, const void *hdr, size_t hdr_len, rtnl_dump_cb cb, void *userdata) {
        struct {
                struct nlmsghdr h;
                char body[64];
        } req = {
                .h.nlmsg_len = NLMSG_LENGTH(hdr_len),
                .h.nlmsg_type = type,
                .h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                .h.nlmsg_seq = 1,
        };
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        const size_t bufsz = 65536;
        int r = 0;

        assert(hdr);
        assert(cb);
        assert(hdr_len <= sizeof req.body);
        memcpy(req.body, hdr, hdr_len);
        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
                return -errno;
        if (send(fd, &req, req.h.nlmsg_len, 0) < 0)
                return -errno;
        buf = malloc(bufsz);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = recv(fd, buf, bufsz, 0);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n)) {
                        if (h->nlmsg_seq != req.h.nlmsg_seq)
                                continue;
                        if (h->nlmsg_type == NLMSG_DONE)
                                return r;
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = NLMSG_DATA(h);
                                return e->error < 0 ? e->error : -EIO;
                        }
                        /* Keep reading to the end even after a callback error. */
                        if (r >= 0)
                                r = cb(h, userdata);
                }
        }
}

static int cmp_dev(const void *a, const void *b) {
        const NetdevState *x = a, *y = b;
        return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

static int link_cb(const struct nlmsghdr *h, void *userdata) {
        NetdevDump *d = userdata;
        const struct ifinfomsg *ifi = NLMSG_DATA(h);
        int len = (int) h->nlmsg_len - (int) NLMSG_LENGTH(sizeof *ifi);
        NetdevState s = { .ifindex = (uint32_t) ifi->ifi_index };
        NetdevState *grown;

        if (h->nlmsg_type != RTM_NEWLINK || len < 0)
                return 0;
        for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                unsigned short type = a->rta_type & NLA_TYPE_MASK; /* IFLA_XDP comes flagged as nested */

                if (type == IFLA_IFNAME)
                        snprintf(s.name, sizeof s.name, "%.*s", (int) RTA_PAYLOAD(a), (const char *) RTA_DATA(a));
                else if (type == IFLA_XDP) {
                        int xlen = (int) RTA_PAYLOAD(a);
                        for (const struct rtattr *x = RTA_DATA(a); RTA_OK(x, xlen); x = RTA_NEXT(x, xlen))
                                if ((x->rta_type & NLA_TYPE_MASK) == IFLA_XDP_ATTACHED && RTA_PAYLOAD(x) >= 1)
                                        s.xdp = *(const uint8_t *) RTA_DATA(x) != XDP_ATTACHED_NONE;
                }
        }
        grown = reallocarray(d->devs, d->n + 1, sizeof *d->devs);
        if (!grown)
                return -ENOMEM;
        d->devs = grown;
        d->devs[d->n++] = s;
        return 0;
}

static int qdisc_cb(const struct nlmsghdr *h, void *userdata) {
        NetdevDump *d = userdata;
        const struct tcmsg *t = NLMSG_DATA(h);
        int len = (int) h->nlmsg_len - (int) NLMSG_LENGTH(sizeof *t);
        NetdevState *dev;

        /* clsact and ingress both take the handle ffff: (TC_H_CLSACT == TC_H_INGRESS). */
        if (h->nlmsg_type != RTM_NEWQDISC || len < 0 || TC_H_MAJ(t->tcm_handle) != TC_H_MAJ(TC_H_CLSACT))
                return 0;
        dev = (NetdevState *) netdev_dump_find(d, (uint32_t) t->tcm_ifindex);
        if (!dev)
                return 0;
        for (const struct rtattr *a = (const struct rtattr *) ((const char *) t + NLMSG_ALIGN(sizeof *t)); RTA_OK(a, len);
             a = RTA_NEXT(a, len))
                if (a->rta_type == TCA_KIND)
                        snprintf(dev->qdisc, sizeof dev->qdisc, "%.*s", (int) RTA_PAYLOAD(a), (const char *) RTA_DATA(a));
        return 0;
}

int netdev_dump(NetdevDump *ret) {
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        struct tcmsg t = { .tcm_family = AF_UNSPEC };
        NetdevDump d = {};
        int r;

        assert(ret);

        r = rtnl_dump_all(RTM_GETLINK, &ifi, sizeof ifi, link_cb, &d);
        if (r >= 0) {
                if (d.n > 0)
                        qsort(d.devs, d.n, sizeof *d.devs, cmp_dev);
                r = rtnl_dump_all(RTM_GETQDISC, &t, sizeof t, qdisc_cb, &d);
        }
        if (r < 0) {
                netdev_dump_done(&d);
                return r;
        }
        *ret = d;
        return 0;
}

void netdev_dump_done(NetdevDump *d) {
        assert(d);

        free(d->devs);
        *d = (NetdevDump) {};
}

const NetdevState *netdev_dump_find(const NetdevDump *d, uint32_t ifindex) {
        NetdevState key = { .ifindex = ifindex };
        assert(d);

        return d->n ? bsearch(&key, d->devs, d->n, sizeof *d->devs, cmp_dev) : NULL;
}
