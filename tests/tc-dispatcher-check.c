/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Drives service/kernel/tc-dispatcher.c on its own, for tests/vmtest_tc_dispatcher.py and
 * tests/test_tc_dispatcher.py:
 *
 *     tc-dispatcher-check [--dispatcher OBJ] [--maps DIR] set IFNAME ingress|egress PINDIR [OBJ:PROG[:ACTIONS]]...
 *     tc-dispatcher-check list IFNAME ingress|egress
 *     tc-dispatcher-check clear IFNAME ingress|egress PINDIR
 *
 * set loads each OBJ:PROG fresh as an extension and makes the hook run exactly these, in order (none: like
 * clear). ACTIONS is a comma-separated proceed-on list of unspec, ok, reclassify, shot, pipe, stolen,
 * queued, repeat, redirect, trap, dispatcher_return, or a number (the mask itself); "default" or nothing
 * means ok,pipe,dispatcher_return. With --maps, the non-internal maps of each object are shared through
 * pins DIR/<map name> (made by the first user), as bpfd shares the maps of an earlier load.
 * Prints "slot I PROG ext_id ID link_id ID" per slot, or for list "ID NAME dispatcher|slot=N|other" per
 * program. Errors: "error: ENAME: message" on stderr, exit status 1. */

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tc-dispatcher.h"
#include "util.h"

#ifndef TC_DISPATCHER_OBJ
#define TC_DISPATCHER_OBJ "build/bpf/tc_dispatcher.bpf.o"
#endif

static const char *maps_dir;

static int fail(const char *what, int r) {
        fprintf(stderr, "error: %s: %s: %s\n", strerrorname_np(-r) ?: "E?", what, strerror(-r));
        return 1;
}

static int read_file(const char *path, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t done = 0;

        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        buf = malloc(st.st_size ?: 1);
        if (!buf)
                return -ENOMEM;
        while (done < (size_t) st.st_size) {
                ssize_t n = read(fd, buf + done, st.st_size - done);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                done += n;
        }
        *ret = TAKE_PTR(buf);
        *ret_size = done;
        return 0;
}

static int parse_actions(const char *s, uint32_t *ret) {
        static const char *const names[] = { "unspec", "ok", "reclassify", "shot", "pipe", "stolen",
                                             "queued", "repeat", "redirect", "trap" };
        _cleanup_free_ char *copy = NULL;
        uint32_t mask = 0;
        char *save = NULL;

        if (!s || !*s || streq(s, "default")) {
                *ret = TC_DISPATCHER_DEFAULT_ACTIONS;
                return 0;
        }
        if (*s >= '0' && *s <= '9') {
                *ret = strtoul(s, NULL, 0);
                return 0;
        }
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                bool found = false;

                if (streq(w, "dispatcher_return")) {
                        mask |= TC_DISPATCHER_ACTION_BIT(TC_DISPATCHER_RETVAL);
                        continue;
                }
                for (size_t i = 0; i < ELEMENTSOF(names); i++)
                        if (streq(w, names[i])) {
                                mask |= TC_DISPATCHER_ACTION_BIT((int) i - 1);
                                found = true;
                        }
                if (!found)
                        return -EINVAL;
        }
        *ret = mask;
        return 0;
}

/* The maps of obj to share through pins in maps_dir: names and fds (made and pinned if missing). */
static int shared_maps(const char *obj, size_t size, char ***ret_names, int **ret_fds, size_t *ret_n) {
        struct bpf_object *o = bpf_object__open_mem(obj, size, NULL);
        char **names = NULL;
        int *fds = NULL;
        struct bpf_map *m;
        size_t n = 0;
        int r = 0;

        if (!o)
                return -errno;
        bpf_object__for_each_map(m, o) {
                char path[4096];
                int fd;

                if (bpf_map__is_internal(m))
                        continue;
                snprintf(path, sizeof(path), "%s/%s", maps_dir, bpf_map__name(m));
                fd = bpf_obj_get(path);
                if (fd < 0) {
                        LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = bpf_map__map_flags(m));

                        fd = bpf_map_create(bpf_map__type(m), bpf_map__name(m), bpf_map__key_size(m),
                                            bpf_map__value_size(m), bpf_map__max_entries(m), &opts);
                        if (fd < 0 || bpf_obj_pin(fd, path) < 0) {
                                r = -errno;
                                break;
                        }
                }
                /* never "x = reallocarray(x, ...)": on failure that loses what x had */
                char **more_names = reallocarray(names, n + 1, sizeof(char *));
                if (more_names)
                        names = more_names;
                int *more_fds = more_names ? reallocarray(fds, n + 1, sizeof(int)) : NULL;
                if (more_fds)
                        fds = more_fds;
                if (!more_names || !more_fds) {
                        close(fd);
                        r = -ENOMEM;
                        break;
                }
                names[n] = strdup(bpf_map__name(m));
                fds[n++] = fd;
        }
        bpf_object__close(o);
        *ret_names = names;
        *ret_fds = fds;
        *ret_n = n;
        return r;
}

static int parse_hook(const char *ifname, const char *dir, int *ret_ifindex, bool *ret_egress) {
        *ret_ifindex = if_nametoindex(ifname);
        if (*ret_ifindex == 0)
                return -ENODEV;
        if (streq(dir, "ingress"))
                *ret_egress = false;
        else if (streq(dir, "egress"))
                *ret_egress = true;
        else
                return -EINVAL;
        return 0;
}

static int do_set_with(int ifindex, bool egress, const char *pin_dir, char **specs, size_t n, char **progs);

static int do_set(int ifindex, bool egress, const char *pin_dir, char **specs, size_t n) {
        char *progs[32] = {};
        int r = do_set_with(ifindex, egress, pin_dir, specs, n, progs);

        for (size_t i = 0; i < ELEMENTSOF(progs); i++)
                free(progs[i]);
        return r;
}

static int do_set_with(int ifindex, bool egress, const char *pin_dir, char **specs, size_t n, char **progs) {
        TcDispatcherSlot slots[32] = {};
        uint32_t ids[32] = {}, link_ids[32] = {};
        int r;

        if (n > ELEMENTSOF(slots))
                return fail("too many components", -E2BIG);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *spec = strdup(specs[i]), *data = NULL;
                char **map_names = NULL, *prog, *actions;
                int *map_fds = NULL;
                size_t size = 0, n_maps = 0;

                prog = strchr(spec, ':');
                if (!prog)
                        return fail("component is not OBJ:PROG[:ACTIONS]", -EINVAL);
                *prog++ = 0;
                actions = strchr(prog, ':');
                if (actions)
                        *actions++ = 0;
                r = parse_actions(actions, &slots[i].chain_actions);
                if (r < 0)
                        return fail("bad proceed-on actions", r);
                slots[i].run_prio = i;
                progs[i] = strdup(prog);

                r = read_file(spec, &data, &size);
                if (r < 0)
                        return fail(spec, r);
                if (maps_dir) {
                        r = shared_maps(data, size, &map_names, &map_fds, &n_maps);
                        if (r < 0)
                                return fail("shared maps", r);
                }
                r = tc_component_load(data, size, prog, (const char *const *) map_names, map_fds, n_maps,
                                      &slots[i].ext_fd, &ids[i]);
                for (size_t k = 0; k < n_maps; k++) {
                        free(map_names[k]);
                        close(map_fds[k]);
                }
                free(map_names);
                free(map_fds);
                if (r < 0)
                        return fail("tc_component_load", r);
        }

        r = tc_dispatcher_update(ifindex, egress, slots, n, pin_dir, link_ids);
        if (r < 0)
                return fail("tc_dispatcher_update", r);
        for (size_t i = 0; i < n; i++)
                printf("slot %zu %s ext_id %u link_id %u\n", i, progs[i], ids[i], link_ids[i]);
        return 0;
}

static int do_list(int ifindex, bool egress) {
        _cleanup_free_ TcHookProgram *l = NULL;
        size_t n;
        int r;

        r = tc_dispatcher_list(ifindex, egress, &l, &n);
        if (r < 0)
                return fail("tc_dispatcher_list", r);
        for (size_t i = 0; i < n; i++) {
                if (l[i].is_dispatcher)
                        printf("%u %s dispatcher\n", l[i].prog_id, l[i].name);
                else if (l[i].slot >= 0)
                        printf("%u %s slot=%d\n", l[i].prog_id, l[i].name, l[i].slot);
                else
                        printf("%u %s other\n", l[i].prog_id, l[i].name[0] ? l[i].name : "-");
        }
        return 0;
}

static int usage(void) {
        fprintf(stderr,
                "usage: tc-dispatcher-check [--dispatcher OBJ] [--maps DIR] set IFNAME ingress|egress PINDIR [OBJ:PROG[:ACTIONS]]...\n"
                "       tc-dispatcher-check list IFNAME ingress|egress\n"
                "       tc-dispatcher-check clear IFNAME ingress|egress PINDIR\n");
        return 2;
}

int main(int argc, char **argv) {
        const char *dispatcher = TC_DISPATCHER_OBJ;
        int ifindex, i = 1, r;
        bool egress;

        for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
                if (streq(argv[i], "--dispatcher"))
                        dispatcher = argv[i + 1];
                else if (streq(argv[i], "--maps"))
                        maps_dir = argv[i + 1];
                else
                        return usage();
        }
        if (argc - i < 3)
                return usage();

        r = tc_dispatcher_init(dispatcher);
        if (r < 0)
                return fail(dispatcher, r);
        r = parse_hook(argv[i + 1], argv[i + 2], &ifindex, &egress);
        if (r < 0)
                return fail(argv[i + 1], r);

        if (streq(argv[i], "set") && argc - i >= 4)
                return do_set(ifindex, egress, argv[i + 3], argv + i + 4, argc - i - 4);
        if (streq(argv[i], "list") && argc - i == 3)
                return do_list(ifindex, egress);
        if (streq(argv[i], "clear") && argc - i == 4) {
                r = tc_dispatcher_update(ifindex, egress, NULL, 0, argv[i + 3], NULL);
                return r < 0 ? fail("tc_dispatcher_update", r) : 0;
        }
        return usage();
}
