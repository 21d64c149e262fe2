/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What checks.c answers for the request pipeline (request-internal.h); checks.h is what specs share. */

#include "request-internal.h"

/* checks.c: the view's program or link, or the one error for its absence. */
const ProgramInfo *request_program(const Request *req, uint32_t id, sd_bus_error *error);
/* The polkit questions of each operation (pure). */
int checks_load_gate(const Request *req, Authorization *out, sd_bus_error *error);
int checks_load(const Request *req, Authorization *out, sd_bus_error *error);
int checks_attach(const Request *req, Authorization *out, sd_bus_error *error);
int checks_detach(const Request *req, Authorization *out, sd_bus_error *error);
int checks_unload(const Request *req, Authorization *out, sd_bus_error *error);
int checks_map(const Request *req, Authorization *out, sd_bus_error *error);
int checks_image(const Request *req, Authorization *out, sd_bus_error *error);
