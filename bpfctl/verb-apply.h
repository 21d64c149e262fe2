/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The commands of verb-apply.c (see bpfctl.h). */

int verb_apply(int argc, char *argv[]);
int verb_remove_spec(int argc, char *argv[]);
int verb_list_specs(int argc, char *argv[]); /* "list specs" */
