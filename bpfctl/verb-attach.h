/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The commands of verb-attach.c (see bpfctl.h). */

int verb_attach(int argc, char *argv[]);
int verb_detach(int argc, char *argv[]);
int verb_unload(int argc, char *argv[]);
