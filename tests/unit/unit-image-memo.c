/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* service/image-fileid.c: what bpfd's image client and the puller remember of their answers, and how the
 * oldest are dropped (image_memo_evict(), shared by image-puller.c and image-serve.c). */

#include <fcntl.h>
#include <sys/mman.h>

#include "image-fileid.h"
#include "unit.h"
#include "util.h"

typedef struct Entry {
        char *name;
        int object_fd;
} Entry;

static void entry_free(Entry *e) {
        free(e->name);
        if (e->object_fd >= 0)
                close(e->object_fd);
        free(e);
}

static void add(GPtrArray *memos, const char *name, size_t size) {
        Entry *e = calloc(1, sizeof(Entry));

        CHECK(e);
        e->name = strdup(name);
        e->object_fd = memfd_create(name, MFD_CLOEXEC);
        CHECK(e->name && e->object_fd >= 0);
        CHECK(ftruncate(e->object_fd, (off_t) size) == 0);
        g_ptr_array_add(memos, e);
}

static void check_names(GPtrArray *memos, const char *expected) {
        _cleanup_free_ char *got = strdup("");

        for (guint i = 0; i < memos->len; i++) {
                char *s = NULL;
                CHECK(asprintf(&s, "%s%s%s", got, i ? " " : "", ((Entry *) g_ptr_array_index(memos, i))->name) >= 0);
                free(got);
                got = s;
        }
        CHECK_STREQ(got, expected);
}

TEST(oldest_go_first_by_count) {
        GPtrArray *memos = g_ptr_array_new_with_free_func((GDestroyNotify) entry_free);

        add(memos, "a", 10);
        add(memos, "b", 10);
        add(memos, "c", 10);
        image_memo_evict(memos, 3, 1000, offsetof(Entry, object_fd));
        check_names(memos, "a b c");
        add(memos, "d", 10);
        image_memo_evict(memos, 3, 1000, offsetof(Entry, object_fd));
        check_names(memos, "b c d");
        g_ptr_array_unref(memos);
}

TEST(oldest_go_first_by_bytes) {
        GPtrArray *memos = g_ptr_array_new_with_free_func((GDestroyNotify) entry_free);

        add(memos, "a", 400);
        add(memos, "b", 400);
        add(memos, "c", 300);
        image_memo_evict(memos, 16, 1000, offsetof(Entry, object_fd)); /* 1100 bytes: a goes */
        check_names(memos, "b c");
        add(memos, "d", 300);
        image_memo_evict(memos, 16, 1000, offsetof(Entry, object_fd)); /* exactly 1000: all stay */
        check_names(memos, "b c d");
        g_ptr_array_unref(memos);
}

TEST(the_newest_stays_whatever_its_size) {
        GPtrArray *memos = g_ptr_array_new_with_free_func((GDestroyNotify) entry_free);

        add(memos, "a", 10);
        add(memos, "huge", 5000);
        image_memo_evict(memos, 16, 1000, offsetof(Entry, object_fd));
        check_names(memos, "huge");
        image_memo_evict(memos, 1, 0, offsetof(Entry, object_fd));
        check_names(memos, "huge");
        g_ptr_array_unref(memos);
}

TEST(file_set_sees_changes) {
        char dir[] = "/tmp/unit-memo.XXXXXX", a[64], b[64];
        char *paths[] = { a, b, NULL };
        ImageFileSet set;
        int fd;

        CHECK(mkdtemp(dir));
        snprintf(a, sizeof a, "%s/a", dir);
        snprintf(b, sizeof b, "%s/ref", dir);
        CHECK(write_file_atomic(a, "1234", 4) == 0);
        CHECK(write_file_atomic(b, "x", 1) == 0);
        CHECK_INT(image_file_set_record(&set, paths, b), 0);
        CHECK(image_file_set_unchanged(&set));
        /* the reference's file is compared by identity: a new time or size is fine ... */
        fd = open(b, O_WRONLY | O_APPEND | O_CLOEXEC);
        CHECK(fd >= 0 && write(fd, "y", 1) == 1);
        close(fd);
        CHECK(image_file_set_unchanged(&set));
        /* ... a replaced one is not */
        CHECK(write_file_atomic(b, "x", 1) == 0);
        CHECK(!image_file_set_unchanged(&set));
        image_file_set_done(&set);

        CHECK_INT(image_file_set_record(&set, paths, b), 0);
        /* any other file: a write changes its size or times */
        fd = open(a, O_WRONLY | O_APPEND | O_CLOEXEC);
        CHECK(fd >= 0 && write(fd, "5", 1) == 1);
        close(fd);
        CHECK(!image_file_set_unchanged(&set));
        image_file_set_done(&set);

        CHECK(unlink(a) == 0 && unlink(b) == 0 && rmdir(dir) == 0);
        CHECK_INT(image_file_set_record(&set, paths, b), -ENOENT);
}
