#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.ListImages: the OCI bytecode images in bpfd's cache, reference and digest (open to all).
#
# Usage: list-images.sh
source "$(dirname "$0")/common.sh"

say "Listing the cached images"
if [ "$TOOL" = busctl ]; then
        show busctl --system --json=pretty call "$DEST" "$MANAGER" "$MANAGER_IFACE" ListImages
else
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.ListImages"
fi
