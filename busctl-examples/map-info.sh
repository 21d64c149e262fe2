#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Program.MapInfo: type, sizes and BTF of a map of a program bpfd loaded.
#
# Usage: map-info.sh [PROGRAM_ID [MAP]]
#   PROGRAM_ID  (env BPFD_EXAMPLE_PROGRAM_ID, default: the newest program bpfd manages)
#   MAP         a name of the program's Maps property (env BPFD_EXAMPLE_MAP, default counter)
source "$(dirname "$0")/common.sh"

id=${1:-${BPFD_EXAMPLE_PROGRAM_ID:-$(newest program)}}
map=${2:-${BPFD_EXAMPLE_MAP:-counter}}
need_id "program id" "$id"

say "Information on map $map of program $id"
if [ "$TOOL" = busctl ]; then
        show busctl --system call "$DEST" "$(program_path "$id")" org.bpfd.Program MapInfo s "$map"
else
        show gdbus call --system --dest "$DEST" --object-path "$(program_path "$id")" \
                --method org.bpfd.Program.MapInfo "$map"
fi
