/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The on-disk record of a link's attach target (service/engine/target-record.c's attach_target_save/_load, in the key
 * files bpfd writes with write_file_atomic() under /var/lib/bpfd): what is written is read back equal,
 * through a real file; a damaged record is refused. */

#include <ftw.h>
#include <glib.h>

#include "record.h"
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

/* ---- a load group's [Program N] and [Link N] (engine/record.c) ---- */

/* Writes kf as bpfd writes a record, and reads it back into a new key file. */
static GKeyFile *through_file(GKeyFile *kf) {
        GKeyFile *in = g_key_file_new();
        g_autofree gchar *data = NULL;
        _cleanup_free_ char *back = NULL;
        gsize size;
        size_t back_size;

        data = g_key_file_to_data(kf, &size, NULL);
        CHECK(data);
        CHECK_INT(write_file_atomic(record_path(), data, size), 0);
        CHECK_INT(read_full_file(record_path(), 1 << 20, &back, &back_size), 0);
        CHECK(g_key_file_load_from_data(in, back, back_size, G_KEY_FILE_NONE, NULL));
        return in;
}

TEST(program_round_trip) {
        MapInfo maps[] = { { .id = 7, .name = (char *) "counts", .pin_path = (char *) "/run/bpfd/fs/maps/3/counts" },
                           { .id = 9, .name = (char *) "ring", .pin_path = (char *) "/run/bpfd/fs/maps/3/ring" } };
        uint8_t bytes[] = { 0x00, 0x01, 0xfe, 0xff };
        GlobalData globals[] = { { .name = (char *) "rodata.limit", .data = bytes, .size = sizeof bytes } };
        char *metadata[] = { (char *) "owner", (char *) "team-a", (char *) "tier", (char *) "1 2", NULL };
        ProgramInfo p = { .id = 42, .name = (char *) "count_getpid", .kind = KIND_FENTRY,
                          .kernel_type = (char *) "tracing", .section = (char *) "fentry/do_unlinkat",
                          .tag = (char *) "0123456789abcdef", .load_time_usec = 1234567890123ULL, .maps = maps,
                          .n_maps = 2, .metadata = metadata, .globals = globals, .n_globals = 1,
                          .expected_attach_type = 24, .attach_function = (char *) "do_unlinkat", .map_group = 3,
                          .image_reference = (char *) "127.0.0.1:5000/bpf/x:v1",
                          .image_digest = (char *) "sha256:0000000000000000000000000000000000000000000000000000000000000000" };
        g_autoptr(GKeyFile) out = g_key_file_new(), in = NULL;
        ProgramInfo *b = calloc(1, sizeof(ProgramInfo));

        CHECK(b);
        b->n_ref = 1;
        CHECK_INT(record_write_program(out, &p), 0);
        in = through_file(out);
        CHECK_INT(record_read_program(in, "Program 42", b), 0);
        CHECK_STREQ(b->name, p.name);
        CHECK_INT(b->kind, p.kind);
        CHECK_STREQ(b->kernel_type, p.kernel_type);
        CHECK_STREQ(b->section, p.section);
        CHECK_STREQ(b->tag, p.tag);
        CHECK_INT(b->load_time_usec, p.load_time_usec);
        CHECK_INT(b->expected_attach_type, p.expected_attach_type);
        CHECK_STREQ(b->attach_function, p.attach_function);
        CHECK_INT(b->map_group, p.map_group);
        CHECK_STREQ(b->image_reference, p.image_reference);
        CHECK_STREQ(b->image_digest, p.image_digest);
        CHECK_INT(b->n_maps, 2);
        for (size_t i = 0; i < 2; i++) {
                CHECK_INT(b->maps[i].id, maps[i].id);
                CHECK_STREQ(b->maps[i].name, maps[i].name);
                CHECK_STREQ(b->maps[i].pin_path, maps[i].pin_path);
        }
        CHECK_INT(strv_length(b->metadata), 4);
        for (size_t i = 0; i < 4; i++)
                CHECK_STREQ(b->metadata[i], metadata[i]);
        CHECK_INT(b->n_globals, 1);
        CHECK_STREQ(b->globals[0].name, "rodata.limit");
        CHECK_INT(b->globals[0].size, sizeof bytes);
        CHECK(memcmp(b->globals[0].data, bytes, sizeof bytes) == 0);
        program_info_unref(b);
}

TEST(program_record_damaged) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        ProgramInfo *b = calloc(1, sizeof(ProgramInfo));

        CHECK(b);
        b->n_ref = 1;
        /* Two map ids, one name: a record no bpfd wrote. */
        g_key_file_set_string(kf, "Program 5", "Name", "x");
        g_key_file_set_string(kf, "Program 5", "Kind", "tracepoint");
        g_key_file_set_integer_list(kf, "Program 5", "MapIds", (gint[]) { 1, 2 }, 2);
        g_key_file_set_string_list(kf, "Program 5", "MapNames", (const gchar *const[]) { "a" }, 1);
        g_key_file_set_string_list(kf, "Program 5", "MapPins", (const gchar *const[]) { "/a" }, 1);
        CHECK_INT(record_read_program(kf, "Program 5", b), -EBADMSG);
        program_info_unref(b);
}

TEST(link_round_trip) {
        char *proceed[] = { (char *) "pass", (char *) "dispatcher_return", NULL };
        LinkInfo l = { .id = 77, .program_id = 42, .owner_uid = 1000, .attach_time_usec = 99,
                       .attach_point = (char *) "xdp eth1", .seq = 12, .netns_ino = 4026531840ULL, .ifindex = 3,
                       .component_id = 501, .tc_priority = 0,
                       .target = { .kind = KIND_XDP, .interface = (char *) "eth1", .netns = (char *) "/run/netns/blue",
                                   .priority = 60, .has_priority = true, .proceed_on = proceed } };
        g_autoptr(GKeyFile) out = g_key_file_new(), in = NULL;
        LinkInfo *b = calloc(1, sizeof(LinkInfo));

        CHECK(b);
        b->n_ref = 1;
        record_write_link(out, &l);
        in = through_file(out);
        CHECK_INT(record_read_link(in, "Link 77", b), 0);
        CHECK_INT(b->program_id, l.program_id);
        CHECK_INT(b->owner_uid, l.owner_uid);
        CHECK_INT(b->attach_time_usec, l.attach_time_usec);
        CHECK_STREQ(b->attach_point, l.attach_point);
        CHECK_INT(b->seq, l.seq);
        CHECK_INT(b->netns_ino, l.netns_ino);
        CHECK_INT(b->ifindex, l.ifindex);
        CHECK_INT(b->component_id, l.component_id);
        check_equal(&l.target, &b->target);
        link_info_unref(b);
}

TEST(link_record_without_attach_point) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        LinkInfo *b = calloc(1, sizeof(LinkInfo));

        CHECK(b);
        b->n_ref = 1;
        g_key_file_set_uint64(kf, "Link 1", "Program", 2);
        g_key_file_set_string(kf, "Link 1", "Kind", "tracepoint");
        g_key_file_set_string(kf, "Link 1", "Tracepoint", "syscalls/sys_enter_getpid");
        CHECK_INT(record_read_link(kf, "Link 1", b), -EBADMSG);
        link_info_unref(b);
}
