/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* service/engine/target.c's pure parts: which attach targets are valid (and what a refusal says), the defaults a
 * link records, what an ELF section fills in, and the canonical text polkit and people see. */

#include "target.h"
#include "unit.h"

/* Validates; returns the error name ("" for valid) and keeps the message in *message. */
static const char *validate(const AttachTarget *t, char **message) {
        static char name[128];
        EngineError e = ENGINE_ERROR_NULL;
        int r;

        r = attach_target_validate(t, &e);
        if (r >= 0) {
                CHECK(!engine_error_is_set(&e));
                engine_error_done(&e);
                return "";
        }
        CHECK_MSG(engine_error_is_set(&e), "refused (%d) without an error", r);
        snprintf(name, sizeof name, "%s", bpfd_error_name(e.code));
        if (message)
                *message = strdup(e.message);
        engine_error_done(&e);
        return name;
}

#define INVALID "org.bpfd.Error.InvalidArgument"

static void check_refused(const AttachTarget *t, const char *message_part) {
        _cleanup_free_ char *message = NULL;

        CHECK_STREQ(validate(t, &message), INVALID);
        CHECK_MSG(strstr(message, message_part), "message \"%s\" does not say \"%s\"", message, message_part);
}

TEST(tracepoint_names) {
        CHECK_STREQ(validate(&(AttachTarget) { .kind = KIND_TRACEPOINT, .tracepoint = (char *) "syscalls/sys_enter_getpid" }, NULL), "");
        CHECK_STREQ(validate(&(AttachTarget) { .kind = KIND_TRACEPOINT, .tracepoint = (char *) "sched/sched-x_1" }, NULL), "");
        check_refused(&(AttachTarget) { .kind = KIND_TRACEPOINT }, "needs 'tracepoint'");
        static const char *const bad[] = { "syscalls", "/sys_enter", "syscalls/", "a/b/c", "a b/c", "a/../b",
                                           "syscalls/sys_enter_getpid\n", "ä/b" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                check_refused(&(AttachTarget) { .kind = KIND_TRACEPOINT, .tracepoint = (char *) bad[i] },
                              "is not a tracepoint name");
}

TEST(uprobe_targets) {
        CHECK_STREQ(validate(&(AttachTarget) { .kind = KIND_UPROBE, .target = (char *) "/usr/bin/bash", .function = (char *) "readline" }, NULL), "");
        CHECK_STREQ(validate(&(AttachTarget) { .kind = KIND_URETPROBE, .target = (char *) "/lib/libc.so.6", .has_offset = true }, NULL), "");
        check_refused(&(AttachTarget) { .kind = KIND_UPROBE, .function = (char *) "f" }, "needs 'target'");
        check_refused(&(AttachTarget) { .kind = KIND_UPROBE, .target = (char *) "bin/bash", .function = (char *) "f" },
                      "must be an absolute path");
        check_refused(&(AttachTarget) { .kind = KIND_URETPROBE, .target = (char *) "/bin/bash" }, "'function' or 'offset'");
}

TEST(kprobe_and_tracing_targets) {
        CHECK_STREQ(validate(&(AttachTarget) { .kind = KIND_KPROBE, .function = (char *) "do_exit", .has_offset = true, .offset = 8 }, NULL), "");
        CHECK_STREQ(validate(&(AttachTarget) { .kind = KIND_KRETPROBE, .function = (char *) "do_exit", .has_offset = true }, NULL), "");
        check_refused(&(AttachTarget) { .kind = KIND_KPROBE }, "needs 'function'");
        check_refused(&(AttachTarget) { .kind = KIND_KRETPROBE, .function = (char *) "do_exit", .has_offset = true, .offset = 4 },
                      "takes no 'offset'");
        CHECK_STREQ(validate(&(AttachTarget) { .kind = KIND_FENTRY, .function = (char *) "do_exit" }, NULL), "");
        check_refused(&(AttachTarget) { .kind = KIND_FEXIT }, "needs 'function'");
        check_refused(&(AttachTarget) { .kind = KIND_FEXIT, .function = (char *) "do_exit", .has_offset = true }, "take no 'offset'");
}

TEST(cgroup_targets) {
        CHECK_STREQ(validate(&(AttachTarget) { .kind = KIND_CGROUP, .cgroup = (char *) "/sys/fs/cgroup/x" }, NULL), "");
        check_refused(&(AttachTarget) { .kind = KIND_CGROUP }, "needs 'cgroup'");
        check_refused(&(AttachTarget) { .kind = KIND_CGROUP, .cgroup = (char *) "x" }, "must be an absolute path");
}

TEST(network_targets) {
        char *xdp_actions[] = { (char *) "pass", (char *) "drop", NULL };
        char *bad_actions[] = { (char *) "pass", (char *) "ok", NULL };
        char *tc_actions[] = { (char *) "ok", (char *) "shot", NULL };

        CHECK_STREQ(validate(&(AttachTarget) { .kind = KIND_XDP, .interface = (char *) "eth0", .mode = (char *) "skb",
                                               .has_priority = true, .priority = 1, .proceed_on = xdp_actions }, NULL), "");
        CHECK_STREQ(validate(&(AttachTarget) { .kind = KIND_TC, .interface = (char *) "eth0", .direction = (char *) "egress",
                                               .has_priority = true, .priority = 1000, .proceed_on = tc_actions,
                                               .netns = (char *) "/run/netns/a" }, NULL), "");
        CHECK_STREQ(validate(&(AttachTarget) { .kind = KIND_TCX, .interface = (char *) "lo", .direction = (char *) "ingress" }, NULL), "");
        check_refused(&(AttachTarget) { .kind = KIND_XDP }, "needs 'interface'");
        check_refused(&(AttachTarget) { .kind = KIND_XDP, .interface = (char *) "0123456789abcdef" }, "is not an interface name");
        check_refused(&(AttachTarget) { .kind = KIND_XDP, .interface = (char *) "a/b" }, "is not an interface name");
        check_refused(&(AttachTarget) { .kind = KIND_XDP, .interface = (char *) " eth0" }, "is not an interface name");
        check_refused(&(AttachTarget) { .kind = KIND_XDP, .interface = (char *) "eth0", .netns = (char *) "ns" }, "absolute path");
        check_refused(&(AttachTarget) { .kind = KIND_XDP, .interface = (char *) "eth0", .has_priority = true, .priority = 0 }, "from 1");
        check_refused(&(AttachTarget) { .kind = KIND_TC, .interface = (char *) "eth0", .direction = (char *) "ingress",
                                        .has_priority = true, .priority = 1001 }, "from 1");
        check_refused(&(AttachTarget) { .kind = KIND_XDP, .interface = (char *) "eth0", .direction = (char *) "ingress" }, "no 'direction'");
        check_refused(&(AttachTarget) { .kind = KIND_XDP, .interface = (char *) "eth0", .mode = (char *) "fast" }, "Unknown XDP mode");
        check_refused(&(AttachTarget) { .kind = KIND_TC, .interface = (char *) "eth0" }, "needs 'direction'");
        check_refused(&(AttachTarget) { .kind = KIND_TC, .interface = (char *) "eth0", .direction = (char *) "in" }, "Unknown direction");
        check_refused(&(AttachTarget) { .kind = KIND_TC, .interface = (char *) "eth0", .direction = (char *) "ingress",
                                        .mode = (char *) "skb" }, "for XDP only");
        check_refused(&(AttachTarget) { .kind = KIND_TCX, .interface = (char *) "eth0", .direction = (char *) "ingress",
                                        .proceed_on = tc_actions }, "TCX_NEXT");
        check_refused(&(AttachTarget) { .kind = KIND_XDP, .interface = (char *) "eth0", .proceed_on = bad_actions },
                      "Unknown xdp action 'ok'");
}

TEST(network_defaults) {
        AttachTarget xdp = { .kind = KIND_XDP }, tc = { .kind = KIND_TC }, tcx = { .kind = KIND_TCX },
                     tp = { .kind = KIND_TRACEPOINT }, given = { .kind = KIND_XDP, .has_priority = true, .priority = 7 };

        CHECK_INT(attach_target_apply_defaults(&xdp), 0);
        CHECK(xdp.has_priority && xdp.priority == 50);
        CHECK_INT(strv_length(xdp.proceed_on), 2);
        CHECK_STREQ(xdp.proceed_on[0], "pass");
        CHECK_STREQ(xdp.proceed_on[1], "dispatcher_return");
        CHECK_INT(attach_target_apply_defaults(&tc), 0);
        CHECK_INT(tc.priority, 50);
        CHECK_INT(strv_length(tc.proceed_on), 3);
        CHECK_STREQ(tc.proceed_on[0], "ok");
        CHECK_STREQ(tc.proceed_on[1], "pipe");
        CHECK_STREQ(tc.proceed_on[2], "dispatcher_return");
        CHECK_INT(attach_target_apply_defaults(&tcx), 0);
        CHECK_INT(tcx.priority, 50);
        CHECK(!tcx.proceed_on); /* TCX chains by return value */
        CHECK_INT(attach_target_apply_defaults(&tp), 0);
        CHECK(!tp.has_priority && !tp.proceed_on);
        CHECK_INT(attach_target_apply_defaults(&given), 0);
        CHECK_INT(given.priority, 7);
        attach_target_done(&xdp);
        attach_target_done(&tc);
        attach_target_done(&given);
}

TEST(filled_from_the_section) {
        AttachTarget t = { .kind = KIND_TRACEPOINT };

        CHECK_INT(attach_target_fill_from_section(&t, "tracepoint/syscalls/sys_enter_getpid"), 0);
        CHECK_STREQ(t.tracepoint, "syscalls/sys_enter_getpid");
        attach_target_done(&t);

        t = (AttachTarget) { .kind = KIND_TRACEPOINT };
        CHECK_INT(attach_target_fill_from_section(&t, "tp/sched/sched_switch"), 0);
        CHECK_STREQ(t.tracepoint, "sched/sched_switch");
        attach_target_done(&t);

        /* what the caller named wins */
        t = (AttachTarget) { .kind = KIND_TRACEPOINT, .tracepoint = strdup("a/b") };
        CHECK_INT(attach_target_fill_from_section(&t, "tracepoint/c/d"), 0);
        CHECK_STREQ(t.tracepoint, "a/b");
        attach_target_done(&t);

        t = (AttachTarget) { .kind = KIND_KPROBE };
        CHECK_INT(attach_target_fill_from_section(&t, "kprobe/do_sys_open+0x10"), 0);
        CHECK_STREQ(t.function, "do_sys_open");
        CHECK(t.has_offset && t.offset == 0x10);
        attach_target_done(&t);

        t = (AttachTarget) { .kind = KIND_FEXIT };
        CHECK_INT(attach_target_fill_from_section(&t, "fexit/do_exit"), 0);
        CHECK_STREQ(t.function, "do_exit");
        CHECK(!t.has_offset);
        attach_target_done(&t);

        /* a bare prefix names nothing */
        t = (AttachTarget) { .kind = KIND_TRACEPOINT };
        CHECK_INT(attach_target_fill_from_section(&t, "tracepoint"), 0);
        CHECK(!t.tracepoint);
        CHECK_INT(attach_target_fill_from_section(&t, "tracepoint/"), 0);
        CHECK(!t.tracepoint);
        attach_target_done(&t);
}

static void check_text(const AttachTarget *t, const char *describe, const char *detail) {
        _cleanup_free_ char *d = attach_target_describe(t), *p = attach_target_polkit_detail(t);

        CHECK_STREQ(d, describe);
        CHECK_STREQ(p, detail);
}

TEST(canonical_text) {
        check_text(&(AttachTarget) { .kind = KIND_TRACEPOINT, .tracepoint = (char *) "syscalls/sys_enter_getpid" },
                   "tracepoint syscalls/sys_enter_getpid", "syscalls/sys_enter_getpid");
        check_text(&(AttachTarget) { .kind = KIND_UPROBE, .target = (char *) "/usr/bin/bash", .function = (char *) "readline",
                                     .has_offset = true, .offset = 4 },
                   "uprobe /usr/bin/bash:readline+0x4", "/usr/bin/bash:readline");
        check_text(&(AttachTarget) { .kind = KIND_URETPROBE, .target = (char *) "/lib/x.so", .has_offset = true, .offset = 0x1a0,
                                     .has_pid = true, .pid = 42 },
                   "uretprobe /lib/x.so:0x1a0 pid 42", "/lib/x.so:0x1a0");
        check_text(&(AttachTarget) { .kind = KIND_CGROUP, .cgroup = (char *) "/sys/fs/cgroup/x" },
                   "cgroup /sys/fs/cgroup/x default", "/sys/fs/cgroup/x");
        check_text(&(AttachTarget) { .kind = KIND_CGROUP, .cgroup = (char *) "/sys/fs/cgroup/x", .attach_type = (char *) "egress" },
                   "cgroup /sys/fs/cgroup/x egress", "/sys/fs/cgroup/x");
        check_text(&(AttachTarget) { .kind = KIND_KPROBE, .function = (char *) "do_exit", .has_offset = true, .offset = 0 },
                   "kprobe do_exit", "do_exit");
        check_text(&(AttachTarget) { .kind = KIND_KPROBE, .function = (char *) "do_exit", .has_offset = true, .offset = 16 },
                   "kprobe do_exit+0x10", "do_exit");
        check_text(&(AttachTarget) { .kind = KIND_XDP, .interface = (char *) "eth0", .priority = 50 },
                   "xdp eth0 priority 50", "eth0");
        check_text(&(AttachTarget) { .kind = KIND_TC, .interface = (char *) "eth0", .direction = (char *) "ingress",
                                     .priority = 3, .netns = (char *) "/run/netns/a" },
                   "tc eth0 ingress priority 3 netns /run/netns/a", "eth0");
        check_text(&(AttachTarget) { .kind = KIND_UPROBE, .target = (char *) "/bin/sh", .function = (char *) "main",
                                     .has_container_pid = true, .container_pid = 7 },
                   "uprobe /bin/sh:main in container of pid 7", "/bin/sh:main");
}

TEST(polkit_sees_the_resolved_path) {
        ResolvedTarget r = { .fd = -EBADF, .path = (char *) "/usr/lib/x86_64-linux-gnu/libc.so.6" };

        check_text(&(AttachTarget) { .kind = KIND_UPROBE, .target = (char *) "/lib/libc.so.6", .function = (char *) "malloc",
                                     .resolved = &r },
                   "uprobe /usr/lib/x86_64-linux-gnu/libc.so.6:malloc", "/usr/lib/x86_64-linux-gnu/libc.so.6:malloc");
        r.path = (char *) "/sys/fs/cgroup/real";
        check_text(&(AttachTarget) { .kind = KIND_CGROUP, .cgroup = (char *) "/sys/fs/cgroup/link", .resolved = &r },
                   "cgroup /sys/fs/cgroup/real default", "/sys/fs/cgroup/real");
}

TEST(copy_is_deep) {
        char *actions[] = { (char *) "pass", NULL };
        AttachTarget src = { .kind = KIND_XDP, .interface = (char *) "eth0", .netns = (char *) "/run/netns/a",
                             .has_priority = true, .priority = 9, .proceed_on = actions }, dst;

        CHECK_INT(attach_target_copy(&dst, &src), 0);
        CHECK(dst.interface != src.interface && dst.proceed_on != src.proceed_on);
        CHECK_STREQ(dst.interface, "eth0");
        CHECK_STREQ(dst.netns, "/run/netns/a");
        CHECK_INT(dst.priority, 9);
        CHECK_STREQ(dst.proceed_on[0], "pass");
        CHECK(!dst.proceed_on[1]);
        attach_target_done(&dst);
        CHECK_INT(dst.kind, KIND_DEFAULT);
}
