#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Program.MapUpdate: store a value under a key.
#
# Usage: map-update.sh [PROGRAM_ID [MAP [KEY [VALUE [FLAGS]]]]]
#   PROGRAM_ID  (env BPFD_EXAMPLE_PROGRAM_ID, default: the newest program bpfd manages)
#   MAP         (env BPFD_EXAMPLE_MAP, default counter)
#   KEY, VALUE  hex bytes in host byte order, of the map's sizes (default 01000000 and 2a00000000000000:
#               the u64 42 under the u32 1)
#   FLAGS       0 create or replace (default), 1 only create, 2 only replace
source "$(dirname "$0")/common.sh"

id=${1:-${BPFD_EXAMPLE_PROGRAM_ID:-$(newest program)}}
map=${2:-${BPFD_EXAMPLE_MAP:-counter}}
key=${3:-01000000}
value=${4:-2a00000000000000}
flags=${5:-0}
need_id "program id" "$id"
need_id "flags" "$flags"
key_text=$(bytes "$key")
read -ra key_arg <<< "$key_text"
value_text=$(bytes "$value")
read -ra value_arg <<< "$value_text"

say "Storing $value under key $key in map $map of program $id"
if [ "$TOOL" = busctl ]; then
        show busctl --system call "$DEST" "$(program_path "$id")" org.bpfd.Program MapUpdate sayayt "$map" \
                "${key_arg[@]}" "${value_arg[@]}" "$flags"
else
        show gdbus call --system --dest "$DEST" --object-path "$(program_path "$id")" \
                --method org.bpfd.Program.MapUpdate "$map" "${key_arg[*]}" "${value_arg[*]}" "$flags"
fi
