/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Reduces the calling thread's capabilities (effective, permitted, inheritable and bounding set) to keep[]. Linux
 * keeps capabilities per thread, which is what lets one thread of bpfd hold them and the others not. */
int caps_reduce_thread(const int *keep, size_t n_keep);
