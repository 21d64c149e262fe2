#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Program.MapLookup: the value of one key (KeyNotFound if the map has no entry for it).
#
# Usage: map-lookup.sh [PROGRAM_ID [MAP [KEY]]]
#   PROGRAM_ID  (env BPFD_EXAMPLE_PROGRAM_ID, default: the newest program bpfd manages)
#   MAP         (env BPFD_EXAMPLE_MAP, default counter)
#   KEY         hex bytes in host byte order, of the map's key size (default 00000000: the u32 0)
source "$(dirname "$0")/common.sh"

id=${1:-${BPFD_EXAMPLE_PROGRAM_ID:-$(newest program)}}
map=${2:-${BPFD_EXAMPLE_MAP:-counter}}
key=${3:-00000000}
need_id "program id" "$id"
key_text=$(bytes "$key")
read -ra key_arg <<< "$key_text"

say "The value of key $key in map $map of program $id"
if [ "$TOOL" = busctl ]; then
        show busctl --system call "$DEST" "$(program_path "$id")" org.bpfd.Program MapLookup say "$map" "${key_arg[@]}"
else
        show gdbus call --system --dest "$DEST" --object-path "$(program_path "$id")" \
                --method org.bpfd.Program.MapLookup "$map" "${key_arg[*]}"
fi
