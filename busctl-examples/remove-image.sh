#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.RemoveImage: forget a cached image (ImageNotCached if it is not cached); programs loaded
# from it stay.
#
# Usage: remove-image.sh REFERENCE   (env BPFD_EXAMPLE_IMAGE)
source "$(dirname "$0")/common.sh"

image=${1:-${BPFD_EXAMPLE_IMAGE:-}}
[ -n "$image" ] || die "no image reference given (e.g. registry.example:5000/bpf/counter:v1)"

say "Removing $image from the cache"
if [ "$TOOL" = busctl ]; then
        show busctl --system call "$DEST" "$MANAGER" "$MANAGER_IFACE" RemoveImage s "$image"
else
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.RemoveImage" "$image"
fi
