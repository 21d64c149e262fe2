/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The command of verb-list.c (see bpfctl.h). */

int verb_list(int argc, char *argv[]);
