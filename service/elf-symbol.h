/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* File offset of a function symbol in an ELF binary, as uprobes want it: -ENOEXEC if fd is not ELF, -ENOENT if
 * there is no such defined function. */
int elf_function_offset(int fd, const char *function, uint64_t *ret);
