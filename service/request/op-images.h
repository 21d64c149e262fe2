/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* PullImage, RemoveImage, ListImages (op-images.c); as op-load.h for ownership and answers. */

#include <systemd/sd-bus.h>

#include "engine.h"
#include "manager.h"

int request_pull_image(Manager *m, sd_bus_message *msg, char *reference, char *registry, int pull_policy);
int request_remove_image(Manager *m, sd_bus_message *msg, char *reference, char *registry);
int request_list_images(Manager *m, sd_bus_message *msg);
/* The canonical reference and registry of a caller's string: what polkit, the puller and Program.Source
 * see, so one registry has one name in rules. */
int image_reference_canonical(const char *s, char **ret_ref, char **ret_registry, sd_bus_error *error);
