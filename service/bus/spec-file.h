/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

#include "../spec-group.h"

/* The two spellings of a spec: the key file an administrator writes (bpfd.spec(5): [Spec], [Object NAME],
 * [Attach NAME] sections with systemd-style keys) and the a{sv} that ApplySpec takes. This file only maps one
 * onto the other, key by key and type by type; what the values mean is checked by the daemon (spec.c).
 * Shared by bpfctl (file → bus) and bpfd (bus → key file). Errors come back as a malloc'd message. */

/* Appends the a{sv} of ApplySpec for the key file. */
int spec_keyfile_append(sd_bus_message *m, GKeyFile *kf, char **ret_error);
/* Reads the a{sv} of ApplySpec into an empty key file. */
int spec_keyfile_read(sd_bus_message *m, GKeyFile *kf, char **ret_error);
