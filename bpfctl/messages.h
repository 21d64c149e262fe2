/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* MESSAGE with bpfd's bus option keys replaced by bpfctl's options; a new string, NULL without memory. */
char *message_in_cli_words(const char *message);

/* A sentence to print after an error: what the error means and what to do, or NULL. */
const char *message_hint(const char *error_name, const char *message);
