#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Program.MapDelete: remove the entry of a key (hash maps and the like; array entries cannot be
# deleted, bpfd answers InvalidArgument).
#
# Usage: map-delete.sh [PROGRAM_ID [MAP [KEY]]]
#   PROGRAM_ID  (env BPFD_EXAMPLE_PROGRAM_ID, default: the newest program bpfd manages)
#   MAP         (env BPFD_EXAMPLE_MAP, default counter)
#   KEY         hex bytes in host byte order, of the map's key size (default 00000000)
source "$(dirname "$0")/common.sh"

id=${1:-${BPFD_EXAMPLE_PROGRAM_ID:-$(newest program)}}
map=${2:-${BPFD_EXAMPLE_MAP:-counter}}
key=${3:-00000000}
need_id "program id" "$id"
key_text=$(bytes "$key")
read -ra key_arg <<< "$key_text"

say "Deleting key $key from map $map of program $id"
if [ "$TOOL" = busctl ]; then
        show busctl --system call "$DEST" "$(program_path "$id")" org.bpfd.Program MapDelete say "$map" "${key_arg[@]}"
else
        show gdbus call --system --dest "$DEST" --object-path "$(program_path "$id")" \
                --method org.bpfd.Program.MapDelete "$map" "${key_arg[*]}"
fi
