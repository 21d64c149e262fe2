#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.PullImage: fetch an OCI bytecode image into bpfd's cache without loading it (digests and
# the cosign signature checked as the registry's configuration says, bpfd-registries.conf(5)).
#
# Usage: pull-image.sh REFERENCE [POLICY]
#   REFERENCE  REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST] (env BPFD_EXAMPLE_IMAGE)
#   POLICY     Always, IfNotPresent (default) or Never (env BPFD_EXAMPLE_PULL_POLICY)
source "$(dirname "$0")/common.sh"

image=${1:-${BPFD_EXAMPLE_IMAGE:-}}
policy=${2:-${BPFD_EXAMPLE_PULL_POLICY:-IfNotPresent}}
[ -n "$image" ] || die "no image reference given (e.g. registry.example:5000/bpf/counter:v1)"

say "Pulling $image ($policy)"
if [ "$TOOL" = busctl ]; then
        show busctl --system --json=pretty call "$DEST" "$MANAGER" "$MANAGER_IFACE" PullImage ss "$image" "$policy"
else
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.PullImage" \
                "$image" "$policy"
fi
