#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.SetStatsEnabled and GetRequestStatistics: turn the kernel's run statistics of every
# program on or off (polkit action org.bpfd.stats), then show bpfd's own request statistics (open to all).
#
# Usage: stats.sh [on|off]   (default: change nothing, only show the statistics)
source "$(dirname "$0")/common.sh"

case ${1:-} in
on) enable=true ;;
off) enable=false ;;
'') enable= ;;
*) die "stats.sh takes on, off or nothing, not '$1'" ;;
esac

if [ -n "$enable" ]; then
        say "Turning the kernel's run statistics $1"
        if [ "$TOOL" = busctl ]; then
                show busctl --system call "$DEST" "$MANAGER" "$MANAGER_IFACE" SetStatsEnabled b "$enable"
        else
                show gdbus call --system --dest "$DEST" --object-path "$MANAGER" \
                        --method "$MANAGER_IFACE.SetStatsEnabled" "$enable"
        fi
fi
say "bpfd's request statistics: (method, result, calls, total µs, histogram), bucket bounds in µs"
if [ "$TOOL" = busctl ]; then
        show busctl --system call "$DEST" "$MANAGER" "$MANAGER_IFACE" GetRequestStatistics
else
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.GetRequestStatistics"
fi
