/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The daemon's side of bpfd-image: runs one verb of the puller (pull, list, rm) in a process of its own
 * and reports on the event loop when it is done, so a pull never occupies the worker and a registry
 * that does not answer delays nobody else. The process starts with no capabilities and an empty
 * bounding set, with no_new_privs, only its pipes open, and under --image-user's ids (see
 * image_puller_configure()). */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct ImagePull ImagePull;

/* When the puller is done: error_name NULL and the output lines ("key value"), or an org.bpfd.Error name
 * and a message for the caller. */
typedef void (*ImagePullDone)(ImagePull *pull, const char *error_name, const char *message, char **lines,
                              void *userdata);

/* Paths (NULL: the puller's defaults), the cache limit in bytes (0: the default) and the uid/gid the
 * puller runs as (0: as the daemon). */
int image_puller_configure(const char *cache, const char *config, const char *auth, uint64_t cache_max,
                           uid_t uid, gid_t gid);

/* VERB is "pull" (POLICY: 0 Always, 1 IfNotPresent, 2 Never), "list" or "rm". */
int image_pull_start(sd_event *event, const char *verb, const char *reference, int policy, ImagePullDone done,
                     void *userdata, ImagePull **ret);
/* Stops the process if it still runs; no callback after this. */
ImagePull *image_pull_free(ImagePull *p);

/* The value of the first "key value" line with KEY, or NULL. */
const char *image_pull_value(char **lines, const char *key);
