/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "bus-util.h"

/* Entries of an a{sv} being built in `reply`; return from the enclosing function (int r in scope) on error. */
#define DICT(key, sig, ...)                                                                                       \
        do {                                                                                                    \
                r = bus_append_dict_entry(reply, key, sig, __VA_ARGS__);                                       \
                if (r < 0)                                                                                      \
                        return r;                                                                               \
        } while (0)

/* An entry whose variant an appender writes (an expression returning < 0 on error). */
#define DICT_WITH(key, sig, appender)                                                                             \
        do {                                                                                                    \
                r = sd_bus_message_open_container(reply, 'e', "sv");                                           \
                if (r >= 0)                                                                                     \
                        r = sd_bus_message_append_basic(reply, 's', key);                                       \
                if (r >= 0)                                                                                     \
                        r = sd_bus_message_open_container(reply, 'v', sig);                                     \
                if (r >= 0)                                                                                     \
                        r = (appender);                                                                         \
                if (r >= 0)                                                                                     \
                        r = sd_bus_message_close_container(reply);                                              \
                if (r >= 0)                                                                                     \
                        r = sd_bus_message_close_container(reply);                                              \
                if (r < 0)                                                                                      \
                        return r;                                                                               \
        } while (0)
