/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* "bpfd-inspect --zygote": a bpfd-inspect started once, already sandboxed by bpfd (sandbox_enter()), with a
 * seccomp filter of its own, that keeps one spare bpfd-inspect forked ahead of need, so that neither bpfd's
 * fork and exec of a helper nor the zygote's fork is on a request's path. It never reads an object itself.
 *
 * A spare is made a child of bpfd with CLONE_PARENT (bpfd reaps it and kills it as it did an executed
 * helper); it holds only its socket to bpfd (1) and bpfd's log (2), installs the parsing filter, and waits for
 * its one request: the data "inspect\0NAME\0" or "symbol\0FUNCTION\0" (bpfd-inspect's arguments) with the
 * object's descriptor. It answers on the same socket, then exits: every caller's bytes are parsed by a process
 * of their own, which parses nothing else.
 *
 * The zygote talks to bpfd on descriptor 0 (SOCK_SEQPACKET): at start and after each byte bpfd sends it (one
 * per spare taken), it forks a spare and sends bpfd an int32, the spare's pid, with bpfd's end of the spare's
 * socket; or a negative errno and no descriptor. It exits when bpfd closes its end. */

/* Serves bpfd. Returns only in a spare that got its request: *ret_symbol set for "symbol" requests, *ret_arg
 * the request's argument (the object's name, or the function), descriptors 0 the object, 1 the socket to bpfd,
 * 2 bpfd's log, nothing else, and the filter install_filter() put in place before the request came. A
 * negative errno if the zygote cannot start. Its own filter allows parse_syscalls (what install_filter()
 * allows: filters stack) and what serving needs. */
int zygote_serve(int (*install_filter)(void), const int *parse_syscalls, size_t n_parse_syscalls, bool *ret_symbol,
                 const char **ret_arg);
