/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bpfctl: the command-line client of bpfd. This file holds main, the
 * options before the command, the dispatch to the commands and the manual. */

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

#include "config.h"

#include "bpfctl.h"
#include "terminal-safe.h"
#include "verb-apply.h"
#include "verb-attach.h"
#include "verb-get.h"
#include "verb-image.h"
#include "verb-list.h"
#include "verb-load.h"
#include "verb-map.h"
#include "verb-status.h"
#include "manager.h"
#include "polkit-agent.h"
#include "target.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

bool arg_json = false;
bool arg_ask_password = true;
bool arg_quiet = false;

void confirm(const char *format, ...) {
        va_list ap;

        if (arg_quiet || arg_json)
                return;
        va_start(ap, format);
        vprintf(format, ap);
        va_end(ap);
        putchar('\n');
}

static const struct {
        const char *name;
        int (*run)(int argc, char *argv[]);
} verbs[] = {
        { "load",      verb_load      },
        { "attach",    verb_attach    },
        { "detach",    verb_detach    },
        { "unload",    verb_unload    },
        { "list",      verb_list      },
        { "get",       verb_get       },
        { "interface", verb_interface },
        { "status",    verb_status    },
        { "map",       verb_map       },
        { "image",     verb_image     },
        { "apply",       verb_apply       },
        { "remove-spec", verb_remove_spec },
};

static void help_main(void) {
        printf("%1$s - control bpfd, the service that loads BPF programs for users\n"
               "\n"
               "SYNOPSIS\n"
               "  %1$s [--json] [-q] [--no-ask-password] COMMAND [ARGUMENTS] [OPTIONS]\n"
               "  %1$s --help | --version\n"
               "  %1$s COMMAND --help\n"
               "\n"
               "DESCRIPTION\n"
               "  %1$s asks bpfd (org.bpfd on the system bus) to load BPF programs from ELF\n"
               "  objects or OCI bytecode images, to attach them, and to list, show, detach\n"
               "  and unload them. polkit decides who may; it may first ask for a password.\n"
               "  Options may come anywhere after the command.\n"
               "\n"
               "COMMANDS\n"
               "  load FILE [-p NAME]... [-g NAME=VALUE]... [-m KEY=VALUE]... [--by-path]\n"
               "       [--map-owner-id ID] [KIND [KIND OPTIONS] [--attach-program NAME]]\n"
               "      Load programs from the BPF ELF object FILE and, if a KIND is given,\n"
               "      attach one in the same step (all or nothing). %1$s opens FILE and hands\n"
               "      the open file to bpfd; with --by-path bpfd opens FILE itself, as you.\n"
               "      Prints \"Loaded program ID NAME (KIND)\" per program and \"Attached link\n"
               "      ID: ATTACH POINT\" per link; with --json {\"programs\":[...],\"links\":[...]}.\n"
               "\n"
               "  load image REFERENCE [--pull-policy POLICY] [-p NAME]... [-g NAME=VALUE]...\n"
               "       [-m KEY=VALUE]... [--map-owner-id ID] [KIND [KIND OPTIONS]]\n"
               "      The same from the OCI bytecode image REFERENCE\n"
               "      (REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]), which bpfd pulls into its\n"
               "      cache as POLICY says and checks: blob digests, and the cosign signature\n"
               "      against the keys configured for the registry. Without -p the image's\n"
               "      labels name the programs. A FILE named \"image\" is given as ./image.\n"
               "\n"
               "  image pull REFERENCE [--pull-policy POLICY]\n"
               "      Fetch an image into bpfd's cache without loading it; prints its digest,\n"
               "      object file, programs, whether it came from the cache and whether it is\n"
               "      signed.\n"
               "\n"
               "  image list\n"
               "      List the cached images: REFERENCE, DIGEST.\n"
               "\n"
               "  image rm REFERENCE...\n"
               "      Forget cached images; programs loaded from them stay loaded.\n"
               "\n"
               "  apply [--name NAME] FILE | apply FILE... | apply --dir DIR\n"
               "      Make bpfd run what spec files declare (bpfd.spec(5)): only what differs\n"
               "      from the spec's last state is loaded, attached, detached or unloaded,\n"
               "      all or nothing per spec. Prints each spec's status and ids.\n"
               "\n"
               "  remove-spec NAME...\n"
               "      Unload everything a spec made and forget the spec.\n"
               "\n"
               "  list specs\n"
               "      The specs bpfd knows: NAME, STATUS, PROGRAMS, LINKS, DETAIL.\n"
               "\n"
               "  attach PROGRAM_ID KIND [KIND OPTIONS]\n"
               "      Attach a loaded program at one more point; prints the new link's id\n"
               "      (with --json: the link).\n"
               "\n"
               "  detach LINK_ID...\n"
               "      Remove attachments; their programs stay loaded.\n"
               "\n"
               "  unload PROGRAM_ID...\n"
               "      Detach every link of the programs and unload them.\n"
               "\n"
               "  list [programs] [--all] [--kind KIND] [--owner USER]\n"
               "      List programs: ID, NAME, KIND, OWNER, LOADED, ATTACHED. With --all also\n"
               "      the programs bpfd did not load, and a MANAGED column.\n"
               "\n"
               "  list links [--program ID]\n"
               "      List links: LINK, PROGRAM, KIND, OWNER, ATTACH POINT.\n"
               "\n"
               "  list interfaces\n"
               "      List network interfaces (bpfd's namespace's, and those of other\n"
               "      namespaces where it attached programs): IFACE, IFINDEX, NETNS (\"-\" for\n"
               "      bpfd's own), XDP (mode and number of programs, e.g. \"skb 1\"), INGRESS\n"
               "      and EGRESS (number of TC programs).\n"
               "\n"
               "  get [program] ID\n"
               "  get link ID\n"
               "      Show every property of a program (any program of the system) or link.\n"
               "      Programs loaded from an image show it as Image and Image digest.\n"
               "\n"
               "  get interface NAME [--netns PATH]\n"
               "  interface NAME [--netns PATH]\n"
               "      Show the programs on a network interface, per hook (XDP, TC ingress, TC\n"
               "      egress) in the order they run: position, program id and name, whether\n"
               "      bpfd attached it, priority and link. With --json: the interface's object\n"
               "      of list interfaces. Exit status 4 if there is no such interface.\n"
               "\n"
               "  map dump PROGRAM_ID MAP\n"
               "  map get PROGRAM_ID MAP KEY\n"
               "  map set PROGRAM_ID MAP KEY VALUE [--only-create|--only-replace]\n"
               "  map delete PROGRAM_ID MAP KEY\n"
               "  map info PROGRAM_ID MAP\n"
               "      Read and write the map MAP (a name that 'get PROGRAM_ID' lists under\n"
               "      Maps) of a program bpfd loaded, through bpfd: dump every entry, get or\n"
               "      set the value of a KEY, delete a KEY, or show the map's type, sizes and\n"
               "      key and value types. See '%1$s map --help'.\n"
               "      KEY and VALUE are hex bytes (0a0b0c0d, 0x0a0b0c0d, \"0a 0b 0c 0d\") or\n"
               "      TYPE:NUMBER as for --global, of the map's key and value size. Maps with\n"
               "      BTF show keys and values by their C types (\"key: 0  value: 77\"), others\n"
               "      as hex bytes; per-CPU maps one value per CPU. With --json, dump prints\n"
               "      [{\"key\": KEY, \"value\": VALUE}, ...] (numbers, objects for structs, or\n"
               "      hex strings). Exit status 4 if there is no such map or key.\n"
               "\n"
               "  status\n"
               "      Show bpfd's version, the kinds it knows and supports, its bpffs, whether\n"
               "      kernel run statistics are on, and how many programs and links it holds.\n"
               "\n"
               "LOAD OPTIONS\n"
               "  -p, --program NAME        Load the BPF function NAME; repeat for several\n"
               "                            programs sharing the object's maps. Default: the\n"
               "                            only program in FILE\n"
               "  -g, --global NAME=VALUE   Set the global variable NAME (.rodata, .data, .bss)\n"
               "                            before loading. VALUE is hex bytes (0a0b0c0d, or\n"
               "                            0x0a0b0c0d) or TYPE:NUMBER, TYPE one of u8 u16 u32\n"
               "                            u64 i8 i16 i32 i64, in host byte order. The size\n"
               "                            must be the variable's. Repeatable\n"
               "  -m, --metadata KEY=VALUE  Store KEY=VALUE with the programs. Repeatable\n"
               "      --map-owner-id ID     Share the maps of the loaded program ID: maps with\n"
               "                            the name of one of its maps are its maps (same type\n"
               "                            and sizes)\n"
               "      --by-path             Pass FILE's absolute path (relative paths are taken\n"
               "                            from the current directory, symlinks are left to\n"
               "                            bpfd) instead of an open file\n"
               "      --attach-program NAME Which of several --program to attach at KIND\n"
               "\n"
               "IMAGE OPTIONS (load image, image pull)\n"
               "      --pull-policy POLICY  Always (ask the registry every time), IfNotPresent\n"
               "                            (the default: only if the reference is not cached)\n"
               "                            or Never (the cache only; ImageNotCached if absent)\n"
               "\n"
               "KINDS AND THEIR OPTIONS (load and attach)\n"
               ATTACH_TARGET_HELP
               "\n"
               "  --tracepoint CAT/NAME  Tracepoint, e.g. sched/sched_switch\n"
               "  --target PATH          Executable or library to probe (relative paths are\n"
               "                         taken from the current directory)\n"
               "  --fn NAME              Function to probe or trace (also --function)\n"
               "  --offset N             Offset in bytes: into --fn if given, else into the\n"
               "                         file (decimal, or hexadecimal with 0x)\n"
               "  --pid PID              Probe only this process (default: all)\n"
               "  --container-pid PID    Find --target inside this process's root directory\n"
               "                         (a container's file system, via /proc/PID/root)\n"
               "  --fn NAME              (kprobe) kernel function; (fentry/fexit) the function\n"
               "                         the program was loaded for, bound at load time\n"
               "  --cgroup PATH          cgroup v2 directory, e.g. /sys/fs/cgroup/app.slice\n"
               "  --attach-type TYPE     cgroup hook, e.g. ingress, egress, sock_create\n"
               "                         (default: from the program's ELF section)\n"
               "  --iface NAME           Network interface (also --interface)\n"
               "  --priority N           Order among programs on one interface (lower first)\n"
               "  --proceed-on A,B       Actions after which the next program runs, e.g.\n"
               "                         pass,dispatcher_return. Repeatable\n"
               "  --mode MODE            XDP mode: native, skb or hw\n"
               "  --netns PATH           Network namespace of the interface, e.g. /run/netns/x\n"
               "  --direction DIR        ingress or egress\n"
               "\n"
               "MAP OPTIONS\n"
               "      --only-create        (map set) Fail if KEY has an entry already\n"
               "      --only-replace       (map set) Fail unless KEY has an entry already\n"
               "\n"
               "LIST AND GET OPTIONS\n"
               "      --all                (list programs) Also programs bpfd did not load\n"
               "      --kind KIND          (list programs) Only programs of this kind\n"
               "      --owner USER         (list programs) Only programs of USER (name or uid)\n"
               "      --program ID         (list links) Only links of this program\n"
               "      --netns PATH         (get interface) The interface in this network\n"
               "                           namespace (default: bpfd's own, else the only one)\n"
               "\n"
               "COMMON OPTIONS\n"
               "      --json               Print JSON: objects with the daemon's keys; byte\n"
               "                           arrays as hex strings, times as microseconds since\n"
               "                           the epoch\n"
               "      --no-ask-password    Do not let polkit ask for a password; fail instead\n"
               "  -q, --quiet              Print no confirmation (\"Unloaded program 42.\"); what\n"
               "                           was asked for and errors are printed all the same\n"
               "  -h, --help               Show this help, or a command's with COMMAND --help\n"
               "      --version            Show the version of %1$s\n"
               "\n"
               "EXAMPLES\n"
               "  %1$s load trace.bpf.o tracepoint --tracepoint sched/sched_switch\n"
               "  %1$s load --by-path probes.bpf.o -p on_malloc -p on_free -g verbose=u8:1 \\\n"
               "      uprobe --target /usr/lib/x86_64-linux-gnu/libc.so.6 --fn malloc \\\n"
               "      --attach-program on_malloc\n"
               "  %1$s attach 42 uretprobe --target /usr/bin/bash --fn readline\n"
               "  %1$s load filter.bpf.o xdp --iface eth0 --priority 10 --proceed-on pass\n"
               "  %1$s image pull quay.io/bpfman-bytecode/xdp_pass:latest\n"
               "  %1$s load image quay.io/bpfman-bytecode/xdp_pass:latest \\\n"
               "      --pull-policy Never xdp --iface eth0\n"
               "  %1$s image list\n"
               "  %1$s image rm quay.io/bpfman-bytecode/xdp_pass:latest\n"
               "  %1$s list --all\n"
               "  %1$s list links --program 42 --json\n"
               "  %1$s list interfaces\n"
               "  %1$s get 42\n"
               "  %1$s interface eth0\n"
               "  %1$s map dump 42 counter\n"
               "  %1$s map set 42 counter u32:1 u64:77 --only-replace\n"
               "  %1$s map get 42 counter \"01 00 00 00\"\n"
               "  %1$s --json map dump 42 counter\n"
               "  %1$s detach 7\n"
               "  %1$s unload 42 43\n"
               "\n"
               "EXIT STATUS\n"
               "  0   Success\n"
               "  1   Failure: org.bpfd.Error.Failed, LimitExceeded (too many of your requests\n"
               "      in flight at once), HelperTimedOut, or an error not listed below\n"
               "  2   Bad command line\n"
               "  3   Not allowed: org.bpfd.Error.PermissionDenied,\n"
               "      org.freedesktop.DBus.Error.AccessDenied or\n"
               "      InteractiveAuthorizationRequired\n"
               "      (or the image registry refused the credentials: AuthenticationFailed)\n"
               "  4   No such program, link, interface, map, key, spec or image:\n"
               "      ProgramNotFound, LinkNotFound, no interface of that name (get interface),\n"
               "      MapNotFound, KeyNotFound, SpecNotFound (remove-spec), ImageNotFound (not\n"
               "      in the registry), ImageNotCached (not in the cache, with --pull-policy\n"
               "      Never or image rm)\n"
               "  5   Bad object file or image: InvalidObject, ProgramNameNotFound,\n"
               "      FileNotFound, or %1$s cannot open FILE; InvalidImage (no bytecode\n"
               "      image), DigestMismatch, NoSignature, UnknownSigner,\n"
               "      SignatureDigestMismatch\n"
               "  6   The kernel verifier rejected the program: VerifierRejected (the verifier\n"
               "      log is printed)\n"
               "  7   Attaching failed: AttachFailed, AttachTargetNotFound; or the image\n"
               "      registry is unreachable: RegistryUnreachable\n"
               "  8   Kind not supported by bpfd or this kernel: NotSupported\n"
               "  9   The daemon refused an option: InvalidArgument\n"
               "  10  bpfd is not reachable: no bus, bpfd not running (ServiceUnknown), or no\n"
               "      answer (NoReply)\n"
               "  Errors are printed as \"%1$s: MESSAGE\" with \"(ERROR.NAME)\" on the next line.\n"
               "\n"
               "ENVIRONMENT\n"
               "  " BPFD_BUS_ADDRESS_ENV "        D-Bus address to use instead of the system bus,\n"
               "                          e.g. unix:path=/run/bpfd-test/bus\n"
               "  DBUS_SYSTEM_BUS_ADDRESS Address of the system bus, if not the default\n",
               PROGRAM_NAME);
}

static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        int c;

        /* "+": stop at the command; what follows is the command's to parse. */
        while ((c = getopt_long(argc, argv, "+hq", options, NULL)) >= 0) {
                if (parse_common_option(c))
                        continue;
                switch (c) {
                case 'h':
                        help_main();
                        return 0;
                case ARG_VERSION:
                        printf("%s %s\n", PROGRAM_NAME, BPFD_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        }

        if (optind >= argc) {
                log_error("no command given");
                return -EINVAL;
        }

        return 1;
}

bool parse_common_option(int c) {
        switch (c) {
        case ARG_JSON:
                arg_json = true;
                return true;
        case ARG_NO_ASK_PASSWORD:
                arg_ask_password = false;
                return true;
        case 'q':
                arg_quiet = true;
                return true;
        default:
                return false;
        }
}

int parse_common_argv(int argc, char *argv[], void (*help)(void)) {
        static const struct option options[] = {
                COMMON_OPTIONS,
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "hq", options, NULL)) >= 0) {
                if (parse_common_option(c))
                        continue;
                switch (c) {
                case 'h':
                        help();
                        return 0;
                default:
                        return -EINVAL; /* getopt said what */
                }
        }

        return 1;
}

int connect_bpfd(sd_bus **ret) {
        return bpfd_connect(arg_ask_password, ret);
}

int parse_id_argument(const char *what, const char *s, uint32_t *ret) {
        if (parse_id(s, ret) < 0) {
                log_error("invalid %s '%s': expected a number", what, s);
                return -EINVAL;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_free_ char **verb_argv = NULL;
        _cleanup_free_ char *verb_name = NULL;
        const char *command;
        int r, verb_argc, status = -1;

        argv[0] = (char *) PROGRAM_NAME; /* how getopt names us in its messages */
        (void) terminal_safe_streams(); /* other users' words never reach the terminal as escape sequences */
        log_setup_console(PROGRAM_NAME);

        r = parse_argv(argc, argv);
        if (r < 0) {
                fprintf(stderr, "Try '%s --help' for more information.\n", PROGRAM_NAME);
                return EXIT_STATUS_USAGE;
        }
        if (r == 0)
                return EXIT_STATUS_SUCCESS;

        command = argv[optind];

        /* The command sees itself as argv[0], named "bpfctl COMMAND" for getopt's messages. */
        if (asprintf(&verb_name, "%s %s", PROGRAM_NAME, command) < 0)
                return log_oom(), EXIT_STATUS_FAILURE;
        verb_argc = argc - optind;
        verb_argv = calloc(verb_argc + 1, sizeof(char *));
        if (!verb_argv)
                return log_oom(), EXIT_STATUS_FAILURE;
        verb_argv[0] = verb_name;
        for (int i = 1; i < verb_argc; i++)
                verb_argv[i] = argv[optind + i];

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, command)) {
                        optind = 0; /* the command's getopt starts afresh */
                        status = verbs[i].run(verb_argc, verb_argv);
                        break;
                }

        polkit_agent_close();

        if (status < 0) {
                log_error("unknown command '%s'", command);
                fprintf(stderr, "Try '%s --help' for more information.\n", PROGRAM_NAME);
                return EXIT_STATUS_USAGE;
        }

        if (status == EXIT_STATUS_USAGE)
                fprintf(stderr, "Try '%s %s --help' for more information.\n", PROGRAM_NAME, command);

        if (fflush(stdout) != 0 && status == EXIT_STATUS_SUCCESS) {
                log_error("cannot write output: %s", strerror(errno));
                return EXIT_STATUS_FAILURE;
        }

        return status;
}
