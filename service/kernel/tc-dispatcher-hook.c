/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What runs on a TC hook, as rtnetlink tells (libbpf's bpf_tc_* only see one filter): the hook's qdisc, its
 * filters, and the slots of bpfd's dispatcher among them. Part of the TC dispatcher (tc-dispatcher.c). */

#include <assert.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "netdev-dump.h"
#include "tc-dispatcher-internal.h"
#include "tc-dispatcher.h"
#include "util.h"

static void btf_freep(struct btf **b) {
        btf__free(*b);
}

int tc_rtnl_dump(uint16_t type, const struct tcmsg *t, rtnl_dump_cb cb, void *userdata) {
        assert(t);
        assert(cb);

        return rtnl_dump_all(type, t, sizeof *t, cb, userdata);
}

typedef struct TcAttrs {
        const char *kind;
        uint32_t bpf_id;
        const char *bpf_name;
        bool has_options;
} TcAttrs;

static void tc_attrs_parse(const struct nlmsghdr *h, TcAttrs *ret) {
        const struct tcmsg *t = NLMSG_DATA(h);
        int len = (int) h->nlmsg_len - (int) NLMSG_LENGTH(sizeof(*t));

        *ret = (TcAttrs) {};
        for (struct rtattr *a = TCA_RTA(t); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                /* Strings only if terminated inside their attribute. */
                if (a->rta_type == TCA_KIND && memchr(RTA_DATA(a), 0, RTA_PAYLOAD(a)))
                        ret->kind = RTA_DATA(a);
                else if (a->rta_type == TCA_OPTIONS) {
                        int olen = RTA_PAYLOAD(a);

                        ret->has_options = true;
                        for (struct rtattr *o = RTA_DATA(a); RTA_OK(o, olen); o = RTA_NEXT(o, olen)) {
                                if (o->rta_type == TCA_BPF_ID && RTA_PAYLOAD(o) >= sizeof(uint32_t))
                                        memcpy(&ret->bpf_id, RTA_DATA(o), sizeof(uint32_t));
                                else if (o->rta_type == TCA_BPF_NAME && memchr(RTA_DATA(o), 0, RTA_PAYLOAD(o)))
                                        ret->bpf_name = RTA_DATA(o);
                        }
                }
        }
}

typedef struct QdiscQuery {
        int ifindex;
        char kind[16];   /* of the qdisc at ffff: (clsact or ingress), "" if none */
} QdiscQuery;

static int qdisc_cb(const struct nlmsghdr *h, void *userdata) {
        const struct tcmsg *t = NLMSG_DATA(h);
        QdiscQuery *q = userdata;
        TcAttrs a;

        if (h->nlmsg_type != RTM_NEWQDISC || t->tcm_ifindex != q->ifindex ||
            TC_H_MAJ(t->tcm_handle) != TC_H_MAJ(TC_H_CLSACT))
                return 0;
        tc_attrs_parse(h, &a);
        if (a.kind)
                snprintf(q->kind, sizeof(q->kind), "%s", a.kind);
        return 0;
}

int tc_hook_qdisc_kind(int ifindex, char ret[static 16]) {
        struct tcmsg t = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex };
        QdiscQuery q = { .ifindex = ifindex };
        int r;

        assert(ret);

        r = tc_rtnl_dump(RTM_GETQDISC, &t, qdisc_cb, &q);
        if (r < 0)
                return r;
        memcpy(ret, q.kind, sizeof(q.kind));
        return 0;
}

/* ---- list ---- */

static int prog_info_by_id(uint32_t id, struct bpf_prog_info *info) {
        _cleanup_close_ int fd = bpf_prog_get_fd_by_id(id);
        uint32_t len = sizeof(*info);

        if (fd < 0)
                return fd;
        *info = (struct bpf_prog_info) {};
        if (bpf_obj_get_info_by_fd(fd, info, &len) < 0)
                return negative_errno();
        return 0;
}

typedef struct ListState {
        TcHookProgram *items;
        size_t n, allocated;
} ListState;

static TcHookProgram *list_add(ListState *s) {
        if (s->n == s->allocated) {
                size_t m = s->allocated ? s->allocated * 2 : 8;
                TcHookProgram *p = reallocarray(s->items, m, sizeof(*p));

                if (!p)
                        return NULL;
                s->items = p;
                s->allocated = m;
        }
        s->items[s->n] = (TcHookProgram) { .slot = -1 };
        return &s->items[s->n++];
}

/* Adds the extensions linked into dispatcher disp_id, in slot order. Walks all links: the kernel has no
 * "links of this target" query. */
static int list_components(ListState *s, uint32_t disp_id, uint32_t disp_btf_id) {
        _cleanup_(btf_freep) struct btf *btf = NULL;
        struct { uint32_t prog_id; bool used; } slots[TC_DISPATCHER_MAX_SLOTS] = {};
        uint32_t id = 0;

        btf = btf__load_from_kernel_by_id(disp_btf_id);
        if (!btf)
                return negative_errno();

        while (bpf_link_get_next_id(id, &id) == 0) {
                _cleanup_close_ int fd = bpf_link_get_fd_by_id(id);
                struct bpf_link_info info = {};
                uint32_t len = sizeof(info);
                const struct btf_type *t;
                const char *name;
                unsigned slot;

                if (fd < 0)
                        continue;   /* gone meanwhile */
                if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
                        continue;
                if (info.type != BPF_LINK_TYPE_TRACING || info.tracing.target_obj_id != disp_id)
                        continue;
                t = btf__type_by_id(btf, info.tracing.target_btf_id);
                if (!t)
                        continue;
                name = btf__name_by_offset(btf, t->name_off);
                if (!name || sscanf(name, "prog%u", &slot) != 1 || slot >= TC_DISPATCHER_MAX_SLOTS)
                        continue;
                slots[slot].prog_id = info.prog_id;
                slots[slot].used = true;
        }

        for (size_t i = 0; i < TC_DISPATCHER_MAX_SLOTS; i++) {
                struct bpf_prog_info pi;
                TcHookProgram *p;

                if (!slots[i].used)
                        continue;
                p = list_add(s);
                if (!p)
                        return -ENOMEM;
                p->prog_id = slots[i].prog_id;
                p->slot = i;
                if (prog_info_by_id(p->prog_id, &pi) >= 0)
                        snprintf(p->name, sizeof(p->name), "%s", pi.name);
        }
        return 0;
}

static int filter_cb(const struct nlmsghdr *h, void *userdata) {
        const struct tcmsg *t = NLMSG_DATA(h);
        ListState *s = userdata;
        struct bpf_prog_info pi;
        TcHookProgram *p;
        TcAttrs a;
        bool have_info;

        if (h->nlmsg_type != RTM_NEWTFILTER || t->tcm_handle == 0)
                return 0;   /* handle 0: the per-priority chain head, not a filter */
        tc_attrs_parse(h, &a);
        if (!a.kind)
                return 0;

        p = list_add(s);
        if (!p)
                return -ENOMEM;
        if (!streq(a.kind, "bpf")) {
                snprintf(p->name, sizeof(p->name), "%s", a.kind);
                return 0;
        }

        p->prog_id = a.bpf_id;
        have_info = a.bpf_id > 0 && prog_info_by_id(a.bpf_id, &pi) >= 0;
        if (have_info)
                snprintf(p->name, sizeof(p->name), "%s", pi.name);
        else if (a.bpf_name)   /* "name:[id]" as libbpf and tc set it */
                snprintf(p->name, sizeof(p->name), "%.*s", (int) strcspn(a.bpf_name, ":"), a.bpf_name);

        if (have_info && t->tcm_handle == TC_DISPATCHER_HANDLE &&
            TC_H_MAJ(t->tcm_info) >> 16 == TC_DISPATCHER_PRIORITY &&
            streq(pi.name, TC_DISPATCHER_PROG_NAME)) {
                p->is_dispatcher = true;
                return list_components(s, pi.id, pi.btf_id);
        }
        return 0;
}

int tc_dispatcher_list(int ifindex, bool egress, TcHookProgram **ret, size_t *ret_n) {
        char kind[16];
        int r;

        if (ifindex <= 0 || !ret || !ret_n)
                return -EINVAL;
        r = tc_hook_qdisc_kind(ifindex, kind);
        if (r < 0)
                return r;
        return tc_dispatcher_list_on(ifindex, egress, kind, ret, ret_n);
}

int tc_dispatcher_list_on(int ifindex, bool egress, const char *kind, TcHookProgram **ret, size_t *ret_n) {
        ListState s = {};
        int r;

        if (ifindex <= 0 || !kind || !ret || !ret_n)
                return -EINVAL;
        /* No clsact, nothing on the hook. An "ingress" qdisc has one block for both directions, the
         * ingress one. */
        if (streq(kind, "clsact") || (streq(kind, "ingress") && !egress)) {
                struct tcmsg t = {
                        .tcm_family = AF_UNSPEC,
                        .tcm_ifindex = ifindex,
                        .tcm_parent = TC_H_MAKE(TC_H_CLSACT, egress ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS),
                };

                r = tc_rtnl_dump(RTM_GETTFILTER, &t, filter_cb, &s);
                if (r < 0) {
                        free(s.items);
                        return r;
                }
        }

        if (s.n == 0) {
                free(s.items);
                s.items = NULL;
        }
        *ret = s.items;
        *ret_n = s.n;
        return 0;
}
