/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What keeps the org.bpfd.Interface objects current. What runs on a hook is read by the worker (it needs
 * privileges); after a change bpfd made on an interface, or an rtnetlink event about one, that interface alone
 * is read again, and the bus view follows (view_apply_interfaces()). Everything is read at startup and when the
 * kernel says events were lost. */
#include <assert.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "bus-spec.h"
#include "errors.h"
#include "interface.h"
#include "interface-watch.h"
#include "log.h"
#include "view.h"
#include "engine-interfaces.h"

typedef struct ScanJob {
        Job job;
        Manager *m;
        uint64_t asked;         /* m->scans_asked when it was submitted: it reads all asked until then */
        bool full;              /* every interface; else only keys */
        InterfaceKey *keys;
        size_t n_keys;
        InterfaceInfo **found;
        size_t n_found;
        InterfaceKey *vanished;
        size_t n_vanished;
        uint32_t *gone_links;
        size_t n_gone;
} ScanJob;

static void scan_run(Job *j, Engine *e) {
        ScanJob *s = (ScanJob *) j;

        if (s->full)
                (void) engine_scan_interfaces(e, &s->found, &s->n_found, &s->gone_links, &s->n_gone);
        else
                (void) engine_scan_interfaces_of(e, s->keys, s->n_keys, &s->found, &s->n_found, &s->vanished,
                                                 &s->n_vanished, &s->gone_links, &s->n_gone);
}

static void scan_submit(Manager *m);

/* ---- ListInterfaces after the reads asked before it ---- */

typedef struct ListWait {
        sd_bus_message *msg;
        uint64_t asked;
} ListWait;

static void list_answer(Manager *m, ListWait *w) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        if (sd_bus_message_rewind(w->msg, true) < 0 || interfaces_reply(m, w->msg, &error) < 0)
                (void) bpfd_reply_error(w->msg, &error);
        sd_bus_message_unref(w->msg);
        free(w);
}

/* Answers the calls whose reads are done; all of them when flush (bpfd stops, or a scan could not start). */
static void lists_answer(Manager *m, bool flush) {
        ListWait *w;

        while (m->interface_lists && (w = g_queue_peek_head(m->interface_lists)) &&
               (flush || w->asked <= m->scans_done))
                list_answer(m, g_queue_pop_head(m->interface_lists));
}

int interfaces_list_when_read(Manager *m, sd_bus_message *msg, sd_bus_error *error) {
        ListWait *w;

        assert(m);
        assert(msg);
        if (m->scans_done >= m->scans_asked)
                return interfaces_reply(m, msg, error);
        if (!m->interface_lists && !(m->interface_lists = g_queue_new()))
                return -ENOMEM;
        w = calloc(1, sizeof(ListWait));
        if (!w)
                return -ENOMEM;
        *w = (ListWait) { .msg = sd_bus_message_ref(msg), .asked = m->scans_asked };
        g_queue_push_tail(m->interface_lists, w);
        return 1;
}

void interfaces_lists_done(Manager *m) {
        lists_answer(m, true);
        if (m->interface_lists)
                g_queue_free(m->interface_lists);
        m->interface_lists = NULL;
}

static void scan_done(Job *j) {
        ScanJob *s = (ScanJob *) j;
        Manager *m = s->m;

        assert(m->scan_in_flight); /* one scan at a time, and this is it */
        assert(!s->full || s->n_vanished == 0); /* a full scan replaces the whole set: nothing is "vanished" */
        /* Links dropped with their interface reach the view through the engine's changes. */
        view_apply_interfaces(m, s->found, s->n_found, s->full, s->vanished, s->n_vanished);
        free(s->keys);
        free(s->found);
        free(s->vanished);
        free(s->gone_links);
        assert(s->asked >= m->scans_done);
        m->scans_done = s->asked;
        free(s);
        m->scan_in_flight = false;
        lists_answer(m, false);
        manager_specs_interfaces_changed(m); /* specs waiting for an interface that came */
        scan_submit(m);
}

/* One scan at a time; what is asked for meanwhile is gathered into the next one (a burst of changes and
 * events costs one scan, with one pair of netlink dumps). */
static void scan_submit(Manager *m) {
        ScanJob *s;

        assert(m->scan_keys);
        if (m->scan_in_flight || (!m->scan_full && m->scan_keys->len == 0))
                return;
        s = calloc(1, sizeof(ScanJob));
        if (!s) {
                lists_answer(m, true); /* nothing will be read: answer with what the view has */
                return;
        }
        *s = (ScanJob) { .job = { .run = scan_run, .done = scan_done }, .m = m, .asked = m->scans_asked,
                         .full = m->scan_full };
        if (!s->full) {
                s->n_keys = m->scan_keys->len;
                s->keys = (InterfaceKey *) g_array_free(m->scan_keys, FALSE);
                m->scan_keys = g_array_new(FALSE, FALSE, sizeof(InterfaceKey));
        } else
                g_array_set_size(m->scan_keys, 0);
        m->scan_full = false;
        m->scan_in_flight = true;
        worker_submit(m->worker, &s->job);
}

void manager_scan_interfaces(Manager *m) {
        m->scan_full = true;
        m->scans_asked++;
        scan_submit(m);
}

void manager_scan_interface(Manager *m, uint64_t netns_ino, uint32_t ifindex) {
        InterfaceKey k = { .netns_ino = netns_ino, .ifindex = ifindex };

        if (!ifindex)
                return;
        m->scans_asked++;
        for (guint i = 0; i < m->scan_keys->len; i++)
                if (g_array_index(m->scan_keys, InterfaceKey, i).ifindex == ifindex &&
                    g_array_index(m->scan_keys, InterfaceKey, i).netns_ino == netns_ino)
                        return scan_submit(m);
        g_array_append_val(m->scan_keys, k);
        scan_submit(m);
}

/* ---- rtnetlink: interfaces coming, going and changing in bpfd's namespace ---- */

static int on_netlink(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        char buf[8192];
        ssize_t n;

        /* Only the interfaces the events name are looked at again. */
        while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n))
                        if ((h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK) &&
                            h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg)))
                                manager_scan_interface(m, m->netns_ino,
                                                       (uint32_t) ((struct ifinfomsg *) NLMSG_DATA(h))->ifi_index);
        if (n < 0 && errno == ENOBUFS)
                manager_scan_interfaces(m); /* lost some: look at everything */
        return 0;
}

int manager_watch_interfaces(Manager *m) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
        int fd, r;

        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        if (fd < 0)
                return -errno;
        /* Room for a burst (hundreds of pods' veths at once) before the kernel drops events and a full scan is
         * needed; capped by net.core.rmem_max. */
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int) { 1024 * 1024 }, sizeof(int));
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        r = sd_event_add_io(m->event, &m->netlink_source, fd, EPOLLIN, on_netlink, m);
        if (r < 0) {
                close(fd);
                return r;
        }
        (void) sd_event_source_set_io_fd_own(m->netlink_source, true);
        return 0;
}

