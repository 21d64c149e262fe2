/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Drives service/kernel/xdp-chain.c from the command line, for tests/test_xdp_chain.py and
 * tests/vmtest_xdp_chain.py:
 *
 *   xdp-chain-check [--reuse-pinned-map NAME=PINPATH]... add IFNAME OBJ PROG RUNPRIO [ACTIONS] [MODE]
 *   xdp-chain-check remove IFNAME PROGID
 *   xdp-chain-check list IFNAME
 *
 * ACTIONS: a bitmap (1 << XDP action, e.g. 4 or 0x4) or a comma list of aborted, drop, pass, tx,
 * redirect, or "none"; default pass. MODE: unspec (default), native, skb, hw.
 * add prints "id=ID dispatcher=yes|no"; list prints "dispatcher=yes|no mode=MODE main=ID", then one line
 * "ID NAME RUN_PRIO CHAIN_ACTIONS" per program in chain order.
 * libxdp pins under $BPFD_XDP_BPFFS (default /sys/fs/bpf). On failure it prints
 * "error: ERRNONAME: text" on stderr and exits with the errno number. */

#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xdp-chain.h"

#define MAX_REUSE 16

static int fail(int r, const char *what) {
        const char *detail = xdp_chain_last_error();

        fprintf(stderr, "error: %s: %s: %s%s%s\n", strerrorname_np(-r) ?: "?", what, strerror(-r),
                detail[0] ? ": " : "", detail);
        return -r > 255 ? 255 : -r;
}

static int usage(void) {
        fprintf(stderr,
                "usage: xdp-chain-check [--reuse-pinned-map NAME=PINPATH]... add IFNAME OBJ PROG RUNPRIO [ACTIONS] [MODE]\n"
                "       xdp-chain-check remove IFNAME PROGID\n"
                "       xdp-chain-check list IFNAME\n");
        return 2;
}

static const char *action_names[] = { "aborted", "drop", "pass", "tx", "redirect" };

static int parse_actions(const char *s, unsigned *ret) {
        _cleanup_free_ char *copy = NULL;
        unsigned actions = 0;
        char *end, *tok, *save;

        if (streq(s, "none")) {
                *ret = 0;
                return 0;
        }
        errno = 0;
        unsigned long v = strtoul(s, &end, 0);
        if (errno == 0 && end != s && *end == '\0') {
                *ret = (unsigned) v;
                return 0;
        }

        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                size_t i;

                for (i = 0; i < ELEMENTSOF(action_names); i++)
                        if (streq(tok, action_names[i]))
                                break;
                if (i == ELEMENTSOF(action_names))
                        return -EINVAL;
                actions |= 1U << i;
        }
        *ret = actions;
        return 0;
}

static const char *mode_names[] = {
        [XDP_MODE_UNSPEC] = "unspec",
        [XDP_MODE_NATIVE] = "native",
        [XDP_MODE_SKB] = "skb",
        [XDP_MODE_HW] = "hw",
};

static int parse_mode(const char *s, enum xdp_attach_mode *ret) {
        for (size_t i = 0; i < ELEMENTSOF(mode_names); i++)
                if (streq(s, mode_names[i])) {
                        *ret = (enum xdp_attach_mode) i;
                        return 0;
                }
        return -EINVAL;
}

static int ifindex_of(const char *name) {
        unsigned i = if_nametoindex(name);

        if (i == 0) {
                fprintf(stderr, "error: ENODEV: no interface %s\n", name);
                return -ENODEV;
        }
        return (int) i;
}

static int read_file(const char *path, void **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;
        char *data;
        size_t size;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* util.h's read_full_fd() lives in util.c, which this checker does not link: read it here. */
        size = 0;
        data = NULL;
        for (;;) {
                char *n = realloc(data, size + 65536);
                ssize_t k;

                if (!n) {
                        free(data);
                        return -ENOMEM;
                }
                data = n;
                k = read(fd, data + size, 65536);
                if (k < 0) {
                        r = -errno;
                        free(data);
                        return r;
                }
                if (k == 0)
                        break;
                size += (size_t) k;
        }
        *ret = data;
        *ret_size = size;
        return 0;
}

int main(int argc, char **argv) {
        const char *map_names[MAX_REUSE];
        int map_fds[MAX_REUSE];
        size_t n_maps = 0;
        const char *dir;
        int r, i = 1;

        while (i < argc && streq(argv[i], "--reuse-pinned-map")) {
                char *eq;

                if (i + 1 >= argc || n_maps >= MAX_REUSE || !(eq = strchr(argv[i + 1], '=')))
                        return usage();
                *eq = '\0';
                map_names[n_maps] = argv[i + 1];
                map_fds[n_maps] = bpf_obj_get(eq + 1);
                if (map_fds[n_maps] < 0) {
                        fprintf(stderr, "error: cannot open pinned map %s: %m\n", eq + 1);
                        return errno;
                }
                n_maps++;
                i += 2;
        }
        if (i >= argc)
                return usage();

        dir = getenv("BPFD_XDP_BPFFS") ?: "/sys/fs/bpf";
        r = xdp_chain_init(dir);
        if (r < 0)
                return fail(r, "init");

        if (streq(argv[i], "add") && argc - i >= 5 && argc - i <= 7) {
                _cleanup_free_ void *obj = NULL;
                enum xdp_attach_mode mode = XDP_MODE_UNSPEC;
                unsigned actions = 1U << XDP_PASS;
                bool is_dispatcher = false;
                uint32_t id = 0;
                size_t size = 0;
                int ifindex;

                ifindex = ifindex_of(argv[i + 1]);
                if (ifindex < 0)
                        return -ifindex;
                r = read_file(argv[i + 2], &obj, &size);
                if (r < 0)
                        return fail(r, "read object");
                if (argc - i >= 6 && parse_actions(argv[i + 5], &actions) < 0)
                        return usage();
                if (argc - i >= 7 && parse_mode(argv[i + 6], &mode) < 0)
                        return usage();

                r = xdp_chain_add(ifindex, obj, size, argv[i + 3], map_names, map_fds, n_maps,
                                  (unsigned) strtoul(argv[i + 4], NULL, 0), actions, mode, &id, &is_dispatcher);
                if (r < 0)
                        return fail(r, "add");
                if ((uint32_t) r != id) {
                        fprintf(stderr, "error: add returned %d but the id %u\n", r, id);
                        return 1;
                }
                printf("id=%u dispatcher=%s\n", id, is_dispatcher ? "yes" : "no");
                return 0;
        }

        if (streq(argv[i], "remove") && argc - i == 3) {
                int ifindex = ifindex_of(argv[i + 1]);

                if (ifindex < 0)
                        return -ifindex;
                r = xdp_chain_remove(ifindex, (uint32_t) strtoul(argv[i + 2], NULL, 0));
                if (r < 0)
                        return fail(r, "remove");
                return 0;
        }

        if (streq(argv[i], "list") && argc - i == 2) {
                _cleanup_free_ XdpChainEntry *entries = NULL;
                enum xdp_attach_mode mode;
                bool is_dispatcher;
                uint32_t main_id;
                size_t n;
                int ifindex = ifindex_of(argv[i + 1]);

                if (ifindex < 0)
                        return -ifindex;
                r = xdp_chain_list(ifindex, &entries, &n, &mode, &is_dispatcher, &main_id);
                if (r < 0)
                        return fail(r, "list");
                printf("dispatcher=%s mode=%s main=%u\n", is_dispatcher ? "yes" : "no",
                       n == 0 ? "none" : (size_t) mode < ELEMENTSOF(mode_names) ? mode_names[mode] : "?",
                       main_id);
                for (size_t k = 0; k < n; k++)
                        printf("%u %s %u %u\n", entries[k].prog_id, entries[k].name, entries[k].run_prio,
                               entries[k].chain_actions);
                return 0;
        }

        return usage();
}
