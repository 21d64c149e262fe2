/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The commands of verb-get.c (see bpfctl.h). */

int verb_get(int argc, char *argv[]);
int verb_interface(int argc, char *argv[]); /* "get interface" without the "get" */
