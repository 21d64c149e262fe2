/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Programs in the kernel, managed or not (engine-kernel-programs.c). */

#include "engine.h"

int engine_kernel_programs(Engine *e, KernelProgram **ret, size_t *ret_n, EngineError *error);
int engine_kernel_program(Engine *e, uint32_t id, KernelProgram *ret, EngineError *error);
