/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "polkit-details.h"

/* The polkit questions of one call, asked one after the other; the first "no" ends it. Requests (request.c)
 * and spec jobs (bus-spec.c) both go through here: one chain, one way to fail closed. */
typedef enum AuthorizationResult {
        AUTHORIZATION_YES,        /* every question answered yes, or nobody had to be asked */
        AUTHORIZATION_REFUSED,    /* polkit said no (authorized: 0 or -EKEYREJECTED), or could not decide (error) */
        AUTHORIZATION_INCOMPLETE, /* a question could not be put together: refuse (fail closed) */
        AUTHORIZATION_CANNOT_ASK, /* polkit could not be asked (authorized: the errno) */
} AuthorizationResult;

/* check: the refused question (action, key, value, ..., NULL) where there is one, else NULL. */
typedef void (*authorization_done_t)(void *userdata, AuthorizationResult result, int authorized,
                                     const sd_bus_error *error, char **check);

typedef struct Asking Asking;

typedef struct Authorization {
        GPtrArray *checks; /* char** each: action, key, value, ..., NULL */
        guint next_check;
        bool incomplete;
        sd_bus_slot *slot; /* the question out */
        Asking *asking;    /* while it runs */
} Authorization;

void authorization_init(Authorization *a);
void authorization_done(Authorization *a);
/* One question, with every detail of the CheckSpec (polkit-details.c) and, where given, one more key and
 * value (specs: "spec", the spec's name). Any failure marks the chain incomplete: it refuses when run. */
void authorization_add(Authorization *a, const CheckSpec *spec, const char *extra_key, const char *extra_value);
size_t authorization_count(const Authorization *a);
/* Asks the questions not asked yet, for the sender of msg; done runs from the event loop after the last
 * answer or the first refusal (at once when there is nothing to ask, or when ask is false: root and bpfd's
 * own jobs ask nobody). The chain may get more questions and run again after done. */
void authorization_run(Authorization *a, sd_bus *bus, sd_bus_message *msg, bool ask, authorization_done_t done,
                       void *userdata);
