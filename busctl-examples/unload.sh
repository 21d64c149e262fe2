#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.Unload: detach every link of a program and unload it.
#
# Usage: unload.sh [PROGRAM_ID]   (env BPFD_EXAMPLE_PROGRAM_ID, default: the newest program bpfd manages)
source "$(dirname "$0")/common.sh"

id=${1:-${BPFD_EXAMPLE_PROGRAM_ID:-$(newest program)}}
need_id "program id" "$id"

say "Unloading program $id"
if [ "$TOOL" = busctl ]; then
        show busctl --system call "$DEST" "$MANAGER" "$MANAGER_IFACE" Unload u "$id"
else
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.Unload" "$id"
fi
