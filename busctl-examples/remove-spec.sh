#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.RemoveSpec: unload everything a spec made and forget the spec.
#
# Usage: remove-spec.sh [NAME]   (default: example)
source "$(dirname "$0")/common.sh"

name=${1:-example}

say "Removing spec $name"
if [ "$TOOL" = busctl ]; then
        show busctl --system call "$DEST" "$MANAGER" "$MANAGER_IFACE" RemoveSpec s "$name"
else
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.RemoveSpec" "$name"
fi
