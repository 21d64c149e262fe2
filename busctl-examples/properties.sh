#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.freedesktop.DBus.Properties on bpfd's objects: all properties of the Manager, a program or a link, then
# one property read on its own.
#
# Usage: properties.sh [OBJECT_PATH]
#   OBJECT_PATH  /org/bpfd/Manager (default), /org/bpfd/Manager/program/ID or /org/bpfd/Manager/link/ID
#                (env BPFD_EXAMPLE_OBJECT_PATH)
source "$(dirname "$0")/common.sh"

path=${1:-${BPFD_EXAMPLE_OBJECT_PATH:-$MANAGER}}
case $path in
"$MANAGER") iface=$MANAGER_IFACE; one=Version ;;
"$MANAGER"/program/[0-9]*) iface=org.bpfd.Program; one=OwnerUid ;;
"$MANAGER"/link/[0-9]*) iface=org.bpfd.Link; one=AttachPoint ;;
*) die "not an object of bpfd: $path" ;;
esac

say "All properties of $iface on $path"
if [ "$TOOL" = busctl ]; then
        show busctl --system introspect "$DEST" "$path" "$iface"
        say "Only $one"
        show busctl --system get-property "$DEST" "$path" "$iface" "$one"
else
        show gdbus call --system --dest "$DEST" --object-path "$path" \
                --method org.freedesktop.DBus.Properties.GetAll "$iface"
        say "Only $one"
        show gdbus call --system --dest "$DEST" --object-path "$path" \
                --method org.freedesktop.DBus.Properties.Get "$iface" "$one"
fi
