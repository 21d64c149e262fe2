/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every benchmark here measures and prints with. */

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
double now_ms(void);

/* Sorts v in place and returns its median. */
double median(double *v, size_t n);

/* Prints "name: value" with value formatted by fmt: the line format bench/run passes on. */
void figure(const char *name, const char *fmt, double v);

/* The program or link id that ends a bpfd object path, 0 if none. */
uint32_t id_of_path(const char *path);
