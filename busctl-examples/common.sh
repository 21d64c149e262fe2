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

# bytes HEX: the bytes of HEX ("01000000", "0x2a00000000000000") as TOOL takes an "ay" argument: busctl the
# count, then each byte as a number; gdbus GVariant text, an array of bytes.
bytes() {
        local hex=${1#0x} out=() i
        case $hex in
        '' | *[!0-9a-fA-F]*) die "'$1' is not hex bytes (e.g. 01000000, in the map's key or value size)" ;;
        esac
        [ $((${#hex} % 2)) -eq 0 ] || die "'$1' has an odd number of hex digits"
        for ((i = 0; i < ${#hex}; i += 2)); do
                out+=($((16#${hex:i:2})))
        done
        if [ "$TOOL" = busctl ]; then
                echo "${#out[@]} ${out[*]}"
        else
                local IFS=,
                echo "@ay [${out[*]}]"
        fi
}

# program_path ID: the object path of program ID.
program_path() {
        printf '%s/program/%s\n' "$MANAGER" "$1"
}
