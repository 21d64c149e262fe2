/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The command of verb-status.c (see bpfctl.h). */

int verb_status(int argc, char *argv[]);
