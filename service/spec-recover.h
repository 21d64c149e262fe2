/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "spec-apply.h"

/* Reads the records, settles applies a crash interrupted, and returns a view per spec. Runs at start,
 * after engine_recover() and before anything else. */
int spec_store_recover(SpecStore *s, Engine *e, SpecView ***ret_views, size_t *ret_n);
