/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The on-disk record of a link's attach target (service/engine/target-record.c's attach_target_save/_load, in the key
 * files bpfd writes with write_file_atomic() under /var/lib/bpfd): what is written is read back equal,
 * through a real file; a damaged record is refused. */

#include <ftw.h>
#include <glib.h>

#include "target-record.h"
#include "unit.h"

static char *tmpdir;

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path);
}

static void cleanup_tmpdir(void) {
        if (tmpdir)
                (void) nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static const char *record_path(void) {
        static char path[256];

        if (!tmpdir) {
                char t[] = "/tmp/unit-record.XXXXXX";
                CHECK(mkdtemp(t));
                tmpdir = strdup(t);
                atexit(cleanup_tmpdir);
        }
        snprintf(path, sizeof path, "%s/links", tmpdir);
        return path;
}

/* Saves t in group "link-1" of a key file, writes it as bpfd does, reads the file back and loads it. */
static int round_trip(const AttachTarget *t, AttachTarget *ret) {
        g_autoptr(GKeyFile) out = g_key_file_new(), in = g_key_file_new();
        g_autofree gchar *data = NULL;
        _cleanup_free_ char *back = NULL;
        gsize size;
        size_t back_size;

        attach_target_save(t, out, "link-1");
        g_key_file_set_uint64(out, "link-1", "Program", 12); /* a neighbour key of the engine's */
        data = g_key_file_to_data(out, &size, NULL);
        CHECK(data);
        CHECK_INT(write_file_atomic(record_path(), data, size), 0);
        CHECK_INT(read_full_file(record_path(), 1 << 20, &back, &back_size), 0);
        CHECK_INT(back_size, size);
        CHECK(g_key_file_load_from_data(in, back, back_size, G_KEY_FILE_NONE, NULL));
        return attach_target_load(ret, in, "link-1");
}

/* a: what was saved, b: what was read back */
static void check_equal(const AttachTarget *a, const AttachTarget *b) {
        CHECK_INT(b->kind, a->kind);
        CHECK_STREQ(b->tracepoint, a->tracepoint);
        CHECK_STREQ(b->target, a->target);
        CHECK_STREQ(b->function, a->function);
        CHECK_STREQ(b->cgroup, a->cgroup);
        CHECK_STREQ(b->attach_type, a->attach_type);
        CHECK_STREQ(b->interface, a->interface);
        CHECK_STREQ(b->netns, a->netns);
        CHECK_STREQ(b->direction, a->direction);
        CHECK_STREQ(b->mode, a->mode);
        CHECK_INT(b->has_offset, a->has_offset);
        CHECK_INT(b->offset, a->offset);
        CHECK_INT(b->has_pid, a->has_pid);
        CHECK_INT(b->pid, a->pid);
        CHECK_INT(b->has_container_pid, a->has_container_pid);
        CHECK_INT(b->container_pid, a->container_pid);
        CHECK_INT(b->has_priority, a->has_priority);
        CHECK_INT(b->priority, a->priority);
        CHECK_INT(strv_length(b->proceed_on), strv_length(a->proceed_on));
        CHECK_INT(!b->proceed_on, !a->proceed_on);
        for (size_t i = 0; i < strv_length(a->proceed_on); i++)
                CHECK_STREQ(b->proceed_on[i], a->proceed_on[i]);
        /* what the record does not keep: the load-time program name and the resolved descriptor */
        CHECK(!b->program && !b->resolved);
}

static void check_round_trip(const AttachTarget *t) {
        AttachTarget back = {};

        CHECK_INT(round_trip(t, &back), 0);
        check_equal(t, &back);
        attach_target_done(&back);
}

TEST(tracepoint) {
        check_round_trip(&(AttachTarget) { .kind = KIND_TRACEPOINT, .tracepoint = (char *) "syscalls/sys_enter_getpid" });
}

TEST(uprobe_with_everything) {
        check_round_trip(&(AttachTarget) { .kind = KIND_URETPROBE, .target = (char *) "/usr/lib/with space/libc.so.6",
                                           .function = (char *) "malloc", .has_offset = true,
                                           .offset = UINT64_C(0xffffffffffff0000), .has_pid = true, .pid = 2147483647,
                                           .has_container_pid = true, .container_pid = 1 });
}

TEST(kprobe_offset_zero_is_kept) {
        check_round_trip(&(AttachTarget) { .kind = KIND_KPROBE, .function = (char *) "do_exit", .has_offset = true });
        check_round_trip(&(AttachTarget) { .kind = KIND_FENTRY, .function = (char *) "do_exit" });
}

TEST(cgroup) {
        check_round_trip(&(AttachTarget) { .kind = KIND_CGROUP, .cgroup = (char *) "/sys/fs/cgroup/a=b;c",
                                           .attach_type = (char *) "cgroup_inet_egress" });
}

TEST(network_hooks) {
        char *xdp_actions[] = { (char *) "pass", (char *) "dispatcher_return", NULL };
        char *tc_actions[] = { (char *) "ok", (char *) "pipe", (char *) "dispatcher_return", NULL };

        check_round_trip(&(AttachTarget) { .kind = KIND_XDP, .interface = (char *) "veth-a", .mode = (char *) "skb",
                                           .netns = (char *) "/run/netns/x y", .has_priority = true, .priority = 1,
                                           .proceed_on = xdp_actions });
        check_round_trip(&(AttachTarget) { .kind = KIND_TC, .interface = (char *) "eth0", .direction = (char *) "egress",
                                           .has_priority = true, .priority = 1000, .proceed_on = tc_actions });
        check_round_trip(&(AttachTarget) { .kind = KIND_TCX, .interface = (char *) "lo", .direction = (char *) "ingress",
                                           .has_priority = true, .priority = 50 });
}

TEST(every_kind) {
        for (Kind k = 0; k < _KIND_MAX; k++) {
                AttachTarget t = { .kind = k, .tracepoint = (char *) "a/b", .target = (char *) "/bin/true",
                                   .function = (char *) "f", .cgroup = (char *) "/sys/fs/cgroup",
                                   .interface = (char *) "lo" };

                if (IN_SET2(k, KIND_TC, KIND_TCX))
                        t.direction = (char *) "ingress";
                check_round_trip(&t);
        }
}

static int load_text(const char *text, AttachTarget *ret) {
        g_autoptr(GKeyFile) kf = g_key_file_new();

        CHECK(g_key_file_load_from_data(kf, text, strlen(text), G_KEY_FILE_NONE, NULL));
        return attach_target_load(ret, kf, "link-1");
}

TEST(damaged_records_are_refused) {
        static const char *const damaged[] = {
                "[link-1]\nProgram=12\n",                                   /* no kind */
                "[link-1]\nkind=lsm\n",                                     /* a kind bpfd does not know */
                "[link-1]\nkind=tracepoint\n",                              /* no tracepoint */
                "[link-1]\nkind=tracepoint\ntracepoint=nocategory\n",
                "[link-1]\nkind=uprobe\ntarget=relative/bin\nfunction=f\n",
                "[link-1]\nkind=xdp\ninterface=eth0\npriority=0\n",
                "[link-1]\nkind=tc\ninterface=eth0\n",                      /* no direction */
                "[link-1]\nkind=xdp\ninterface=eth0\nproceed_on=pass;ok;\n",
                "[link-2]\nkind=xdp\ninterface=eth0\n",                     /* not this group */
        };

        for (size_t i = 0; i < ELEMENTSOF(damaged); i++) {
                AttachTarget t = {};

                CHECK_MSG(load_text(damaged[i], &t) == -EBADMSG, "accepted: %s", damaged[i]);
                CHECK_INT(t.kind, KIND_INVALID);
                CHECK(!t.tracepoint && !t.target && !t.interface && !t.proceed_on);
                attach_target_done(&t);
        }
}

TEST(record_written_by_an_older_bpfd) {
        AttachTarget t = {};

        /* unknown keys (a newer or older bpfd's) are ignored, as a restart must not lose the link */
        CHECK_INT(load_text("[link-1]\nkind=xdp\ninterface=eth0\nfuture_key=1\npriority=50\n", &t), 0);
        CHECK_INT(t.kind, KIND_XDP);
        CHECK_STREQ(t.interface, "eth0");
        CHECK(t.has_priority && t.priority == 50);
        attach_target_done(&t);
}
