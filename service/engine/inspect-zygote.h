/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Worker: a bpfd-inspect of its own for one request: the spare the inspection zygote ("bpfd-inspect --zygote",
 * see service/bpfd-inspect-zygote.h) forked ahead of need as a child of bpfd. symbol false inspects the object
 * on object_fd (arg: the object's name), true finds function arg in the ELF binary on object_fd. Returns its
 * pid (reaped and, when abandoned, killed by the caller as before) and the socket its answer comes on. The
 * zygote is started, sandboxed with sandbox_enter(), at the first request (or inspect_zygote_start()), and
 * again if it died. */
int inspect_zygote_spawn(int object_fd, bool symbol, const char *arg, pid_t *ret_pid, int *ret_sock);

/* Worker: starts the zygote now if it is not running (so the first load does not wait for it). */
int inspect_zygote_start(void);
