/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "kind.h"
#include "target.h"

typedef struct MapInfo {
        uint32_t id;
        char *name;
        char *pin_path;
} MapInfo;

typedef struct GlobalData {
        char *name;
        uint8_t *data;
        size_t size;
} GlobalData;

/* A managed program as the bus shows it. Immutable once built, reference counted, and shared between the
 * worker (which made it) and the bus thread (which shows it); so either side can drop it at any time. */
typedef struct ProgramInfo {
        unsigned n_ref;
        uint32_t id;
        uint32_t load_group;
        char *name;
        Kind kind;
        char *kernel_type;
        char *section;
        char *tag;
        uid_t owner_uid;
        uint64_t load_time_usec;
        char *source;
        char *pin_path;
        MapInfo *maps;
        size_t n_maps;
        char **metadata; /* key, value, key, value, ... */
        GlobalData *globals;
        size_t n_globals;
        int expected_attach_type;
        char *attach_function; /* fentry/fexit: the kernel function it was loaded for */
        uint32_t map_group;    /* the load group whose maps directory holds this program's maps */
        char *image_reference; /* loaded from this OCI image ("" otherwise) ... */
        char *image_digest;    /* ... with this manifest digest */
        int fd;          /* held so the bus thread can read run statistics without privileges */
} ProgramInfo;

typedef struct LinkInfo {
        unsigned n_ref;
        uint32_t id;
        uint32_t program_id;
        AttachTarget target;
        char *attach_point;
        uid_t owner_uid;
        uint64_t attach_time_usec;
        char *pin_path;
        /* network hooks: where (namespace by inode, interface by index) and the attach order among equal
         * priorities */
        uint64_t netns_ino;
        uint32_t ifindex;
        uint64_t seq;
        /* dispatcher slots (xdp): the extension program in the chain; the link id is then bpfd's own */
        uint32_t component_id;
        /* tcx on kernels without TCX: the cls_bpf filter's priority (its handle is BPFD_TC_FILTER_HANDLE) */
        uint32_t tc_priority;
} LinkInfo;

#define BPFD_TC_FILTER_HANDLE 0xbfd1U

/* Links that are slots of a dispatcher get ids of bpfd's own from here up: their kernel links change with
 * every rebuild of the chain, the slot does not. */
#define BPFD_SLOT_LINK_ID_BASE 0x80000000U

/* One program on a network hook, in chain order. */
typedef struct ChainEntry {
        uint32_t prog_id;
        char name[64];
        bool managed;
        uint32_t priority;
        uint32_t link_id;
} ChainEntry;

typedef struct Chain {
        ChainEntry *entries;
        size_t n;
} Chain;

/* A network interface and what runs on its hooks, as the worker last saw it. Immutable and shared like
 * ProgramInfo. */
typedef struct InterfaceInfo {
        unsigned n_ref;
        char *object_name; /* "eth0", or "eth0@netns4026531840" outside bpfd's namespace */
        char *name;
        uint32_t ifindex;
        char *netns;       /* the path attachments named; "" for bpfd's own namespace */
        uint64_t netns_ino;
        char *xdp_mode;
        Chain xdp, ingress, egress;
} InterfaceInfo;

InterfaceInfo *interface_info_unref(InterfaceInfo *i);
static inline void interface_info_destroy(void *i) {
        interface_info_unref(i);
}
bool interface_info_chains_equal(const InterfaceInfo *a, const InterfaceInfo *b);

ProgramInfo *program_info_ref(ProgramInfo *p);
ProgramInfo *program_info_unref(ProgramInfo *p);
LinkInfo *link_info_ref(LinkInfo *l);
LinkInfo *link_info_unref(LinkInfo *l);

/* For GLib containers. */
static inline void program_info_destroy(void *p) {
        program_info_unref(p);
}
static inline void link_info_destroy(void *l) {
        link_info_unref(l);
}

static inline void program_info_unrefp(ProgramInfo **p) {
        program_info_unref(*p);
}
static inline void link_info_unrefp(LinkInfo **l) {
        link_info_unref(*l);
}
