/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The command of verb-map.c (see bpfctl.h). */

int verb_map(int argc, char *argv[]);
