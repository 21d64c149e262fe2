#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.LoadFromFd: the caller opens the file and passes the open file descriptor.
#
# busctl cannot send file descriptors ("UNIX file descriptor not supported as type"), so this example always
# uses gdbus, which sends fd N of its own for the GVariant text "handle N" (here fd 3, opened by the shell).
# bpfctl is the everyday fd client: bpfctl load OBJECT -p PROGRAM.
#
# Usage: load-from-fd.sh [OBJECT [PROGRAM [TRACEPOINT]]]   (as load-from-path.sh)
source "$(dirname "$0")/common.sh"

object=${1:-$OBJECT}
program=${2-${BPFD_EXAMPLE_PROGRAM-count_getpid}}
tracepoint=${3:-${BPFD_EXAMPLE_TRACEPOINT:-}}
[ -r "$object" ] || die "cannot read $object"
[ "$TOOL" = gdbus ] || say "busctl cannot pass file descriptors; using gdbus"

entries=()
[ -n "$program" ] && entries+=("'programs': <['$program']>")
[ -n "$tracepoint" ] && entries+=("'attach': <[{'kind': <'tracepoint'>, 'tracepoint': <'$tracepoint'>}]>")
opts=$(IFS=,; echo "{${entries[*]}}")

say "Loading ${program:-the only program} from an open file descriptor of $object${tracepoint:+, attached at $tracepoint}"
exec 3<"$object" || die "cannot open $object"
show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.LoadFromFd" \
        'handle 3' "$opts"
exec 3<&-
