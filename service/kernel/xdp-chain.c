/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/if_link.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "util.h"
#include "xdp-chain.h"

#define XDP_ACTIONS_MASK ((1U << (XDP_REDIRECT + 1)) - 1)

static struct {
        bool initialized;
        char bpffs_dir[PATH_MAX];
        char last_error[512];
        /* Whether the kernel can run libxdp's dispatcher (freplace): -1 not probed yet, else 0/1. */
        int dispatcher_support;
} state = {
        .dispatcher_support = -1,
};

static void clear_error(void) {
        state.last_error[0] = '\0';
}

static void chomp_error(void) {
        size_t n = strlen(state.last_error);

        while (n > 0 && state.last_error[n - 1] == '\n')
                state.last_error[--n] = '\0';
}

_printf_(1, 2) static void set_error(const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        vsnprintf(state.last_error, sizeof(state.last_error), format, ap);
        va_end(ap);
        chomp_error();
}

/* libxdp prints to stderr by default; bpfd's stdout/stderr belong to its own log. Keep what it says
 * (warnings and infos; debug is mostly lock chatter) so the caller can quote it with an error. */
static int print_libxdp(enum libxdp_print_level level, const char *format, va_list ap) {
        if (level == LIBXDP_DEBUG)
                return 0;

        vsnprintf(state.last_error, sizeof(state.last_error), format, ap);
        chomp_error();
        return 0;
}

const char *xdp_chain_last_error(void) {
        return state.last_error;
}

static void bpf_object_closep(struct bpf_object **o) {
        bpf_object__close(*o);
}

static void xdp_program_closep(struct xdp_program **p) {
        xdp_program__close(*p);
}

static void xdp_multiprog_closep(struct xdp_multiprog **mp) {
        xdp_multiprog__close(*mp);
}

static void btf_freep(struct btf **btf) {
        btf__free(*btf);
}

int xdp_chain_init(const char *bpffs_dir) {
        char xdp_dir[PATH_MAX];
        struct statfs sfs;

        if (!bpffs_dir || bpffs_dir[0] != '/' || strlen(bpffs_dir) >= sizeof(state.bpffs_dir))
                return -EINVAL;

        /* libxdp reads LIBXDP_BPFFS once, on first use, and caches it: a second directory would be ignored. */
        if (state.initialized)
                return streq(state.bpffs_dir, bpffs_dir) ? 0 : -EALREADY;

        if (mkdir(bpffs_dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        if (statfs(bpffs_dir, &sfs) < 0)
                return -errno;
        /* libxdp checks this too, but would then warn and silently fall back to /sys/fs/bpf. */
        if ((unsigned long) sfs.f_type != BPF_FS_MAGIC)
                return -EMEDIUMTYPE;

        /* libxdp makes DIR/xdp itself (and flock()s it as its lock), but with our mode, before any
         * libxdp call, a failure shows here rather than as a confusing attach error. */
        if ((size_t) snprintf(xdp_dir, sizeof(xdp_dir), "%s/xdp", bpffs_dir) >= sizeof(xdp_dir))
                return -ENAMETOOLONG;
        if (mkdir(xdp_dir, 0700) < 0 && errno != EEXIST)
                return -errno;

        if (setenv(XDP_BPFFS_ENVVAR, bpffs_dir, 1) < 0)
                return -errno;
        /* libxdp uses secure_getenv(): in secure mode (setuid, file capabilities) it would not see it. */
        if (!secure_getenv(XDP_BPFFS_ENVVAR))
                return -EPERM;
        /* With LIBXDP_SKIP_DISPATCHER=1 libxdp attaches a single program without dispatcher, and the
         * chain could then take no further program. */
        if (unsetenv("LIBXDP_SKIP_DISPATCHER") < 0)
                return -errno;

        libxdp_set_print(print_libxdp);

        strcpy(state.bpffs_dir, bpffs_dir);
        state.initialized = true;
        return 0;
}

static int check_ifindex(int ifindex) {
        char name[IF_NAMESIZE];

        if (ifindex <= 0 || !if_indextoname((unsigned) ifindex, name)) {
                set_error("No network interface with index %d", ifindex);
                return -ENODEV;
        }
        return 0;
}

/* What the kernel runs on ifindex, asked of the kernel itself: libxdp's xdp_multiprog__get_from_ifindex()
 * (1.3.1) leaks a program descriptor for every interface carrying a plain program, which kept such programs
 * alive after their owner removed them and ran bpfd out of descriptors on link flaps. A plain program is
 * therefore never handed to libxdp: *ret gets its id (0 when a dispatcher or nothing runs). */
typedef struct PlainProg {
        uint32_t id;
        char name[BPF_OBJ_NAME_LEN];
        enum xdp_attach_mode mode;
} PlainProg;

static int query_plain(int ifindex, PlainProg *ret) {
        LIBBPF_OPTS(bpf_xdp_query_opts, q);
        struct bpf_prog_info info = {};
        uint32_t len = sizeof(info);
        _cleanup_close_ int fd = -1;
        uint32_t id;

        *ret = (PlainProg) {};
        if (bpf_xdp_query(ifindex, 0, &q) < 0)
                return -errno;
        id = q.drv_prog_id ?: q.skb_prog_id;
        if (id == 0)
                return 0;
        fd = bpf_prog_get_fd_by_id(id);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (bpf_prog_get_info_by_fd(fd, &info, &len) < 0)
                return -errno;
        if (streq(info.name, "xdp_dispatcher"))
                return 0; /* libxdp's: it knows how to read it */
        ret->id = id;
        snprintf(ret->name, sizeof(ret->name), "%s", info.name);
        ret->mode = q.drv_prog_id == id ? XDP_MODE_NATIVE : XDP_MODE_SKB;
        return 0;
}

/* The XDP state of ifindex as libxdp sees it; -ENOENT when no (non-HW) program is attached. Plain programs
 * are reported in *ret_plain (see query_plain()), *ret then NULL and the return value 0. */
static int get_multiprog_or_plain(int ifindex, struct xdp_multiprog **ret, PlainProg *ret_plain) {
        struct xdp_multiprog *mp;
        long err;
        int r;

        *ret = NULL;
        r = query_plain(ifindex, ret_plain);
        if (r < 0)
                return r;
        if (ret_plain->id)
                return 0;
        mp = xdp_multiprog__get_from_ifindex(ifindex);
        err = libxdp_get_error(mp);
        if (err < 0 || !mp)
                return err < 0 ? (int) err : -ENOENT;
        if (!xdp_multiprog__main_prog(mp)) {
                /* Only an offloaded program: we never manage those. */
                xdp_multiprog__close(mp);
                return -ENOENT;
        }

        *ret = mp;
        return 0;
}

/* Whether the kernel can run libxdp's dispatcher, i.e. attach an freplace (BPF_PROG_TYPE_EXT) program
 * to a global function of a loaded XDP program, which is what libxdp does for each component. libxdp's own
 * check is internal, so we do the same with a two-instruction program and BTF made in memory. The function
 * takes the context as XDP programs do, int f(struct xdp_md *ctx): newer kernels (6.12) check a global
 * function's prototype against its program type, and one they cannot check may not be replaced. Cached. */
static int probe_dispatcher_support(void) {
        static const char *const xdp_md_fields[] = { "data", "data_end", "data_meta", "ingress_ifindex",
                                                     "rx_queue_index", "egress_ifindex" };
        _cleanup_(btf_freep) struct btf *btf = NULL;
        _cleanup_close_ int target_fd = -1, ext_fd = -1, link_fd = -1;
        struct bpf_insn insns[] = {
                { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
                { .code = BPF_JMP | BPF_EXIT },
        };
        struct bpf_func_info func_info = {};
        int u32_id, int_id, ctx_id, ptr_id, proto_id, func_id, r;

        if (state.dispatcher_support >= 0)
                return state.dispatcher_support;

        btf = btf__new_empty();
        if (!btf)
                return -errno;
        u32_id = btf__add_int(btf, "unsigned int", 4, 0);
        if (u32_id < 0)
                return u32_id;
        int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
        if (int_id < 0)
                return int_id;
        ctx_id = btf__add_struct(btf, "xdp_md", ELEMENTSOF(xdp_md_fields) * sizeof(uint32_t));
        if (ctx_id < 0)
                return ctx_id;
        for (size_t i = 0; i < ELEMENTSOF(xdp_md_fields); i++) {
                r = btf__add_field(btf, xdp_md_fields[i], u32_id, i * 32, 0);
                if (r < 0)
                        return r;
        }
        ptr_id = btf__add_ptr(btf, ctx_id);
        if (ptr_id < 0)
                return ptr_id;
        proto_id = btf__add_func_proto(btf, int_id);
        if (proto_id < 0)
                return proto_id;
        r = btf__add_func_param(btf, "ctx", ptr_id);
        if (r < 0)
                return r;
        /* The kernel replaces only global functions. */
        func_id = btf__add_func(btf, "bpfd_xdp_probe", BTF_FUNC_GLOBAL, proto_id);
        if (func_id < 0)
                return func_id;
        r = btf__load_into_kernel(btf);
        if (r < 0)
                return r;

        func_info.insn_off = 0;
        func_info.type_id = func_id;

        LIBBPF_OPTS(bpf_prog_load_opts, target_opts,
                    .prog_btf_fd = btf__fd(btf),
                    .func_info = &func_info,
                    .func_info_cnt = 1,
                    .func_info_rec_size = sizeof(func_info));
        target_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "bpfd_probe", "GPL", insns, ELEMENTSOF(insns),
                                  &target_opts);
        if (target_fd < 0)
                return -errno;   /* cannot tell: not cached */

        LIBBPF_OPTS(bpf_prog_load_opts, ext_opts,
                    .prog_btf_fd = btf__fd(btf),
                    .func_info = &func_info,
                    .func_info_cnt = 1,
                    .func_info_rec_size = sizeof(func_info),
                    .attach_prog_fd = target_fd,
                    .attach_btf_id = func_id);
        ext_fd = bpf_prog_load(BPF_PROG_TYPE_EXT, "bpfd_probe_ext", "GPL", insns, ELEMENTSOF(insns),
                               &ext_opts);
        if (ext_fd >= 0) {
                LIBBPF_OPTS(bpf_link_create_opts, link_opts, .target_btf_id = func_id);

                link_fd = bpf_link_create(ext_fd, target_fd, 0, &link_opts);
        }

        state.dispatcher_support = ext_fd >= 0 && link_fd >= 0;
        return state.dispatcher_support;
}

/* The error for an interface that carries a program which is not a dispatcher of ours. */
static int foreign_program_error(const PlainProg *plain) {
        int r;

        r = probe_dispatcher_support();
        if (r == 0) {
                set_error("The kernel cannot run libxdp's dispatcher (no freplace), and the interface "
                          "already carries XDP program %u (%s)", plain->id, plain->name);
                return -EOPNOTSUPP;
        }
        set_error("The interface carries XDP program %u (%s), which is not a libxdp dispatcher of ours", plain->id,
                  plain->name);
        return -EBUSY;
}

int xdp_chain_plain_program(int ifindex, uint32_t *ret_id, char *ret_name, size_t name_size) {
        PlainProg plain;
        int r;

        r = check_ifindex(ifindex);
        if (r < 0)
                return r;
        r = query_plain(ifindex, &plain);
        if (r < 0)
                return r;
        *ret_id = plain.id;
        if (ret_name)
                snprintf(ret_name, name_size, "%s", plain.name);
        return 0;
}

int xdp_chain_replace_plain(int ifindex, uint32_t old_id, int prog_fd) {
        _cleanup_close_ int old_fd = -1;
        PlainProg plain;
        int r;

        assert(state.initialized);
        clear_error();
        r = check_ifindex(ifindex);
        if (r < 0)
                return r;
        r = query_plain(ifindex, &plain);
        if (r < 0)
                return r;
        if (plain.id != old_id) {
                set_error("XDP program %u is not on the interface", old_id);
                return -ENOENT;
        }
        old_fd = bpf_prog_get_fd_by_id(old_id);
        if (old_fd < 0)
                return -errno;
        LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old_fd);
        if (bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_REPLACE |
                           (plain.mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE), &opts) < 0) {
                r = -errno;
                set_error("The kernel refused to put the program in place of XDP program %u: %s", old_id,
                          strerror(-r));
                return r;
        }
        return 0;
}

static bool mode_valid(enum xdp_attach_mode mode) {
        return IN_SET2(mode, XDP_MODE_UNSPEC, XDP_MODE_NATIVE) || mode == XDP_MODE_SKB;
}

int xdp_chain_add(int ifindex, const void *obj, size_t size, const char *prog_name,
                  const char *const *map_names, const int *map_fds, size_t n_maps,
                  unsigned run_prio, unsigned chain_actions, enum xdp_attach_mode mode,
                  uint32_t *ret_prog_id, bool *ret_is_dispatcher) {
        /* Declared in this order so that the program is closed before the object it points into. */
        _cleanup_(bpf_object_closep) struct bpf_object *o = NULL;
        _cleanup_(xdp_program_closep) struct xdp_program *xp = NULL;
        _cleanup_(xdp_multiprog_closep) struct xdp_multiprog *mp = NULL;
        struct bpf_program *p, *q;
        PlainProg plain = {};
        uint32_t id;
        int r;

        assert(state.initialized);
        clear_error();

        if (!obj || size == 0 || !prog_name || (n_maps > 0 && (!map_names || !map_fds)))
                return -EINVAL;
        if (!mode_valid(mode)) {
                set_error("Unsupported XDP attach mode %d for a chain", (int) mode);
                return -EINVAL;
        }
        if (chain_actions & ~XDP_ACTIONS_MASK) {
                set_error("Chain actions 0x%x name no XDP action", chain_actions & ~XDP_ACTIONS_MASK);
                return -EINVAL;
        }
        r = check_ifindex(ifindex);
        if (r < 0)
                return r;

        /* Refuse early what libxdp would refuse only after loading the program. */
        r = get_multiprog_or_plain(ifindex, &mp, &plain);
        if (r < 0 && r != -ENOENT)
                return r;
        if (plain.id)
                return foreign_program_error(&plain);
        if (mp) {
                enum xdp_attach_mode chain_mode = xdp_multiprog__attach_mode(mp);

                if (xdp_multiprog__is_legacy(mp)) {
                        PlainProg legacy = { .id = xdp_program__id(xdp_multiprog__main_prog(mp)) };
                        return foreign_program_error(&legacy);
                }

                /* libxdp swaps dispatchers with the mode it is given; the kernel refuses a second mode
                 * and libxdp would take that for a race and retry in vain. */
                if (mode == XDP_MODE_UNSPEC)
                        mode = chain_mode;
                else if (mode != chain_mode) {
                        set_error("The XDP chain on this interface runs in another mode");
                        return -EINVAL;
                }
                if (xdp_multiprog__program_count(mp) >= XDP_CHAIN_MAX) {
                        set_error("The XDP chain is full (%d programs)", XDP_CHAIN_MAX);
                        return -E2BIG;
                }
                mp = (xdp_multiprog__close(mp), NULL);
        }

        LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = prog_name);
        o = bpf_object__open_mem(obj, size, &open_opts);
        if (!o) {
                r = -errno;
                set_error("Cannot open the BPF object: %s", strerror(-r));
                return r;
        }

        p = bpf_object__find_program_by_name(o, prog_name);
        if (!p) {
                set_error("No program '%s' in the BPF object", prog_name);
                return -ENOENT;
        }
        if (bpf_program__type(p) != BPF_PROG_TYPE_XDP) {
                set_error("Program '%s' is not an XDP program", prog_name);
                return -EINVAL;
        }
        /* libxdp loads the whole object: the other programs (possibly not even XDP) stay out. */
        bpf_object__for_each_program(q, o)
                if (q != p) {
                        r = bpf_program__set_autoload(q, false);
                        if (r < 0)
                                return r;
                }

        for (size_t i = 0; i < n_maps; i++) {
                struct bpf_map *m = bpf_object__find_map_by_name(o, map_names[i]);

                if (!m) {
                        set_error("No map '%s' in the BPF object", map_names[i]);
                        return -ENOENT;
                }
                r = bpf_map__reuse_fd(m, map_fds[i]);
                if (r < 0) {
                        set_error("Cannot reuse map '%s': %s", map_names[i], strerror(-r));
                        return r;
                }
        }

        /* Not xdp_program__from_bpf_obj(): its second argument is a section name, not a program name.
         * libxdp does not take the object: it stays ours to close (after the program). */
        LIBBPF_OPTS(xdp_program_opts, xdp_opts, .obj = o, .prog_name = prog_name);
        xp = xdp_program__create(&xdp_opts);
        if (!xp)
                return errno > 0 ? -errno : -EINVAL;

        /* These override what the object's own XDP_RUN_CONFIG may say. */
        r = xdp_program__set_run_prio(xp, run_prio);
        if (r < 0)
                return r;
        for (unsigned a = 0; a <= XDP_REDIRECT; a++) {
                r = xdp_program__set_chain_call_enabled(xp, a, chain_actions & (1U << a));
                if (r < 0)
                        return r;
        }

        /* Builds a complete new dispatcher with the old components and this one, pins it, and swaps it
         * in atomically (XDP_FLAGS_REPLACE against the old one); or, when the kernel cannot run a
         * dispatcher and the interface is free, attaches the program alone. */
        r = xdp_program__attach(xp, ifindex, mode, 0);
        if (r < 0) {
                /* Someone attached a plain program since we looked. */
                if (r == -EBUSY && query_plain(ifindex, &plain) >= 0 && plain.id)
                        return foreign_program_error(&plain);
                if (r == -E2BIG)
                        set_error("The XDP chain is full (%d programs)", XDP_CHAIN_MAX);
                else if (!state.last_error[0])
                        set_error("libxdp could not attach the program: %s", strerror(-r));
                return r;
        }

        id = xdp_program__id(xp);
        if (ret_prog_id)
                *ret_prog_id = id;
        /* libxdp loads a component as an extension of the dispatcher, a lone program as plain XDP. */
        if (ret_is_dispatcher)
                *ret_is_dispatcher = bpf_program__type(p) == BPF_PROG_TYPE_EXT;
        clear_error();   /* libxdp's infos about a successful fallback are no error */
        return (int) id;
}

int xdp_chain_remove(int ifindex, uint32_t prog_id) {
        _cleanup_(xdp_multiprog_closep) struct xdp_multiprog *mp = NULL;
        struct xdp_program *found = NULL;
        PlainProg plain;
        int r;

        assert(state.initialized);
        clear_error();

        r = check_ifindex(ifindex);
        if (r < 0)
                return r;
        r = get_multiprog_or_plain(ifindex, &mp, &plain);
        if (r == -ENOENT)
                set_error("No XDP program on the interface");
        if (r < 0)
                return r;
        if (plain.id) {
                _cleanup_close_ int fd = -1;

                if (plain.id != prog_id) {
                        set_error("XDP program %u is not on the interface (it runs %u)", prog_id, plain.id);
                        return -ENOENT;
                }
                /* Only this very program: if it was replaced meanwhile, the kernel refuses. */
                fd = bpf_prog_get_fd_by_id(prog_id);
                LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = fd);
                if (fd < 0 || bpf_xdp_detach(ifindex, XDP_FLAGS_REPLACE |
                                             (plain.mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE),
                                             &opts) < 0) {
                        r = -errno;
                        set_error("Cannot detach XDP program %u: %s", prog_id, strerror(-r));
                        return r;
                }
                return 0;
        }

        if (xdp_multiprog__is_legacy(mp)) {
                struct xdp_program *main_prog = xdp_multiprog__main_prog(mp);

                if (xdp_program__id(main_prog) == prog_id)
                        found = main_prog;
        } else
                for (struct xdp_program *c = xdp_multiprog__next_prog(NULL, mp); c;
                     c = xdp_multiprog__next_prog(c, mp))
                        if (xdp_program__id(c) == prog_id) {
                                found = c;
                                break;
                        }
        if (!found) {
                set_error("XDP program %u is not in the interface's chain", prog_id);
                return -ENOENT;
        }

        /* The chain's own mode: with none the kernel would pick one, maybe not the chain's. libxdp
         * finds the component again by id, and rebuilds and swaps the dispatcher without it, or
         * detaches the dispatcher (or the plain program) when it is the last. */
        r = xdp_program__detach(found, ifindex, xdp_multiprog__attach_mode(mp), 0);
        if (r < 0) {
                if (!state.last_error[0])
                        set_error("libxdp could not detach program %u: %s", prog_id, strerror(-r));
                return r;
        }

        clear_error();
        return 0;
}

int xdp_chain_list(int ifindex, XdpChainEntry **ret, size_t *ret_n, enum xdp_attach_mode *ret_mode,
                   bool *ret_is_dispatcher, uint32_t *ret_main_prog_id) {
        _cleanup_(xdp_multiprog_closep) struct xdp_multiprog *mp = NULL;
        _cleanup_free_ XdpChainEntry *entries = NULL;
        struct xdp_program *main_prog;
        PlainProg plain;
        bool is_dispatcher;
        size_t n = 0;
        int r;

        assert(state.initialized);
        assert(ret);
        assert(ret_n);
        clear_error();

        r = check_ifindex(ifindex);
        if (r < 0)
                return r;
        r = get_multiprog_or_plain(ifindex, &mp, &plain);
        if (r >= 0 && plain.id) {
                entries = calloc(1, sizeof(XdpChainEntry));
                if (!entries)
                        return -ENOMEM;
                entries[0].prog_id = plain.id;
                snprintf(entries[0].name, sizeof(entries[0].name), "%s", plain.name);
                if (ret_mode)
                        *ret_mode = plain.mode;
                if (ret_is_dispatcher)
                        *ret_is_dispatcher = false;
                if (ret_main_prog_id)
                        *ret_main_prog_id = plain.id;
                *ret = TAKE_PTR(entries);
                *ret_n = 1;
                return 0;
        }
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                if (ret_mode)
                        *ret_mode = XDP_MODE_UNSPEC;
                if (ret_is_dispatcher)
                        *ret_is_dispatcher = false;
                if (ret_main_prog_id)
                        *ret_main_prog_id = 0;
                return 0;
        }
        if (r < 0)
                return r;

        main_prog = xdp_multiprog__main_prog(mp);
        is_dispatcher = !xdp_multiprog__is_legacy(mp);

        if (!is_dispatcher) {
                entries = calloc(1, sizeof(XdpChainEntry));
                if (!entries)
                        return -ENOMEM;
                entries[0].prog_id = xdp_program__id(main_prog);
                snprintf(entries[0].name, sizeof(entries[0].name), "%s", strempty(xdp_program__name(main_prog)));
                n = 1;
        } else {
                int count = xdp_multiprog__program_count(mp);

                entries = calloc(count > 0 ? (size_t) count : 1, sizeof(XdpChainEntry));
                if (!entries)
                        return -ENOMEM;
                for (struct xdp_program *c = xdp_multiprog__next_prog(NULL, mp); c && n < (size_t) count;
                     c = xdp_multiprog__next_prog(c, mp), n++) {
                        XdpChainEntry *e = &entries[n];

                        e->prog_id = xdp_program__id(c);
                        snprintf(e->name, sizeof(e->name), "%s", strempty(xdp_program__name(c)));
                        e->run_prio = xdp_program__run_prio(c);
                        for (unsigned a = 0; a <= XDP_REDIRECT; a++)
                                if (xdp_program__chain_call_enabled(c, a))
                                        e->chain_actions |= 1U << a;
                }
        }

        if (ret_mode)
                *ret_mode = xdp_multiprog__attach_mode(mp);
        if (ret_is_dispatcher)
                *ret_is_dispatcher = is_dispatcher;
        if (ret_main_prog_id)
                *ret_main_prog_id = xdp_program__id(main_prog);
        *ret = TAKE_PTR(entries);
        *ret_n = n;
        return 0;
}
