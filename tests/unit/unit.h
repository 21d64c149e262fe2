/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A tiny harness for C unit tests of pure code (tests/unit/unit-*.c). Each file defines its cases with
 * TEST(name) { ... CHECK(...); ... }; unit.c's main() runs each case in a child process of its own (a crash
 * fails that case only) and prints one line per case, "PASS unit-AREA.name" or "FAIL unit-AREA.name" with
 * what failed indented below, then "N passed, N failed" (the format of tests/runner.py, which runs these
 * through tests/test_cunit.py). "unit-AREA --list" prints the case names, "unit-AREA NAME..." runs some. */

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void unit_register(const char *name, void (*func)(void));
void unit_fail(const char *file, int line, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));

#define TEST(n)                                                                                          \
        static void unit_test_##n(void);                                                                 \
        __attribute__((constructor)) static void unit_register_##n(void) {                               \
                unit_register(#n, unit_test_##n);                                                        \
        }                                                                                                \
        static void unit_test_##n(void)

#define CHECK(cond)                                                                                      \
        do {                                                                                             \
                if (!(cond))                                                                             \
                        unit_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond);                        \
        } while (0)

#define CHECK_MSG(cond, ...)                                                                             \
        do {                                                                                             \
                if (!(cond))                                                                             \
                        unit_fail(__FILE__, __LINE__, __VA_ARGS__);                                      \
        } while (0)

/* Strings, NULL allowed on either side. */
#define CHECK_STREQ(a, b)                                                                                \
        do {                                                                                             \
                const char *_a = (a), *_b = (b);                                                         \
                if (!((!_a && !_b) || (_a && _b && strcmp(_a, _b) == 0)))                                \
                        unit_fail(__FILE__, __LINE__, "%s is \"%s\", expected \"%s\"", #a,              \
                                  _a ?: "(null)", _b ?: "(null)");                                       \
        } while (0)

#define CHECK_INT(a, b)                                                                                  \
        do {                                                                                             \
                intmax_t _a = (intmax_t) (a), _b = (intmax_t) (b);                                       \
                if (_a != _b)                                                                            \
                        unit_fail(__FILE__, __LINE__, "%s is %jd, expected %jd", #a, _a, _b);            \
        } while (0)
