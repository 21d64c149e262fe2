/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "target.h"

/* One polkit question: the action and everything a rule may want to know, as the resolved truth. */
typedef struct CheckSpec {
        const char *action;
        const char *operation;     /* load, attach, detach, unload, share, info, lookup, ... */
        Kind kind;
        const char *program_name;
        const AttachTarget *target; /* canonical where it names a file (attach_target_resolve()) */
        const char *attach_type;   /* cgroup: ingress, egress, connect4, ...; tc/tcx: the direction */
        uid_t owner_uid;
        const char *map_name;
        bool has_map_owner_uid;    /* loads sharing the maps of another program (map_owner_id) */
        uid_t map_owner_uid;
        const char *image;
        const char *registry;
        const char *image_digest;
} CheckSpec;

/* NULL-terminated: action, key, value, key, value, ... (every key always present, "" where it does not
 * apply), ending with polkit.message; NULL when out of memory. */
char **polkit_details_new(const CheckSpec *c);
/* "the cgroup program 'name' at cgroup /sys/fs/cgroup/x egress" for messages. */
char *check_describe(const CheckSpec *c);
/* The attach type a rule sees for a program of this kind whose ELF section asks for expected (cgroup attach
 * names), or where the target says otherwise. */
const char *attach_type_detail(Kind kind, int expected, const AttachTarget *target);
