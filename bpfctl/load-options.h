/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The options of "load" that become the a{sv} of LoadFromFd/LoadFromPath:
 * --program, --global and --metadata (the attach target lives in target.h). */

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
} LoadOptions;

void load_options_done(LoadOptions *o);

/* These log what is wrong and return -EINVAL for a usage error. */
int load_options_add_program(LoadOptions *o, const char *name);
int load_options_add_global(LoadOptions *o, const char *assignment);   /* NAME=VALUE */
int load_options_add_metadata(LoadOptions *o, const char *assignment); /* KEY=VALUE */
int load_options_verify(const LoadOptions *o);

/* Appends the whole options a{sv}. */
int load_options_append(sd_bus_message *m, const LoadOptions *o);

/* Parses a --global VALUE: hex bytes "0a0b0c0d" (optionally "0x..."), or
 * "u8:N" "u16:N" "u32:N" "u64:N" "i8:N" "i16:N" "i32:N" "i64:N" in host byte order. */
int parse_global_data_value(const char *s, uint8_t **ret_data, size_t *ret_size);
