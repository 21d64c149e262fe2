/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A D-Bus value read from a message into a tree, whatever its signature, so
 * that JSON output, tables and "get" listings can all work on dictionaries
 * the daemon may grow new keys in without bpfctl knowing them. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

typedef struct BusValue BusValue;

struct BusValue {
        /* A basic type code, or 'a' (array), 'r' (struct), 'e' (dict entry).
         * Variants are unwrapped: a "v" holding a "u" is read as the "u". */
        char type;
        char *signature; /* complete signature of this value, e.g. "a{sv}" */

        union {
                bool boolean;                                    /* b */
                int64_t integer;                                 /* n i x h */
                uint64_t uinteger;                               /* y q u t */
                double floating;                                 /* d */
                char *string;                                    /* s o g */
                struct {                                         /* ay */
                        uint8_t *data;
                        size_t size;
                } bytes;
                struct {                                         /* other a, r, e */
                        BusValue **items;
                        size_t n_items;
                } container;
        };
};

BusValue *bus_value_free(BusValue *v);
static inline void bus_value_freep(BusValue **v) {
        bus_value_free(*v);
}
#define _cleanup_bus_value_ __attribute__((cleanup(bus_value_freep)))

/* Reads the next complete value of m (of any type). */
int bus_value_read(sd_bus_message *m, BusValue **ret);

/* Building values in bpfctl itself, e.g. the combined JSON of "load". */
int bus_value_new_container(char type, const char *signature, BusValue **ret);
int bus_value_new_string(const char *s, BusValue **ret);
int bus_value_append(BusValue *container, BusValue *item); /* takes ownership of item */
int bus_value_dict_append(BusValue *dict, const char *key, BusValue *value); /* for a{sv}; takes value */

bool bus_value_is_bytes(const BusValue *v);      /* ay */
bool bus_value_is_dict(const BusValue *v);       /* a{..} */
bool bus_value_is_array(const BusValue *v);      /* a.. other than ay */
bool bus_value_is_container(const BusValue *v);  /* a, r or e, not ay */
bool bus_value_is_basic(const BusValue *v);
size_t bus_value_count(const BusValue *v);       /* items of a container, bytes of ay */
const BusValue *bus_value_item(const BusValue *v, size_t i);

/* Looks up key in a dictionary with string keys; NULL if absent. */
const BusValue *bus_value_dict_get(const BusValue *dict, const char *key);

/* Typed accessors: false when v is NULL or of an unsuitable type. */
bool bus_value_get_uint(const BusValue *v, uint64_t *ret);  /* any non-negative integer */
const char *bus_value_get_string(const BusValue *v);        /* s, o, g */
bool bus_value_get_bool(const BusValue *v, bool *ret);

/* Convenience: dictionary lookup plus accessor. */
bool bus_value_dict_get_uint(const BusValue *dict, const char *key, uint64_t *ret);
const char *bus_value_dict_get_string(const BusValue *dict, const char *key);

/* Sorts an array of dictionaries by their numeric "id" (missing ids last). */
void bus_value_sort_by_id(BusValue *array);

/* The numeric kernel id in the last component of a bpfd object path. */
int object_path_to_id(const char *path, uint32_t *ret);
