#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.ApplySpec: make bpfd run a declared set of programs (bpfd.spec(5)); the spec is the a{sv}
# that "bpfctl apply" sends for a key file. Applying the same spec again changes nothing.
#
# Usage: apply-spec.sh [NAME [TRACEPOINT]]   (default: example, syscalls/sys_enter_getpid; the program
#        count_getpid of BPFD_EXAMPLE_OBJECT)
source "$(dirname "$0")/common.sh"

name=${1:-example}
tracepoint=${2:-syscalls/sys_enter_getpid}

say "Applying spec $name: count_getpid of $OBJECT on tracepoint $tracepoint"
if [ "$TOOL" = busctl ]; then
        show busctl --system call "$DEST" "$MANAGER" "$MANAGER_IFACE" ApplySpec 'sa{sv}' "$name" 2 \
                objects 'aa{sv}' 1 3 name s counters path s "$OBJECT" programs as 1 count_getpid \
                attach 'aa{sv}' 1 2 name s getpid tracepoint s "$tracepoint"
else
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.ApplySpec" "$name" \
                "{'objects': <[{'name': <'counters'>, 'path': <'$OBJECT'>, 'programs': <['count_getpid']>}]>,
                  'attach': <[{'name': <'getpid'>, 'tracepoint': <'$tracepoint'>}]>}"
fi
