#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Link.Detach: Manager.Detach, called on the link's own object.
#
# Usage: link-detach.sh [LINK_ID]   (env BPFD_EXAMPLE_LINK_ID, default: the newest link bpfd manages)
source "$(dirname "$0")/common.sh"

id=${1:-${BPFD_EXAMPLE_LINK_ID:-$(newest link)}}
need_id "link id" "$id"
path=$MANAGER/link/$id

say "Detaching $path"
if [ "$TOOL" = busctl ]; then
        show busctl --system call "$DEST" "$path" org.bpfd.Link Detach
else
        show gdbus call --system --dest "$DEST" --object-path "$path" --method org.bpfd.Link.Detach
fi
