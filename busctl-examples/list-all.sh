#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.ListPrograms with filter "all": every BPF program of the system, also those bpfd did not
# load ("managed" tells them apart).
#
# Usage: list-all.sh
source "$(dirname "$0")/common.sh"

say "Listing every BPF program of the system"
if [ "$TOOL" = busctl ]; then
        show busctl --system --json=pretty call "$DEST" "$MANAGER" "$MANAGER_IFACE" ListPrograms 'a{sv}' 1 all b true
else
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.ListPrograms" \
                "{'all': <true>}"
fi
