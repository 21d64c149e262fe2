#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.LoadFromPath: bpfd opens the file itself, as the caller.
#
# Usage: load-from-path.sh [OBJECT [PROGRAM [TRACEPOINT]]]
#   OBJECT      BPF ELF object     (env BPFD_EXAMPLE_OBJECT, default build/bpf/tracepoint_counter.bpf.o)
#   PROGRAM     function to load   (env BPFD_EXAMPLE_PROGRAM, default count_getpid; empty: the only one)
#   TRACEPOINT  also attach there in the same call, e.g. syscalls/sys_enter_getpid
#               (env BPFD_EXAMPLE_TRACEPOINT, default: do not attach)
source "$(dirname "$0")/common.sh"

object=${1:-$OBJECT}
program=${2-${BPFD_EXAMPLE_PROGRAM-count_getpid}}
tracepoint=${3:-${BPFD_EXAMPLE_TRACEPOINT:-}}
case $object in /*) ;; *) object=$PWD/$object ;; esac
[ -r "$object" ] || die "cannot read $object"

say "Loading ${program:-the only program} from $object${tracepoint:+ and attaching it at tracepoint $tracepoint}"
if [ "$TOOL" = busctl ]; then
        # a{sv} in busctl: the number of entries, then KEY TYPE VALUE for each.
        opts=(0)
        if [ -n "$program" ] && [ -n "$tracepoint" ]; then
                opts=(2 programs as 1 "$program" attach 'aa{sv}' 1 2 kind s tracepoint tracepoint s "$tracepoint")
        elif [ -n "$program" ]; then
                opts=(1 programs as 1 "$program")
        elif [ -n "$tracepoint" ]; then
                opts=(1 attach 'aa{sv}' 1 2 kind s tracepoint tracepoint s "$tracepoint")
        fi
        show busctl --system call "$DEST" "$MANAGER" "$MANAGER_IFACE" LoadFromPath 'sa{sv}' "$object" "${opts[@]}"
else
        # gdbus takes GVariant text and looks the argument types up by introspection.
        entries=()
        [ -n "$program" ] && entries+=("'programs': <['$program']>")
        [ -n "$tracepoint" ] && entries+=("'attach': <[{'kind': <'tracepoint'>, 'tracepoint': <'$tracepoint'>}]>")
        gvariant=$(IFS=,; echo "{${entries[*]}}")
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.LoadFromPath" \
                "$object" "$gvariant"
fi
