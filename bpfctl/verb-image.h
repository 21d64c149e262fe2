/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The command of verb-image.c (see bpfctl.h). */

int verb_image(int argc, char *argv[]);
