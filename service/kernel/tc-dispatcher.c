/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bpfd's TC dispatcher: see tc-dispatcher.h for the model and the pin layout. Loading, extensions, pins and
 * updates here; what runs on a hook in tc-dispatcher-hook.c. Self-contained (libbpf and libc only, with
 * netdev-dump.c) so that tests/tc-dispatcher-check.c can link it alone. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "netdev-dump.h"
#include "tc-dispatcher-internal.h"
#include "tc-dispatcher.h"
#include "util.h"

/* Mirrors struct tc_dispatcher_config of bpf/tc_dispatcher.bpf.c, the only thing in its .rodata. */
struct tc_dispatcher_config {
        uint8_t num_progs_enabled;
        uint32_t chain_call_actions[TC_DISPATCHER_MAX_SLOTS];
        uint32_t run_prios[TC_DISPATCHER_MAX_SLOTS];
};

#define REV_PREFIX "rev-"

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static char *dispatcher_path;
/* A dispatcher kept loaded as the load-time target of new extensions (the kernel wants one; the
 * extension is re-linked to the real dispatchers later). */
static int template_fd = -1;
/* 0: not probed yet, 1: the kernel loads extensions, -EOPNOTSUPP: it does not. */
static int ext_supported;

static void bpf_object_closep(struct bpf_object **o) {
        bpf_object__close(*o);  /* NULL-safe */
}
#define _cleanup_bpf_object_ _cleanup_(bpf_object_closep)

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

int tc_dispatcher_init(const char *dispatcher_object_path) {
        char *p;

        if (!dispatcher_object_path)
                return -EINVAL;
        if (access(dispatcher_object_path, R_OK) < 0)
                return -errno;

        p = strdup(dispatcher_object_path);
        if (!p)
                return -ENOMEM;

        pthread_mutex_lock(&state_lock);
        free(dispatcher_path);
        dispatcher_path = p;
        pthread_mutex_unlock(&state_lock);
        return 0;
}

static int path_copy(char **ret) {
        pthread_mutex_lock(&state_lock);
        *ret = dispatcher_path ? strdup(dispatcher_path) : NULL;
        pthread_mutex_unlock(&state_lock);
        if (!*ret)
                return dispatcher_path ? -ENOMEM : -EINVAL;   /* tc_dispatcher_init() not called */
        return 0;
}

/* Opens the dispatcher object with only program keep_prog to load and, if cfg, this configuration. */
static int dispatcher_open(const struct tc_dispatcher_config *cfg, const char *keep_prog, struct bpf_object **ret) {
        _cleanup_bpf_object_ struct bpf_object *o = NULL;
        _cleanup_free_ char *path = NULL;
        struct bpf_program *p;
        int r;

        r = path_copy(&path);
        if (r < 0)
                return r;

        o = bpf_object__open_file(path, NULL);
        if (!o)
                return negative_errno();

        bpf_object__for_each_program(p, o) {
                r = bpf_program__set_autoload(p, streq(bpf_program__name(p), keep_prog));
                if (r < 0)
                        return r;
        }
        if (!bpf_object__find_program_by_name(o, keep_prog))
                return -ENOENT;

        if (cfg) {
                _cleanup_free_ void *data = NULL;
                const void *old;
                struct bpf_map *m;
                size_t sz = 0;

                m = bpf_object__find_map_by_name(o, ".rodata");
                if (!m)
                        return -ENOENT;
                old = bpf_map__initial_value(m, &sz);
                if (!old || sz < sizeof(*cfg))
                        return -EINVAL;   /* not our dispatcher object */
                data = malloc(sz);
                if (!data)
                        return -ENOMEM;
                memcpy(data, old, sz);
                memcpy(data, cfg, sizeof(*cfg));
                r = bpf_map__set_initial_value(m, data, sz);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(o);
        return 0;
}

static int dispatcher_load(const struct tc_dispatcher_config *cfg, struct bpf_object **ret_obj, int *ret_fd) {
        _cleanup_bpf_object_ struct bpf_object *o = NULL;
        int r;

        r = dispatcher_open(cfg, TC_DISPATCHER_PROG_NAME, &o);
        if (r < 0)
                return r;
        r = bpf_object__load(o);
        if (r < 0)
                return r;

        *ret_fd = bpf_program__fd(bpf_object__find_program_by_name(o, TC_DISPATCHER_PROG_NAME));
        *ret_obj = TAKE_PTR(o);
        return 0;
}

static void config_all_slots(struct tc_dispatcher_config *cfg) {
        *cfg = (struct tc_dispatcher_config) { .num_progs_enabled = TC_DISPATCHER_MAX_SLOTS };
        for (size_t i = 0; i < TC_DISPATCHER_MAX_SLOTS; i++)
                cfg->chain_call_actions[i] = TC_DISPATCHER_ACTION_BIT(TC_DISPATCHER_RETVAL);
}

/* Returns a dup of the template dispatcher's fd; called with state_lock held. All slots are enabled in
 * it so that every stub is verified and can be a target. */
static int template_get_locked(void) {
        if (template_fd < 0) {
                _cleanup_bpf_object_ struct bpf_object *o = NULL;
                struct tc_dispatcher_config cfg;
                int fd, r;

                config_all_slots(&cfg);
                /* dispatcher_open() takes the lock for the path: drop it meanwhile. */
                pthread_mutex_unlock(&state_lock);
                r = dispatcher_load(&cfg, &o, &fd);
                pthread_mutex_lock(&state_lock);
                if (r < 0)
                        return r;
                if (template_fd < 0) {
                        template_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                        if (template_fd < 0)
                                return -errno;
                }
        }

        int fd = fcntl(template_fd, F_DUPFD_CLOEXEC, 3);
        return fd < 0 ? -errno : fd;
}

static int template_get(void) {
        int r;

        pthread_mutex_lock(&state_lock);
        r = template_get_locked();
        pthread_mutex_unlock(&state_lock);
        return r;
}

/* Sets program p of o up as an extension of the template's prog0 (any stub will do: they all have the
 * same signature, and the kernel checks it again when the extension is linked to another stub). */
static int program_make_ext(struct bpf_program *p, int target_fd) {
        int r;

        r = bpf_program__set_type(p, BPF_PROG_TYPE_EXT);
        if (r < 0)
                return r;
        r = bpf_program__set_expected_attach_type(p, 0);
        if (r < 0)
                return r;
        return bpf_program__set_attach_target(p, target_fd, "prog0");
}

/* Loads the dispatcher object's own tc_compat_ext as an extension, once: a kernel without extensions (or
 * one that refuses them, like some hardened ones with EPERM) fails here, before any user program is
 * involved, so that later load errors are the user program's. */
static int ext_probe(void) {
        _cleanup_bpf_object_ struct bpf_object *o = NULL;
        _cleanup_close_ int tfd = -1;
        int r;

        pthread_mutex_lock(&state_lock);
        r = ext_supported;
        pthread_mutex_unlock(&state_lock);
        if (r != 0)
                return r < 0 ? r : 0;

        tfd = template_get();
        if (tfd < 0)
                return tfd;

        r = dispatcher_open(NULL, "tc_compat_ext", &o);
        if (r < 0)
                return r;
        r = program_make_ext(bpf_object__find_program_by_name(o, "tc_compat_ext"), tfd);
        if (r < 0)
                return r;
        r = bpf_object__load(o);

        pthread_mutex_lock(&state_lock);
        ext_supported = r < 0 ? -EOPNOTSUPP : 1;
        pthread_mutex_unlock(&state_lock);
        return r < 0 ? -EOPNOTSUPP : 0;
}

bool tc_dispatcher_supported(void) {
        return dispatcher_path && ext_probe() >= 0;
}

int tc_component_load(const void *obj, size_t size, const char *prog_name,
                      const char *const *map_names, const int *map_fds, size_t n_maps,
                      int *ret_ext_fd, uint32_t *ret_prog_id) {
        _cleanup_bpf_object_ struct bpf_object *o = NULL;
        _cleanup_close_ int tfd = -1, fd = -1;
        struct bpf_prog_info info = {};
        uint32_t len = sizeof(info);
        struct bpf_program *prog, *p;
        int r;

        if (!obj || size == 0 || !prog_name || !ret_ext_fd || (n_maps > 0 && (!map_names || !map_fds)))
                return -EINVAL;

        o = bpf_object__open_mem(obj, size, NULL);
        if (!o)
                return negative_errno();

        prog = bpf_object__find_program_by_name(o, prog_name);
        if (!prog)
                return -ENOENT;
        /* SEC("tc") and SEC("classifier") */
        if (bpf_program__type(prog) != BPF_PROG_TYPE_SCHED_CLS)
                return -EINVAL;

        bpf_object__for_each_program(p, o) {
                r = bpf_program__set_autoload(p, p == prog);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < n_maps; i++) {
                struct bpf_map *m = bpf_object__find_map_by_name(o, map_names[i]);

                if (!m)
                        return -ENOENT;
                r = bpf_map__reuse_fd(m, map_fds[i]);
                if (r < 0)
                        return r;
        }

        r = ext_probe();
        if (r < 0)
                return r;

        tfd = template_get();
        if (tfd < 0)
                return tfd;
        r = program_make_ext(prog, tfd);
        if (r < 0)
                return r;
        r = bpf_object__load(o);
        if (r < 0)
                return r;

        /* Closing the object closes its fds: keep our own. */
        fd = fcntl(bpf_program__fd(prog), F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
                return negative_errno();

        if (ret_prog_id)
                *ret_prog_id = info.id;
        *ret_ext_fd = TAKE_FD(fd);
        return 0;
}

/* ---- pins ---- */

static int mkdir_parents_and_self(const char *path) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                if (mkdir(p, 0700) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* Removes directory name in dir_fd and the pins in it (one level: that is all a revision has). */
static int rev_dir_remove(int dir_fd, const char *name) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int fd, r = 0;

        assert(dir_fd >= 0);
        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT && r == 0) /* fd: d's own */
                        r = -errno;
        }
        if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

static bool parse_rev(const char *name, unsigned *ret) {
        char *end;
        unsigned long v;

        if (strncmp(name, REV_PREFIX, strlen(REV_PREFIX)) != 0)
                return false;
        name += strlen(REV_PREFIX);
        if (*name < '0' || *name > '9')
                return false;
        errno = 0;
        v = strtoul(name, &end, 10);
        if (errno || *end || v > UINT32_MAX)
                return false;
        *ret = v;
        return true;
}

/* Removes every rev-N directory in pin_dir but keep (-1: all). Returns the first error. */
static int revs_remove(const char *pin_dir, long long keep) {
        _cleanup_(closedirp) DIR *d = opendir(pin_dir);
        struct dirent *de;
        int r = 0;

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                unsigned rev;
                int k;

                if (!parse_rev(de->d_name, &rev) || (long long) rev == keep)
                        continue;
                k = rev_dir_remove(dirfd(d), de->d_name);
                if (k < 0 && r == 0)
                        r = k;
        }
        return r;
}

static int revs_max(const char *pin_dir, unsigned *ret) {
        _cleanup_(closedirp) DIR *d = opendir(pin_dir);
        struct dirent *de;
        unsigned max = 0;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                unsigned rev;

                if (parse_rev(de->d_name, &rev) && rev > max)
                        max = rev;
        }
        *ret = max;
        return 0;
}

/* ---- update ---- */

static void close_fds(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
}

static int ours_cb(const struct nlmsghdr *h, void *userdata) {
        const struct tcmsg *t = NLMSG_DATA(h);

        if (h->nlmsg_type == RTM_NEWTFILTER && t->tcm_handle == TC_DISPATCHER_HANDLE &&
            TC_H_MAJ(t->tcm_info) >> 16 == TC_DISPATCHER_PRIORITY)
                *(bool *) userdata = true;
        return 0;
}

static int dispatcher_clear(const struct bpf_tc_hook *hook, const char *pin_dir) {
        char kind[16];
        int r;

        r = tc_hook_qdisc_kind(hook->ifindex, kind);
        if (r < 0)
                return r;
        /* Without clsact our filter cannot be there (an "ingress" qdisc's filters are not ours). Look
         * first, so that a missing filter is no error (bpf_tc_detach() would log one). */
        if (streq(kind, "clsact")) {
                struct tcmsg t = {
                        .tcm_family = AF_UNSPEC,
                        .tcm_ifindex = hook->ifindex,
                        .tcm_parent = TC_H_MAKE(TC_H_CLSACT, hook->attach_point == BPF_TC_EGRESS ?
                                                             TC_H_MIN_EGRESS : TC_H_MIN_INGRESS),
                };
                bool found = false;

                r = tc_rtnl_dump(RTM_GETTFILTER, &t, ours_cb, &found);
                if (r < 0)
                        return r;
                if (found) {
                        LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_DISPATCHER_HANDLE,
                                    .priority = TC_DISPATCHER_PRIORITY);

                        r = bpf_tc_detach(hook, &opts);
                        if (r < 0 && r != -ENOENT)
                                return r;
                }
        }

        r = revs_remove(pin_dir, -1);
        if (r < 0)
                return r;
        if (rmdir(pin_dir) < 0 && !IN_SET2(errno, ENOENT, ENOTEMPTY))
                return -errno;
        return 0;
}

int tc_dispatcher_update(int ifindex, bool egress, const TcDispatcherSlot *slots, size_t n,
                         const char *pin_dir, uint32_t *ret_link_ids) {
        DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
                            .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
        _cleanup_bpf_object_ struct bpf_object *o = NULL;
        _cleanup_close_ int pin_fd = -1;
        struct tc_dispatcher_config cfg = {};
        int link_fds[TC_DISPATCHER_MAX_SLOTS];
        uint32_t link_ids[TC_DISPATCHER_MAX_SLOTS] = {};
        char rev_name[32], path[4096], kind[16];
        bool hook_created = false;
        unsigned rev = 0;
        int disp_fd, r;

        if (ifindex <= 0 || !pin_dir || (n > 0 && !slots))
                return -EINVAL;
        if (n > TC_DISPATCHER_MAX_SLOTS)
                return -E2BIG;
        for (size_t i = 0; i < n; i++)
                if (slots[i].ext_fd < 0)
                        return -EBADF;

        if (n == 0)
                return dispatcher_clear(&hook, pin_dir);

        /* An "ingress" qdisc takes clsact's place and would take our filter for either direction. */
        r = tc_hook_qdisc_kind(ifindex, kind);
        if (r < 0)
                return r;
        if (streq(kind, "ingress"))
                return -EBUSY;

        cfg.num_progs_enabled = n;
        for (size_t i = 0; i < n; i++) {
                /* A stub that runs (it cannot, once linked) must not end the chain. */
                cfg.chain_call_actions[i] = slots[i].chain_actions | TC_DISPATCHER_ACTION_BIT(TC_DISPATCHER_RETVAL);
                cfg.run_prios[i] = slots[i].run_prio;
        }
        r = dispatcher_load(&cfg, &o, &disp_fd);
        if (r < 0)
                return r;

        for (size_t i = 0; i < TC_DISPATCHER_MAX_SLOTS; i++)
                link_fds[i] = -1;

        for (size_t i = 0; i < n; i++) {
                char stub[16];
                int btf_id;

                snprintf(stub, sizeof(stub), "prog%zu", i);
                btf_id = btf__find_by_name_kind(bpf_object__btf(o), stub, BTF_KIND_FUNC);
                if (btf_id < 0) {
                        r = btf_id;
                        goto fail;
                }

                /* Multi-target freplace (5.10+): the extension stays linked to the old dispatcher too. */
                LIBBPF_OPTS(bpf_link_create_opts, lopts, .target_btf_id = btf_id);
                link_fds[i] = bpf_link_create(slots[i].ext_fd, disp_fd, 0, &lopts);
                if (link_fds[i] < 0) {
                        r = link_fds[i];
                        goto fail;
                }

                struct bpf_link_info info = {};
                uint32_t len = sizeof(info);
                if (bpf_obj_get_info_by_fd(link_fds[i], &info, &len) < 0) {
                        r = negative_errno();
                        goto fail;
                }
                link_ids[i] = info.id;
        }

        r = mkdir_parents_and_self(pin_dir);
        if (r < 0)
                goto fail;
        pin_fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pin_fd < 0) {
                r = -errno;
                goto fail;
        }
        r = revs_max(pin_dir, &rev);
        if (r < 0)
                goto fail;
        if (rev == UINT32_MAX) {
                r = -EOVERFLOW;
                goto fail;
        }
        rev++;
        snprintf(rev_name, sizeof(rev_name), REV_PREFIX "%u", rev);
        if (mkdirat(pin_fd, rev_name, 0700) < 0) {
                r = -errno;
                goto fail;
        }

        snprintf(path, sizeof(path), "%s/%s/dispatcher", pin_dir, rev_name);
        r = bpf_obj_pin(disp_fd, path);
        if (r < 0)
                goto fail_unpin;
        for (size_t i = 0; i < n; i++) {
                snprintf(path, sizeof(path), "%s/%s/link-%zu", pin_dir, rev_name, i);
                r = bpf_obj_pin(link_fds[i], path);
                if (r < 0)
                        goto fail_unpin;
        }

        r = bpf_tc_hook_create(&hook);
        if (r == 0)
                hook_created = true;
        else if (r != -EEXIST)
                goto fail_unpin;

        /* The swap: cls_bpf replaces the program of the existing filter in place (or adds the filter). */
        LIBBPF_OPTS(bpf_tc_opts, topts, .prog_fd = disp_fd, .handle = TC_DISPATCHER_HANDLE,
                    .priority = TC_DISPATCHER_PRIORITY, .flags = BPF_TC_F_REPLACE);
        r = bpf_tc_attach(&hook, &topts);
        if (r < 0) {
                if (hook_created) {
                        /* Leave the interface as we found it. */
                        DECLARE_LIBBPF_OPTS(bpf_tc_hook, all, .ifindex = ifindex,
                                            .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
                        (void) bpf_tc_hook_destroy(&all);
                }
                goto fail_unpin;
        }

        /* The new revision runs; the old one's links and dispatcher go with their pins. Failing to remove
         * them is not the update's failure: the next update tries again. */
        (void) revs_remove(pin_dir, rev);

        close_fds(link_fds, n);
        if (ret_link_ids)
                memcpy(ret_link_ids, link_ids, n * sizeof(uint32_t));
        return 0;

fail_unpin:
        (void) rev_dir_remove(pin_fd, rev_name);
fail:
        close_fds(link_fds, n);
        return r;
}
