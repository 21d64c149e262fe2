#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.Detach: remove one attachment; the program stays loaded.
#
# Usage: detach.sh [LINK_ID]   (env BPFD_EXAMPLE_LINK_ID, default: the newest link bpfd manages)
source "$(dirname "$0")/common.sh"

id=${1:-${BPFD_EXAMPLE_LINK_ID:-$(newest link)}}
need_id "link id" "$id"

say "Detaching link $id"
if [ "$TOOL" = busctl ]; then
        show busctl --system call "$DEST" "$MANAGER" "$MANAGER_IFACE" Detach u "$id"
else
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.Detach" "$id"
fi
