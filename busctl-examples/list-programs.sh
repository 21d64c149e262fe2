#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.ListPrograms: the programs bpfd loaded, optionally of one kind only.
#
# Usage: list-programs.sh [KIND]   (env BPFD_EXAMPLE_KIND, e.g. tracepoint; default: all kinds)
source "$(dirname "$0")/common.sh"

kind=${1:-${BPFD_EXAMPLE_KIND:-}}

say "Listing the programs bpfd manages${kind:+ of kind $kind}"
if [ "$TOOL" = busctl ]; then
        if [ -n "$kind" ]; then
                show busctl --system --json=pretty call "$DEST" "$MANAGER" "$MANAGER_IFACE" ListPrograms 'a{sv}' \
                        1 kind s "$kind"
        else
                show busctl --system --json=pretty call "$DEST" "$MANAGER" "$MANAGER_IFACE" ListPrograms 'a{sv}' 0
        fi
else
        # shellcheck disable=SC2016  # the single quotes are GVariant text
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.ListPrograms" \
                "{${kind:+'kind': <'$kind'>}}"
fi
