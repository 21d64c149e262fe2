#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.ListLinks: the links bpfd manages, optionally of one program only.
#
# Usage: list-links.sh [PROGRAM_ID]   (env BPFD_EXAMPLE_PROGRAM_ID, default: links of all programs)
source "$(dirname "$0")/common.sh"

id=${1:-${BPFD_EXAMPLE_PROGRAM_ID:-}}
[ -z "$id" ] || need_id "program id" "$id"

say "Listing the links bpfd manages${id:+ of program $id}"
if [ "$TOOL" = busctl ]; then
        if [ -n "$id" ]; then
                show busctl --system --json=pretty call "$DEST" "$MANAGER" "$MANAGER_IFACE" ListLinks 'a{sv}' \
                        1 program_id u "$id"
        else
                show busctl --system --json=pretty call "$DEST" "$MANAGER" "$MANAGER_IFACE" ListLinks 'a{sv}' 0
        fi
else
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.ListLinks" \
                "{${id:+'program_id': <uint32 $id>}}"
fi
