#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# org.bpfd.Program.Attach: Manager.Attach, called on the program's own object.
#
# Usage: program-attach.sh [PROGRAM_ID [TRACEPOINT]]
#   PROGRAM_ID  (env BPFD_EXAMPLE_PROGRAM_ID, default: the newest program bpfd manages)
#   TRACEPOINT  (env BPFD_EXAMPLE_TRACEPOINT, default syscalls/sys_enter_getpid)
source "$(dirname "$0")/common.sh"

id=${1:-${BPFD_EXAMPLE_PROGRAM_ID:-$(newest program)}}
tracepoint=${2:-${BPFD_EXAMPLE_TRACEPOINT:-syscalls/sys_enter_getpid}}
need_id "program id" "$id"
path=$MANAGER/program/$id

say "Attaching $path at tracepoint $tracepoint"
if [ "$TOOL" = busctl ]; then
        show busctl --system call "$DEST" "$path" org.bpfd.Program Attach 'a{sv}' \
                2 kind s tracepoint tracepoint s "$tracepoint"
else
        show gdbus call --system --dest "$DEST" --object-path "$path" --method org.bpfd.Program.Attach \
                "{'kind': <'tracepoint'>, 'tracepoint': <'$tracepoint'>}"
fi
