#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Spec: the status of a spec (Applied, Pending, Failed), its error, and the program and link ids it
# owns, as properties of /org/bpfd/Manager/spec/NAME.
#
# Usage: spec-status.sh [NAME]   (default: example)
source "$(dirname "$0")/common.sh"

name=${1:-example}
case $name in
*[!A-Za-z0-9]*) die "this example takes spec names of letters and digits only (others are escaped in the path)" ;;
esac

say "Properties of spec $name"
if [ "$TOOL" = busctl ]; then
        show busctl --system get-property "$DEST" "$MANAGER/spec/$name" org.bpfd.Spec Status Error Programs Links
else
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER/spec/$name" \
                --method org.freedesktop.DBus.Properties.GetAll org.bpfd.Spec
fi
