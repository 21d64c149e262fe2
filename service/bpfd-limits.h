/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Bounds of what callers may hand bpfd, checked where their input is read (the bus, spec files). */
#define BPFD_STRING_MAX 4096U   /* paths, values */
#define BPFD_NAME_MAX 256U      /* program names, tracepoints, keys */
#define BPFD_LIST_MAX 1024U     /* entries in any list or dictionary argument */
