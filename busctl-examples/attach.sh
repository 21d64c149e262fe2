#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Manager.Attach: attach a loaded program at one more point (here: a tracepoint).
#
# Usage: attach.sh [PROGRAM_ID [TRACEPOINT]]
#   PROGRAM_ID  (env BPFD_EXAMPLE_PROGRAM_ID, default: the newest program bpfd manages)
#   TRACEPOINT  (env BPFD_EXAMPLE_TRACEPOINT, default syscalls/sys_enter_getpid)
source "$(dirname "$0")/common.sh"

id=${1:-${BPFD_EXAMPLE_PROGRAM_ID:-$(newest program)}}
tracepoint=${2:-${BPFD_EXAMPLE_TRACEPOINT:-syscalls/sys_enter_getpid}}
need_id "program id" "$id"

say "Attaching program $id at tracepoint $tracepoint"
if [ "$TOOL" = busctl ]; then
        show busctl --system call "$DEST" "$MANAGER" "$MANAGER_IFACE" Attach 'ua{sv}' "$id" \
                2 kind s tracepoint tracepoint s "$tracepoint"
else
        show gdbus call --system --dest "$DEST" --object-path "$MANAGER" --method "$MANAGER_IFACE.Attach" \
                "$id" "{'kind': <'tracepoint'>, 'tracepoint': <'$tracepoint'>}"
fi
