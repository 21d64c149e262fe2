/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

/* Where bpfd-image.socket listens (override: $BPFD_IMAGE_SOCKET). */
#define BPFD_IMAGE_SOCKET_PATH "/run/bpfd-image.socket"

/* The most a bridge reply may carry, per stream. */
#define IMAGE_RUN_MAX_OUTPUT (16U * 1024U * 1024U)

/* Runs the image puller with ARGV (ARGV[0]: the helper's path, used when bpfd starts it itself) and
 * collects its standard output and error and its exit status (0..255; -1: killed by a signal).
 *
 * Under systemd, bpfd.service has no Internet sockets: the puller runs as bpfd-image@.service, started
 * per connection to bpfd-image.socket by systemd (bpfd-image-bridge runs it there). Without that socket,
 * bpfd forks and execs the helper itself, without any capability. */
int image_run(const char *const *argv, GString *out, GString *err, int *ret_exit_status);
