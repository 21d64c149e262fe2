/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "target.h"

/* Writes t's keys (what was asked, never what was resolved) into group of kf. */
void attach_target_save(const AttachTarget *t, GKeyFile *kf, const char *group);
/* Reads them back; -EBADMSG for a record that does not make a valid target (t is then left empty). */
int attach_target_load(AttachTarget *t, GKeyFile *kf, const char *group);
