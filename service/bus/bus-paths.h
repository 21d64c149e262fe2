/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stdint.h>

#define MANAGER_PATH "/org/bpfd/Manager"
#define PROGRAM_PATH_PREFIX "/org/bpfd/Manager/program"
#define LINK_PATH_PREFIX "/org/bpfd/Manager/link"
#define INTERFACE_PATH_PREFIX "/org/bpfd/Manager/interface"

/* Object paths of the view's objects (NULL on OOM). */
char *program_object_path(uint32_t id);
char *link_object_path(uint32_t id);
char *interface_object_path(const char *object_name);
/* The id of PREFIX/ID (1), or 0 if path is not of that shape. */
int id_from_path(const char *path, const char *prefix, uint32_t *ret);
/* For node enumerators: the paths of the ids that are the keys of t. */
int bus_nodes_of_ids(GHashTable *t, char *(*path_of)(uint32_t), char ***nodes);
