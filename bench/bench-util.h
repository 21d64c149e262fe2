/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every benchmark here measures and prints with. */

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

/* CLOCK_MONOTONIC in milliseconds. */
double now_ms(void);

/* Sorts v in place and returns its median. */
double median(double *v, size_t n);

/* Prints "name: value" with value formatted by fmt: the line format bench/run passes on. */
void figure(const char *name, const char *fmt, double v);

/* The program or link id that ends a bpfd object path, 0 if none. */
uint32_t id_of_path(const char *path);

/* bpfd's LoadFromFd of program (one of object's) as the benchmarks call it, with tracepoint ("CATEGORY/NAME")
 * as its "attach" unless NULL; *ret_id is the program's id. A negative errno: the file (error unset), the
 * call (error set to bpfd's answer), or -EBADMSG for a reply without a program. */
int bench_load_from_fd(sd_bus *bus, const char *object, const char *program, const char *tracepoint,
                       uint32_t *ret_id, sd_bus_error *error);
