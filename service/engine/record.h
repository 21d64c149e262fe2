/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The format of the engine's records (see README, "State: nothing lost"): one key file per load group, a
 * [Group] group, then a [Program N] group per program and a [Link N] group per link. These write and read the
 * program's and the link's groups; what the kernel and the load group tell (fds, pins, the group's owner and
 * source) is not in them. */

#include <glib.h>

#include "model.h"

/* -ENOMEM or 0. */
int record_write_program(GKeyFile *kf, const ProgramInfo *p);
void record_write_link(GKeyFile *kf, const LinkInfo *l);
/* -EBADMSG for a group without what a program (a link) needs, -ENOMEM. */
int record_read_program(GKeyFile *kf, const char *sec, ProgramInfo *p);
int record_read_link(GKeyFile *kf, const char *sec, LinkInfo *l);
