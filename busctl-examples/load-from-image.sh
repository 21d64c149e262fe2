#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.LoadFromImage: load programs from an OCI bytecode image, pulled into bpfd's cache as the
# pull policy says; optionally attach one at a tracepoint in the same call.
#
# Usage: load-from-image.sh REFERENCE [PROGRAM [TRACEPOINT]]
#   REFERENCE   REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST] (env BPFD_EXAMPLE_IMAGE)
#   PROGRAM     function to load (env BPFD_EXAMPLE_PROGRAM; default: those the image's labels name)
#   TRACEPOINT  also attach there (env BPFD_EXAMPLE_TRACEPOINT, default: do not attach)
#   env BPFD_EXAMPLE_PULL_POLICY: Always, IfNotPresent (default) or Never
source "$(dirname "$0")/common.sh"

image=${1:-${BPFD_EXAMPLE_IMAGE:-}}
program=${2:-${BPFD_EXAMPLE_PROGRAM:-}}
tracepoint=${3:-${BPFD_EXAMPLE_TRACEPOINT:-}}
policy=${BPFD_EXAMPLE_PULL_POLICY:-IfNotPresent}
[ -n "$image" ] || die "no image reference given (e.g. registry.example:5000/bpf/counter:v1)"

say "Loading ${program:-the programs its labels name} from image $image ($policy)" \
        "${tracepoint:+and attaching at tracepoint $tracepoint}"
if [ "$TOOL" = busctl ]; then
        opts=(pull_policy s "$policy")
        n=1
        [ -n "$program" ] && opts+=(programs as 1 "$program") && n=$((n + 1))
        [ -n "$tracepoint" ] && opts+=(attach 'aa{sv}' 1 2 kind s tracepoint tracepoint s "$tracepoint") && n=$((n + 1))
        show busctl --system call "$DEST" "$MANAGER" "$MANAGER_IFACE" LoadFromImage 'sa{sv}' "$image" "$n" "${opts[@]}"
else
        entries=("'pull_policy': <'$policy'>")
        [ -n "$program" ] && entries+=("'programs': <['$program']>")
        [ -n "$tracepoint" ] && entries+=("'attach': <[{'kind': <'tracepoint'>, 'tracepoint': <'$tracepoint'>}]>")
        gvariant=$(IFS=,; echo "{${entries[*]}}")
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.LoadFromImage" \
                "$image" "$gvariant"
fi
