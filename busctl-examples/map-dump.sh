#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Program.MapDump: every entry of a map, keys and values as the kernel's bytes.
#
# Usage: map-dump.sh [PROGRAM_ID [MAP]]
#   PROGRAM_ID  (env BPFD_EXAMPLE_PROGRAM_ID, default: the newest program bpfd manages)
#   MAP         (env BPFD_EXAMPLE_MAP, default counter)
source "$(dirname "$0")/common.sh"

id=${1:-${BPFD_EXAMPLE_PROGRAM_ID:-$(newest program)}}
map=${2:-${BPFD_EXAMPLE_MAP:-counter}}
need_id "program id" "$id"

say "Every entry of map $map of program $id"
if [ "$TOOL" = busctl ]; then
        show busctl --system call "$DEST" "$(program_path "$id")" org.bpfd.Program MapDump s "$map"
else
        show gdbus call --system --dest "$DEST" --object-path "$(program_path "$id")" \
                --method org.bpfd.Program.MapDump "$map"
fi
