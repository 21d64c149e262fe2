/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The client side of org.bpfd.Manager: connecting, calling, and reading the
 * program, link and interface dictionaries. */

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "bus-value.h"

#define BPFD_BUS_NAME "org.bpfd"
#define BPFD_MANAGER_PATH "/org/bpfd/Manager"
#define BPFD_MANAGER_INTERFACE "org.bpfd.Manager"
/* Program objects: the prefix and the decimal program id. */
#define BPFD_PROGRAM_PATH_PREFIX BPFD_MANAGER_PATH "/program/"
#define BPFD_PROGRAM_INTERFACE "org.bpfd.Program"

/* The environment variable naming a bus address to use instead of the system bus. */
#define BPFD_BUS_ADDRESS_ENV "BPFD_BUS_ADDRESS"

/* Connects to $BPFD_BUS_ADDRESS or the system bus. With allow_interactive,
 * polkit may ask the user for a password before answering. Logs failures. */
int bpfd_connect(bool allow_interactive, sd_bus **ret);

int bpfd_new_method_call(sd_bus *bus, const char *member, sd_bus_message **ret);

/* Sends m and waits for the reply. Calls that change something (mutating)
 * may wait for the verifier or a password prompt, so they get a longer
 * timeout and, if interactive authorization is allowed, a polkit agent. */
int bpfd_call(sd_bus *bus, sd_bus_message *m, bool mutating, sd_bus_error *error, sd_bus_message **reply);

/* bpfd_call() and read the single value the reply carries. */
int bpfd_call_read_value(sd_bus *bus, sd_bus_message *m, sd_bus_error *error, BusValue **ret);

int bpfd_get_program(sd_bus *bus, uint32_t id, sd_bus_error *error, BusValue **ret);
/* GetProgram of every program id and GetLink of every link id, the calls pipelined (one round trip): an array
 * of dictionaries for each. */
int bpfd_get_programs_and_links(sd_bus *bus, const uint32_t *program_ids, size_t n_programs, const uint32_t *link_ids,
                                size_t n_links, sd_bus_error *error, BusValue **ret_programs, BusValue **ret_links);
int bpfd_get_link(sd_bus *bus, uint32_t id, sd_bus_error *error, BusValue **ret);

/* ListInterfaces without filter: the interface dictionaries (aa{sv}) in the daemon's order. */
int bpfd_list_interfaces(sd_bus *bus, sd_bus_error *error, BusValue **ret);
