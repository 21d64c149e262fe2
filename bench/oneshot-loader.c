/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * oneshot-loader OBJECT PROGRAM CATEGORY/NAME PIN_DIR
 *
 * The smallest useful libbpf loader, as a baseline for "bpfctl load" as a
 * process: open OBJECT, load PROGRAM only, attach it to the tracepoint, pin
 * the program at PIN_DIR/prog and the link at PIN_DIR/link (so that it
 * outlives the process), exit. Prints the program id. Unpinning is left to
 * the caller.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap) {
        return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char *argv[]) {
        struct bpf_object *obj;
        struct bpf_program *prog, *p;
        struct bpf_link *link;
        struct bpf_prog_info info = {};
        __u32 len = sizeof info;
        char path[4096], *tp, *slash;
        int r;

        if (argc != 5) {
                fprintf(stderr, "usage: oneshot-loader OBJECT PROGRAM CATEGORY/NAME PIN_DIR\n");
                return 2;
        }
        libbpf_set_print(quiet);
        tp = strdup(argv[3]);
        slash = tp ? strchr(tp, '/') : NULL;
        if (!slash) {
                fprintf(stderr, "oneshot-loader: tracepoint must be CATEGORY/NAME\n");
                return 2;
        }
        *slash = 0;

        obj = bpf_object__open_file(argv[1], NULL);
        if (!obj) {
                fprintf(stderr, "oneshot-loader: cannot open %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        prog = bpf_object__find_program_by_name(obj, argv[2]);
        if (!prog) {
                fprintf(stderr, "oneshot-loader: no program %s\n", argv[2]);
                return 1;
        }
        bpf_object__for_each_program(p, obj)
                bpf_program__set_autoload(p, p == prog);
        r = bpf_object__load(obj);
        if (r < 0) {
                fprintf(stderr, "oneshot-loader: load failed: %s\n", strerror(-r));
                return 1;
        }
        link = bpf_program__attach_tracepoint(prog, tp, slash + 1);
        if (!link) {
                fprintf(stderr, "oneshot-loader: attach failed: %s\n", strerror(errno));
                return 1;
        }
        snprintf(path, sizeof path, "%s/prog", argv[4]);
        r = bpf_program__pin(prog, path);
        if (r < 0) {
                fprintf(stderr, "oneshot-loader: cannot pin %s: %s\n", path, strerror(-r));
                return 1;
        }
        snprintf(path, sizeof path, "%s/link", argv[4]);
        r = bpf_link__pin(link, path);
        if (r < 0) {
                fprintf(stderr, "oneshot-loader: cannot pin %s: %s\n", path, strerror(-r));
                return 1;
        }
        if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
                printf("%u\n", info.id);
        return 0;
}
