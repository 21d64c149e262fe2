#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.ListSpecs: every spec bpfd knows, with its status, programs and links (no filter keys yet).
#
# Usage: list-specs.sh
source "$(dirname "$0")/common.sh"

say "Listing the specs"
if [ "$TOOL" = busctl ]; then
        show busctl --system --json=pretty call "$DEST" "$MANAGER" "$MANAGER_IFACE" ListSpecs 'a{sv}' 0
else
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.ListSpecs" "{}"
fi
