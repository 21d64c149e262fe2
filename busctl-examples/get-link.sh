#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.GetLink: one link bpfd manages, by kernel link id.
#
# Usage: get-link.sh [LINK_ID]   (env BPFD_EXAMPLE_LINK_ID, default: the newest link bpfd manages)
source "$(dirname "$0")/common.sh"

id=${1:-${BPFD_EXAMPLE_LINK_ID:-$(newest link)}}
need_id "link id" "$id"

say "Getting link $id"
if [ "$TOOL" = busctl ]; then
        show busctl --system --json=pretty call "$DEST" "$MANAGER" "$MANAGER_IFACE" GetLink u "$id"
else
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.GetLink" "$id"
fi
