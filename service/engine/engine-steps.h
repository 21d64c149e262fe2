/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Steps of loading and linking that the engine's files offer one another (internal, as engine-internal.h). */

#include "engine-internal.h"

/* engine-inspect.c: before polkit: the object and the attach targets opened as the caller, bpfd-inspect started */
char *object_name_of(const char *source);

/* engine-load-open.c: after polkit: the inspected bytes opened with libbpf, bound and checked */
int load_open(Engine *e, LoadRequest *req, EngineError *error);

/* engine-lifecycle.c: attach, detach, unload */
int make_link(Engine *e, Undo *u, ProgramInfo *p, const char *object_path, const AttachTarget *target,
              const Caller *caller, LinkInfo **ret, EngineError *error);
bool map_dir_in_use(Engine *e, uint32_t gid);
