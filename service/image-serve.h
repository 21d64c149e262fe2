/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "image.h"

/* bpfd-image serve: the long-lived puller bpfd starts at boot (as its own user, no capabilities, empty
 * bounding set). Requests come on CONTROL_FD (SOCK_SEQPACKET), one message each:
 *     "VERB\0REFERENCE\0POLICY\0IN_USE\0" with descriptors [reply socket, auth file (optional)]
 * (IN_USE: the manifest digests loaded programs came from, space-separated: never evicted)
 * VERB is pull, list or rm. The answer is one message on the reply socket: the "key value" lines of
 * bpfd-image's verbs, then "status N" (bpfd-image's exit status; on failure after "error CLASS: MESSAGE"),
 * and for a pull the object as a sealed memfd.
 *
 * What the cache alone answers is answered at once, in this process; a pull that needs the registry runs
 * in a child, so a slow registry delays only its own request. A pull answered from the cache is
 * remembered with the identity (device, inode, size, times) of every file it read: while none of them
 * changed, the same answer and the same sealed object are given again without reading or hashing
 * anything. */
int image_serve(int control_fd, const ImagePullOptions *opts);
