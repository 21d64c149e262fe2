/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "engine.h"
#include "view-index.h"
#include "worker.h"

#define MANAGER_PATH "/org/bpfd/Manager"
#define PROGRAM_PATH_PREFIX "/org/bpfd/Manager/program"
#define LINK_PATH_PREFIX "/org/bpfd/Manager/link"

/* The bus thread's state. The view tables mirror the engine's truth: they are changed only when a job
 * comes back, so what the bus shows is always something the engine committed. */
typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        Engine *engine;
        Worker *worker;
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
        bool supported[_KIND_MAX];
        bool xdp_ready;
        char *runtime_dir;
        uint64_t idle_exit_usec;
        sd_event_source *idle_timer;
        unsigned requests_in_flight;
        /* deferred.c */
        sd_event_source *deferred_source, *trim_timer;
        bool counts_dirty;
        GHashTable *links_dirty; /* program ids whose Links changed */
        struct SpecManager *specs; /* bus-spec.c */
} Manager;

char *program_object_path(uint32_t id);
char *link_object_path(uint32_t id);

int manager_add_bus_objects(Manager *m);
int manager_add_signature_filter(Manager *m);
int manager_watch_callers(Manager *m);
/* Interfaces: the objects, the scan that refreshes them, and the kernel's link notifications. */
int manager_add_interface_objects(Manager *m);
int manager_watch_interfaces(Manager *m);
void manager_scan_interfaces(Manager *m);
/* Reads this interface again (gathered with others into one scan). */
void manager_scan_interface(Manager *m, uint64_t netns_ino, uint32_t ifindex);
void manager_view_put_interface(Manager *m, InterfaceInfo *i);
int method_list_interfaces(sd_bus_message *msg, void *userdata, sd_bus_error *error);
void manager_note_activity(Manager *m);

/* Changes of the view, with the signals a watching client expects. Callers reply first and change the view
 * right after, in the same dispatch: no other call can see the gap, and the caller waits for no signal. The
 * counts changed signal is sent once per request by the caller. program_changed: also signal the program's
 * Links/AttachPoints (not needed while the program itself is being added or removed). */
void manager_view_add_program(Manager *m, ProgramInfo *p);
/* The same without signals, for the view built at startup before the name is taken. */
void manager_view_put_program(Manager *m, ProgramInfo *p);
void manager_view_put_link(Manager *m, LinkInfo *l);
void manager_view_add_link(Manager *m, LinkInfo *l, bool program_changed);
void manager_view_remove_link(Manager *m, uint32_t id, bool program_changed);
void manager_view_remove_program(Manager *m, uint32_t id);
void manager_emit_counts_changed(Manager *m);
/* Both only mark what changed: the signals go out together in the loop's next turn (deferred.c). */
void manager_emit_program_links_changed(Manager *m, uint32_t program_id);
/* Memory back to the system once bpfd has been idle a moment (after unloads). */
void manager_trim_later(Manager *m);
void manager_deferred_done(Manager *m);

/* Dictionaries of ListPrograms/GetProgram and ListLinks/GetLink. */
int append_program_dict(sd_bus_message *reply, Manager *m, const ProgramInfo *p);
int append_kernel_program_dict(sd_bus_message *reply, const KernelProgram *k);
int append_link_dict(sd_bus_message *reply, const LinkInfo *l);

#define PROPERTY_GETTER_ARGS                                                                                    \
        sd_bus *bus, const char *path, const char *interface, const char *property, sd_bus_message *reply,     \
                void *userdata, sd_bus_error *error
int property_get_version(PROPERTY_GETTER_ARGS);
int property_get_kinds(PROPERTY_GETTER_ARGS);
int property_get_bpffs(PROPERTY_GETTER_ARGS);
int property_get_stats_enabled(PROPERTY_GETTER_ARGS);
int property_get_count(PROPERTY_GETTER_ARGS);

extern const sd_bus_vtable manager_vtable[];
extern const sd_bus_vtable program_vtable[];
extern const sd_bus_vtable link_vtable[];
extern const sd_bus_vtable interface_vtable[];

/* Method handlers shared by the manager and the per-object interfaces. */
int request_unload(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error);
int request_attach(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error);
int request_detach(Manager *m, sd_bus_message *msg, uint32_t id, sd_bus_error *error);
/* op: a MapOp; reads the method's arguments (map name, key, value, flags) from msg. */
int request_map_access(Manager *m, sd_bus_message *msg, uint32_t id, int op, sd_bus_error *error);
