/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "engine.h"
#include "view-index.h"
#include "worker.h"

#include "bus-paths.h"

/* The bus thread's state, passed as userdata to every handler (no globals). The view tables are derived from
 * the engine's records by bus/view.c alone (the only writer, see view.h): they change only when a job comes
 * back, so what the bus shows is always something the engine committed. The functions are declared by the
 * files that serve them: view.h, request.h, interface-watch.h, shutdown.h, deferred.h, bus-spec.h, ... */
typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        Engine *engine;
        Worker *worker;
        /* bus/view.c */
        GHashTable *programs; /* id → ProgramInfo* (referenced) */
        GHashTable *links;    /* id → LinkInfo* (referenced) */
        ViewIndex index;      /* program → links, map group → programs, over the two above */
        GHashTable *callers;  /* unique bus name → Caller* */
        GHashTable *interfaces; /* object name → InterfaceInfo* */
        GHashTable *interfaces_by_key; /* "netns inode:ifindex" → InterfaceInfo* (of interfaces) */
        uint64_t netns_ino;   /* bpfd's own network namespace */
        sd_event_source *netlink_source;
        bool scan_in_flight, scan_full;
        GArray *scan_keys;    /* InterfaceKey: the interfaces the next scan reads */
        /* Reads of interfaces asked for (by bpfd's own changes or by rtnetlink) and done, counted, so that a
         * ListInterfaces waits for those asked before it came (interface-watch.c): a caller who attached
         * sees the chain with its link. */
        uint64_t scans_asked, scans_done;
        GQueue *interface_lists; /* ListInterfaces calls waiting (ListWait*) */
        bool supported[_KIND_MAX];
        bool xdp_ready;
        char *runtime_dir;
        uint64_t idle_exit_usec;
        sd_event_source *idle_timer;
        unsigned requests_in_flight;
        sd_event_source *deferred_source; /* bus/view.c: "this changed" signals */
        bool counts_dirty;
        GHashTable *links_dirty; /* program ids whose Links changed */
        bool view_announcing;    /* signals once the objects are there */
        sd_event_source *trim_timer; /* deferred.c */
        struct SpecManager *specs; /* bus-spec.c */
        /* SIGTERM: new calls are refused, those in flight are answered, then the loop exits (shutdown.c). */
        bool stopping;
        bool name_release_sent, name_released;
        sd_event_source *stop_post, *stop_timer;
} Manager;
