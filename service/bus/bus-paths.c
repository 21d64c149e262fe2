/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <systemd/sd-bus.h>

#include "bus-paths.h"

char *program_object_path(uint32_t id) {
        char *s = NULL;
        return asprintf(&s, PROGRAM_PATH_PREFIX "/%" PRIu32, id) < 0 ? NULL : s;
}

char *link_object_path(uint32_t id) {
        char *s = NULL;
        return asprintf(&s, LINK_PATH_PREFIX "/%" PRIu32, id) < 0 ? NULL : s;
}

char *interface_object_path(const char *object_name) {
        char *p = NULL;

        assert(object_name);
        return sd_bus_path_encode(INTERFACE_PATH_PREFIX, object_name, &p) < 0 ? NULL : p;
}

int id_from_path(const char *path, const char *prefix, uint32_t *ret) {
        size_t n = strlen(prefix);
        char *end;
        unsigned long v;

        assert(path);
        assert(ret);
        if (strncmp(path, prefix, n) != 0 || path[n] != '/' || !path[n + 1])
                return 0;
        errno = 0;
        v = strtoul(path + n + 1, &end, 10);
        if (errno || *end || v == 0 || v > UINT32_MAX || path[n + 1] == '0')
                return 0;
        *ret = (uint32_t) v;
        return 1;
}

int bus_nodes_of_ids(GHashTable *t, char *(*path_of)(uint32_t), char ***nodes) {
        GHashTableIter it;
        gpointer k;
        char **l = calloc(g_hash_table_size(t) + 1, sizeof(char *));
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        g_hash_table_iter_init(&it, t);
        while (g_hash_table_iter_next(&it, &k, NULL))
                if ((l[n] = path_of(GPOINTER_TO_UINT(k))))
                        n++;
        *nodes = l;
        return 1;
}

