/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Loading: before polkit (engine-inspect.c) and after (engine-load.c). */

#include "engine.h"

/* Before polkit: gets the object (opens a path as the caller, or takes the caller's fd or the puller's
 * memfd) and starts bpfd-inspect on the object. Parses nothing of the caller's. The attach targets are
 * opened as the caller once the plan completed them (targets_open_as_caller()). */
int engine_prepare_load(Engine *e, LoadRequest *req, EngineError *error);
/* Worker: LoadFromPath's object opened as the caller without waiting for it (caller-open.h); once it answered,
 * engine_object_opened() keeps the descriptor as req->object_fd (or says why it would not open), and
 * engine_prepare_load() goes on with it. */
struct CallerOpen;
int engine_open_object_start(LoadRequest *req, struct CallerOpen **ret, EngineError *error);
int engine_object_opened(LoadRequest *req, int r, int fd, EngineError *error);
/* Worker: engine_prepare_load(), the plan from bpfd-inspect's answer, waiting for it, and the targets opened
 * as the caller (specs). */
int engine_inspect(Engine *e, LoadRequest *req, EngineError *error);
/* After polkit: opens the inspected bytes with libbpf, binds, shares maps, loads, pins, attaches. */
int engine_load(Engine *e, LoadRequest *req, EngineError *error);
