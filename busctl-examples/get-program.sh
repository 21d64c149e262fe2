#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.GetProgram: one program of the system by kernel id.
#
# Usage: get-program.sh [PROGRAM_ID]   (env BPFD_EXAMPLE_PROGRAM_ID, default: the newest program bpfd manages)
source "$(dirname "$0")/common.sh"

id=${1:-${BPFD_EXAMPLE_PROGRAM_ID:-$(newest program)}}
need_id "program id" "$id"

say "Getting program $id"
if [ "$TOOL" = busctl ]; then
        show busctl --system --json=pretty call "$DEST" "$MANAGER" "$MANAGER_IFACE" GetProgram u "$id"
else
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.GetProgram" "$id"
fi
