/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bpfd's error messages, said in bpfctl's words: bpfd names its bus option keys
 * ("name the ones to load in 'programs'"), which a person at the command line
 * knows as options (-p/--program); a bare errno text from the kernel ("File
 * exists") gets a sentence on what it means for a BPF program; and a bus that
 * cannot find bpfd says how to start or install it. */

#include <string.h>

#include "messages.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

/* Load options and attach-target keys of org.bpfd.Manager.xml, and their options. */
static const struct {
        const char *key;
        const char *option;
} key_options[] = {
        { "programs",      "-p/--program"     },
        { "global_data",   "-g/--global"      },
        { "metadata",      "-m/--metadata"    },
        { "map_owner_id",  "--map-owner-id"   },
        { "pull_policy",   "--pull-policy"    },
        { "program",       "--attach-program" },
        { "tracepoint",    "--tracepoint"     },
        { "target",        "--target"         },
        { "function",      "--fn"             },
        { "offset",        "--offset"         },
        { "pid",           "--pid"            },
        { "container_pid", "--container-pid"  },
        { "cgroup",        "--cgroup"         },
        { "attach_type",   "--attach-type"    },
        { "interface",     "--iface"          },
        { "priority",      "--priority"       },
        { "proceed_on",    "--proceed-on"     },
        { "mode",          "--mode"           },
        { "netns",         "--netns"          },
        { "direction",     "--direction"      },
};

/* The words before a quoted key in bpfd's messages ("needs 'interface'", "with 'program'", "option
 * 'pid'"); a quoted name after anything else ("program 'x'") is a value and stays. The prepositions
 * become "with", which reads right before an option. */
static const struct {
        const char *before;
        const char *instead;
} key_contexts[] = {
        { " in '",     " with " },
        { " with '",   " with " },
        { " needs '",  " needs " },
        { " option '", " option " },
        { " or '",     " or " },
        { " and '",    " and " },
};

static const char *option_of_key(const char *p, size_t *ret_len) {
        for (size_t i = 0; i < ELEMENTSOF(key_options); i++) {
                size_t n = strlen(key_options[i].key);

                if (strncmp(p, key_options[i].key, n) == 0 && p[n] == '\'') {
                        *ret_len = n + 1;
                        return key_options[i].option;
                }
        }
        return NULL;
}

char *message_in_cli_words(const char *message) {
        size_t size = 0;
        char *buf = NULL;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;

        for (const char *p = message; *p;) {
                bool replaced = false;

                for (size_t i = 0; i < ELEMENTSOF(key_contexts) && !replaced; i++) {
                        size_t n = strlen(key_contexts[i].before), len;
                        const char *option;

                        if (strncmp(p, key_contexts[i].before, n) != 0)
                                continue;
                        option = option_of_key(p + n, &len);
                        if (!option)
                                continue;
                        fputs(key_contexts[i].instead, f);
                        fputs(option, f);
                        p += n + len;
                        replaced = true;
                }
                if (!replaced)
                        fputc(*p++, f);
        }

        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static bool ends_with(const char *s, const char *suffix) {
        size_t n = strlen(s), m = strlen(suffix);

        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '.'))
                n--;
        return n >= m && strncmp(s + n - m, suffix, m) == 0;
}

const char *message_hint(const char *error_name, const char *message) {
        if (streq(error_name, "org.freedesktop.DBus.Error.ServiceUnknown") ||
            streq(error_name, "org.freedesktop.DBus.Error.NameHasNoOwner") ||
            streq(error_name, "org.freedesktop.DBus.Error.Spawn.ServiceNotFound"))
                return "bpfd is not running, and the system bus cannot start it: bpfd is not installed for bus\n"
                       "activation (the bus has no activation file for org.bpfd). Start it as root with\n"
                       "'systemctl start bpfd' or 'bpfd &', or install it ('meson install -C build', see\n"
                       "bpfd(8)) so that the bus starts it when it is needed.";

        if (strncmp(error_name, "org.freedesktop.DBus.Error.Spawn.", 33) == 0)
                return "bpfd is not running, and the system bus failed to start it. Its log says why: "
                       "'journalctl -u bpfd' under systemd, syslog (e.g. /var/log/syslog) otherwise.";

        if (!message)
                return NULL;

        /* strerror() texts the kernel's answers end in. */
        if (ends_with(message, "File exists"))
                return "The kernel already has this: the program is attached at that point already, or the hook "
                       "takes only one program and has one. 'bpfctl list links' and 'bpfctl interface NAME' show "
                       "what is attached; detach it first, or load a second copy of the program to attach it again.";

        if (ends_with(message, "Argument list too long"))
                return "The kernel found it too big: too many programs on one hook (64 on a tracepoint or cgroup "
                       "hook), a program over the verifier's instruction limit, or a map or value larger than the "
                       "kernel allows. Detach programs from the hook, or make the program or its maps smaller.";

        return NULL;
}
