/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where bpfd-image.socket listens under systemd (override: $BPFD_IMAGE_SOCKET). */
#define BPFD_IMAGE_SOCKET "/run/bpfd-image.socket"

/* The daemon's side of the puller. bpfd starts "bpfd-image serve" once, before its threads exist, as
 * the image user (--image-user, default nobody) with no capabilities, an empty bounding set and
 * no_new_privs; the cache belongs to that user. Requests (pull, list, rm) go to it over a socket and
 * come back on the event loop: the worker never waits for a registry, and an image the cache holds is
 * answered by the long-lived process without a process start or hashing (see image-serve.h). The
 * object comes as a sealed memfd, so what bpfd loads is what the puller verified, whoever owns the
 * cache. The credentials file stays root's: bpfd opens it for each request and hands the puller the
 * descriptor. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "engine-error.h"

typedef struct ImagePull ImagePull;

/* When the puller answered: error NULL, the "key value" lines and, for a pull, the object (a sealed memfd
 * the callee owns; -1 otherwise); or an error (its message for the caller, without the image's name). */
typedef void (*ImagePullDone)(ImagePull *pull, const EngineError *error, char **lines, int object_fd,
                              void *userdata);

/* Paths (NULL: the puller's defaults), the cache limit in bytes (0: the default), the user the puller
 * runs as (NULL: nobody). Then starts the puller; call before any thread is started, as root. */
int image_puller_start(const char *cache, const char *config, const char *auth, uint64_t cache_max,
                       const char *user);

/* LOST is called if the puller ends (killed): it cannot be started again without the privileges bpfd
 * dropped, so bpfd restarts itself (see main.c). */
int image_puller_watch(sd_event *event, void (*lost)(void *userdata), void *userdata);

/* VERB is "pull" (POLICY: 0 Always, 1 IfNotPresent, 2 Never), "list" or "rm". IN_USE: the manifest digests
 * loaded programs came from, which the cache keeps when it must evict (may be NULL). */
int image_pull_start(sd_event *event, const char *verb, const char *reference, int policy, char *const *in_use,
                     ImagePullDone done, void *userdata, ImagePull **ret);
/* Forgets the request; no callback after this. */
ImagePull *image_pull_free(ImagePull *p);

/* The value of the first "key value" line with KEY, or NULL. */
const char *image_pull_value(char **lines, const char *key);
