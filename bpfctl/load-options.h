/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The options of "load" that become the a{sv} of LoadFromFd/LoadFromPath/
 * LoadFromImage: --program, --global, --metadata, --map-owner-id and
 * --pull-policy (the attach target lives in target.h). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "target.h"

typedef struct GlobalDataOverride {
        char *name;
        uint8_t *data;
        size_t size;
} GlobalDataOverride;

typedef struct LoadOptions {
        char **programs;                 /* "programs" */
        GlobalDataOverride *global_data; /* "global_data" */
        size_t n_global_data;
        char **metadata;                 /* "metadata": key, value, key, value, ... */
        char *attach_program;            /* "program" of the attach target */
        AttachTarget target;             /* "attach", if target.kind is set */
        bool map_owner_id_set;
        uint32_t map_owner_id;           /* "map_owner_id" */
        const char *pull_policy;         /* "pull_policy" (LoadFromImage only), a static name; NULL: the default */
} LoadOptions;

void load_options_done(LoadOptions *o);

/* These log what is wrong and return -EINVAL for a usage error. */
int load_options_add_program(LoadOptions *o, const char *name);
int load_options_add_global(LoadOptions *o, const char *assignment);   /* NAME=VALUE */
int load_options_add_metadata(LoadOptions *o, const char *assignment); /* KEY=VALUE */
int load_options_set_map_owner_id(LoadOptions *o, const char *id);
int load_options_set_pull_policy(LoadOptions *o, const char *policy);
int load_options_verify(const LoadOptions *o);

/* Appends the whole options a{sv}. */
int load_options_append(sd_bus_message *m, const LoadOptions *o);

/* Parses a --global VALUE: hex bytes "0a0b0c0d" (optionally "0x..."), or
 * "u8:N" "u16:N" "u32:N" "u64:N" "i8:N" "i16:N" "i32:N" "i64:N" in host byte order. */
int parse_global_data_value(const char *s, uint8_t **ret_data, size_t *ret_size);

/* The name bpfd knows a pull policy by (Always, IfNotPresent, Never; s in any
 * case), NULL if s is none of them. */
const char *pull_policy_from_string(const char *s);

#define PULL_POLICY_HELP                                                                \
        "      --pull-policy POLICY  When to ask the registry: Always, IfNotPresent\n"  \
        "                            (default: pull unless the reference is cached) or\n" \
        "                            Never (use the cache only)\n"
