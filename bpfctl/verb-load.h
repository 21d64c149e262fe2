/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The command of verb-load.c (see bpfctl.h). */

int verb_load(int argc, char *argv[]);
