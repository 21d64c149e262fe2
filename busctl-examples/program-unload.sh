#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Program.Unload: Manager.Unload, called on the program's own object.
#
# Usage: program-unload.sh [PROGRAM_ID]   (env BPFD_EXAMPLE_PROGRAM_ID, default: the newest program bpfd manages)
source "$(dirname "$0")/common.sh"

id=${1:-${BPFD_EXAMPLE_PROGRAM_ID:-$(newest program)}}
need_id "program id" "$id"
path=$MANAGER/program/$id

say "Unloading $path"
if [ "$TOOL" = busctl ]; then
        show busctl --system call "$DEST" "$path" org.bpfd.Program Unload
else
        show gdbus call --system --dest "$DEST" --object-path "$path" --method org.bpfd.Program.Unload
fi
