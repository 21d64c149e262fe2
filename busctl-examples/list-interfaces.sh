#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.ListInterfaces: the network interfaces bpfd shows, with the XDP and TC programs on their
# hooks in the order they run (no filter keys yet).
#
# Usage: list-interfaces.sh
source "$(dirname "$0")/common.sh"

say "Listing the network interfaces and the programs on their hooks"
if [ "$TOOL" = busctl ]; then
        show busctl --system --json=pretty call "$DEST" "$MANAGER" "$MANAGER_IFACE" ListInterfaces 'a{sv}' 0
else
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.ListInterfaces" "{}"
fi
