# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this
# Sourced by the example scripts in this directory; not run on its own.
#
# Environment:
#   BPFD_EXAMPLE_TOOL    busctl (default) or gdbus: which client makes the call
#   BPFD_EXAMPLE_OBJECT  BPF ELF object (default: build/bpf/tracepoint_counter.bpf.o)

set -euo pipefail

EXAMPLES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_DIR=$(dirname "$EXAMPLES_DIR")

DEST=org.bpfd
MANAGER=/org/bpfd/Manager
MANAGER_IFACE=org.bpfd.Manager

TOOL=${BPFD_EXAMPLE_TOOL:-busctl}
OBJECT=${BPFD_EXAMPLE_OBJECT:-$TOP_DIR/build/bpf/tracepoint_counter.bpf.o}
# bpfd wants absolute paths.
case $OBJECT in
/*) ;;
*) OBJECT=$PWD/$OBJECT ;;
esac

die() {
        printf '%s: %s\n' "${0##*/}" "$*" >&2
        exit 1
}

case $TOOL in
busctl | gdbus) ;;
*) die "BPFD_EXAMPLE_TOOL must be busctl or gdbus, not '$TOOL'" ;;
esac

# say TEXT: tell what happens next.
say() {
        printf '# %s\n' "$*"
}

# show COMMAND...: print the command (shell-quoted), run it, fail if it fails.
show() {
        local rc=0
        printf '$'
        printf ' %q' "$@"
        printf '\n'
        "$@" || rc=$?
        [ "$rc" -eq 0 ] || die "$1 failed with exit code $rc"
}

# newest program|link: id of the newest object bpfd exports of that type (empty if none).
newest() {
        busctl --system tree --list "$DEST" 2>/dev/null |
                sed -n "s#^$MANAGER/$1/\([0-9][0-9]*\)\$#\1#p" | sort -n | tail -n 1
}

# need_id NAME VALUE: VALUE must be a number.
need_id() {
        case $2 in
        '' ) die "no $1 given and bpfd has none (pass one as argument)" ;;
        *[!0-9]*) die "$1 must be a number, not '$2'" ;;
        esac
}
