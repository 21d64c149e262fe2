/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Network interfaces as Manager.ListInterfaces reports them: picking one out
 * of the list, the table of "list interfaces" and the program chains of
 * "get interface". */

#include <stdio.h>

#include "bus-value.h"

/* Finds the dictionary of the interface called name in the array of
 * ListInterfaces. With netns (a path), only one in that network namespace:
 * the path attachments named, or any path of the same namespace. Without,
 * the one in bpfd's own namespace, else the only one of that name.
 * Returns 0, -ENOENT if there is none, -ENOTUNIQ if several namespaces have
 * one and none is bpfd's. */
int interface_find(const BusValue *interfaces, const char *name, const char *netns, const BusValue **ret);

/* Columns IFACE, IFINDEX, NETNS ("-" for bpfd's own), XDP ("MODE COUNT", or
 * the count without XDP program), INGRESS and EGRESS (counts). */
int print_interfaces_table(const BusValue *interfaces);

/* A heading line, then one block per hook (XDP, TC ingress, TC egress) with
 * its programs in the order they run, or "(none)". */
int print_interface_chains(FILE *f, const BusValue *interface);
