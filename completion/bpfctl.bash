# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for bpfctl(1): commands, options, kinds and their option
# values, network interfaces, tracepoints, and the ids of the programs, links,
# maps and images bpfd has right now (asked from the running daemon; nothing
# is offered when it cannot be reached).

_bpfctl_kinds="tracepoint uprobe uretprobe kprobe kretprobe fentry fexit cgroup xdp tc tcx"
_bpfctl_common="--json --quiet -q --no-ask-password --help -h"
_bpfctl_kind_options="--tracepoint --target --fn --function --offset --pid --container-pid --cgroup
        --attach-type --iface --interface --priority --proceed-on --mode --netns --direction"

# The options of one kind (bpfctl --help, KINDS AND THEIR OPTIONS).
_bpfctl_options_of_kind() {
        case $1 in
        tracepoint) echo --tracepoint ;;
        uprobe | uretprobe) echo --target --fn --function --offset --pid --container-pid ;;
        kprobe) echo --fn --function --offset ;;
        kretprobe | fentry | fexit) echo --fn --function ;;
        cgroup) echo --cgroup --attach-type ;;
        xdp) echo --iface --interface --priority --proceed-on --mode --netns ;;
        tc | tcx) echo --iface --interface --direction --priority --proceed-on --netns ;;
        *) echo "$_bpfctl_kind_options" ;;
        esac
}

# bpfctl itself, as the user typed it (a build tree's bpfctl completes from that one).
_bpfctl_run() {
        "${_bpfctl_cmd:-bpfctl}" --no-ask-password "$@" 2>/dev/null
}

# The first column of a table bpfctl prints, without its header.
_bpfctl_ids() {
        _bpfctl_run "$@" | awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $1 }'
}

_bpfctl_map_names() {
        _bpfctl_run get "$1" | awk '/^Maps:/ { in_maps = 1; print $3; next }
                                    in_maps && /^ / { print $2; next }
                                    { in_maps = 0 }'
}

_bpfctl_interfaces() {
        local d
        for d in /sys/class/net/*; do
                [ -e "$d" ] && printf '%s\n' "${d##*/}"
        done
}

_bpfctl_tracepoints() {
        local events=/sys/kernel/tracing/events
        [ -r "$events" ] || events=/sys/kernel/debug/tracing/events
        [ -r "$events" ] || return
        (cd "$events" && compgen -G '*/*' | grep -v '/enable$\|/filter$')
}

# The BPF functions of an ELF object (global functions outside .text).
_bpfctl_functions() {
        [ -r "$1" ] || return
        readelf -sW "$1" 2>/dev/null | awk '$4 == "FUNC" && $5 == "GLOBAL" { print $8 }'
}

_bpfctl() {
        local cur prev words cword
        if declare -F _init_completion >/dev/null; then
                _init_completion -n = || return
        else
                cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
                words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
        fi
        local _bpfctl_cmd=${words[0]}

        # The command and the words after it that are not options (or their values).
        local i command= args=() takes_value="--tracepoint --target --fn --function --offset --pid --container-pid
                --cgroup --attach-type --iface --interface --priority --proceed-on --mode --netns --direction
                --program -p --global -g --metadata -m --map-owner-id --attach-program --pull-policy --kind --owner
                --name --dir"
        for ((i = 1; i < cword; i++)); do
                case ${words[i]} in
                -*) continue ;;
                esac
                [[ " $takes_value " == *" ${words[i-1]} "* ]] && continue
                if [ -z "$command" ]; then
                        command=${words[i]}
                else
                        args+=("${words[i]}")
                fi
        done

        # Values of options.
        case $prev in
        --tracepoint)
                COMPREPLY=($(compgen -W "$(_bpfctl_tracepoints)" -- "$cur")); return ;;
        --target)
                COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --cgroup)
                COMPREPLY=($(compgen -d -- "${cur:-/sys/fs/cgroup/}")); return ;;
        --netns)
                COMPREPLY=($(compgen -f -- "${cur:-/run/netns/}")); return ;;
        --iface|--interface)
                COMPREPLY=($(compgen -W "$(_bpfctl_interfaces)" -- "$cur")); return ;;
        --direction)
                COMPREPLY=($(compgen -W "ingress egress" -- "$cur")); return ;;
        --mode)
                COMPREPLY=($(compgen -W "native skb hw" -- "$cur")); return ;;
        --attach-type)
                COMPREPLY=($(compgen -W "ingress egress sock_create sock_release sock_ops device bind4 bind6
                        connect4 connect6 post_bind4 post_bind6 sendmsg4 sendmsg6 recvmsg4 recvmsg6
                        getpeername4 getpeername6 getsockname4 getsockname6 sysctl getsockopt setsockopt" -- "$cur"))
                return ;;
        --proceed-on)
                # a comma-separated list: complete its last action, keeping those before it
                COMPREPLY=($(compgen -P "${cur%"${cur##*,}"}" -W "aborted drop pass tx redirect unspec ok reclassify
                        shot pipe stolen queued repeat trap dispatcher_return" -- "${cur##*,}"))
                return ;;
        --pull-policy)
                COMPREPLY=($(compgen -W "Always IfNotPresent Never" -- "$cur")); return ;;
        --dir)
                compopt -o filenames 2>/dev/null
                COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --name)
                return ;;
        --kind)
                COMPREPLY=($(compgen -W "$_bpfctl_kinds" -- "$cur")); return ;;
        --owner)
                COMPREPLY=($(compgen -u -- "$cur")); return ;;
        --map-owner-id)
                COMPREPLY=($(compgen -W "$(_bpfctl_ids list)" -- "$cur")); return ;;
        --program|-p|--attach-program)
                if [ "$command" = list ]; then
                        COMPREPLY=($(compgen -W "$(_bpfctl_ids list)" -- "$cur"))
                else
                        COMPREPLY=($(compgen -W "$(_bpfctl_functions "${args[0]}")" -- "$cur"))
                fi
                return ;;
        --fn|--function|--offset|--pid|--container-pid|--priority|--global|-g|--metadata|-m)
                return ;;
        esac

        if [ -z "$command" ]; then
                if [[ $cur == -* ]]; then
                        COMPREPLY=($(compgen -W "$_bpfctl_common --version" -- "$cur"))
                else
                        COMPREPLY=($(compgen -W "load attach detach unload list get interface status map image apply
                                remove-spec" -- "$cur"))
                fi
                return
        fi

        local options=$_bpfctl_common words_now=
        case $command in
        load)
                # after the kind, only its options; --pull-policy only for images
                local kind=${args[1]}
                [ "${args[0]}" = image ] && kind=${args[2]}
                options+=" --program -p --global -g --metadata -m --by-path --map-owner-id --attach-program
                        $(_bpfctl_options_of_kind "$kind")"
                [ "${args[0]}" = image ] && options+=" --pull-policy"
                if [ ${#args[@]} -eq 0 ] && [[ $cur != -* ]]; then
                        # an object file, or "image"
                        compopt -o filenames 2>/dev/null
                        COMPREPLY=($(compgen -f -X '!*.o' -- "$cur") $(compgen -d -- "$cur") $(compgen -W image -- "$cur"))
                        return
                elif [ "${args[0]}" = image ]; then
                        case ${#args[@]} in
                        1) words_now=$(_bpfctl_run image list | awk 'NR > 1 { print $1 }') ;;
                        2) words_now=$_bpfctl_kinds ;;
                        esac
                elif [ ${#args[@]} -eq 1 ]; then
                        words_now=$_bpfctl_kinds
                fi ;;
        attach)
                options+=" $(_bpfctl_options_of_kind "${args[1]}")"
                case ${#args[@]} in
                0) words_now=$(_bpfctl_ids list) ;;
                1) words_now=$_bpfctl_kinds ;;
                esac ;;
        detach)
                words_now=$(_bpfctl_ids list links) ;;
        apply)
                options+=" --name --dir"
                if [[ $cur != -* ]]; then
                        # spec files (bpfd.spec(5))
                        compopt -o filenames 2>/dev/null
                        COMPREPLY=($(compgen -f -X '!*.conf' -- "$cur") $(compgen -d -- "$cur"))
                        return
                fi ;;
        remove-spec)
                words_now=$(_bpfctl_run list specs | awk 'NR > 1 { print $1 }') ;;
        unload)
                words_now=$(_bpfctl_ids list) ;;
        list)
                case ${args[0]} in
                "" | programs) options+=" --all --kind --owner" ;;
                links) options+=" --program" ;;
                esac
                [ ${#args[@]} -eq 0 ] && words_now="programs links interfaces specs" ;;
        get)
                options+=" --netns"
                case "${#args[@]}:${args[0]}" in
                0:) words_now="program link interface $(_bpfctl_ids list)" ;;
                1:program) words_now=$(_bpfctl_ids list --all) ;;
                1:link) words_now=$(_bpfctl_ids list links) ;;
                1:interface) words_now=$(_bpfctl_interfaces) ;;
                esac ;;
        interface)
                options+=" --netns"
                [ ${#args[@]} -eq 0 ] && words_now=$(_bpfctl_interfaces) ;;
        map)
                options+=" --only-create --only-replace"
                case ${#args[@]} in
                0) words_now="dump get set delete info" ;;
                1) words_now=$(_bpfctl_ids list) ;;
                2) words_now=$(_bpfctl_map_names "${args[1]}") ;;
                esac ;;
        image)
                options+=" --pull-policy"
                case "${#args[@]}:${args[0]}" in
                0:) words_now="pull list rm" ;;
                *:rm) words_now=$(_bpfctl_run image list | awk 'NR > 1 { print $1 }') ;;
                esac ;;
        esac

        if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$options" -- "$cur"))
        elif [ -n "$words_now" ]; then
                COMPREPLY+=($(compgen -W "$words_now" -- "$cur"))
        fi
}

complete -F _bpfctl bpfctl
