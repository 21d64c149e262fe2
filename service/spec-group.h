/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <string.h>

/* The name of a spec section "TYPE NAME" ("" for a bare "TYPE"), or NULL if group is not of that type.
 * Shared by the spec domain (spec.c) and the wire format (bus/spec-file.c, also built into bpfctl). */
static inline const char *spec_group_name(const char *group, const char *type) {
        size_t n = strlen(type);

        if (strncmp(group, type, n) != 0)
                return NULL;
        if (group[n] == 0)
                return "";
        return group[n] == ' ' && group[n + 1] ? group + n + 1 : NULL;
}
