/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image-fileid.h"
#include "util.h"

static int file_id_get(const char *path, ImageFileId *ret) {
        struct stat st;

        assert(path);
        assert(ret);

        if (stat(path, &st) < 0)
                return negative_errno(); /* never 0: callers read *ret on success */
        ret->dev = st.st_dev;
        ret->ino = st.st_ino;
        ret->size = st.st_size;
        ret->mtime = st.st_mtim;
        ret->ctime = st.st_ctim;
        return 0;
}

static bool ts_equal(struct timespec a, struct timespec b) {
        return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

void image_file_set_done(ImageFileSet *set) {
        for (size_t i = 0; i < set->n; i++)
                free(set->files[i].path);
        free(set->files);
        *set = (ImageFileSet) {};
}

int image_file_set_record(ImageFileSet *set, char *const *paths, const char *ref_path) {
        size_t n = 0;
        int r;

        *set = (ImageFileSet) {};
        for (char *const *p = paths; p && *p; p++)
                n++;
        set->files = calloc(n + 1, sizeof(ImageFileId));
        if (!set->files)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                ImageFileId *f = &set->files[set->n];
                r = file_id_get(paths[i], f);
                if (r >= 0 && !(f->path = strdup(paths[i])))
                        r = -ENOMEM;
                if (r < 0) {
                        image_file_set_done(set);
                        return r;
                }
                f->identity_only = ref_path && streq(paths[i], ref_path);
                set->n++;
        }
        return 0;
}

bool image_file_set_unchanged(const ImageFileSet *set) {
        for (size_t i = 0; i < set->n; i++) {
                const ImageFileId *was = &set->files[i];
                ImageFileId now;

                if (file_id_get(was->path, &now) < 0 || now.dev != was->dev || now.ino != was->ino)
                        return false;
                if (!was->identity_only && (now.size != was->size || !ts_equal(now.mtime, was->mtime) ||
                                            !ts_equal(now.ctime, was->ctime)))
                        return false;
        }
        return true;
}

void image_memo_evict(GPtrArray *memos, guint max, uint64_t max_bytes, size_t fd_offset) {
        assert(memos);
        assert(max >= 1);

        while (memos->len > 1) {
                uint64_t bytes = 0;

                for (guint i = 0; i < memos->len; i++) {
                        const char *entry = g_ptr_array_index(memos, i);
                        int fd = *(const int *) (entry + fd_offset);
                        struct stat st;

                        if (fd >= 0 && fstat(fd, &st) >= 0)
                                bytes += (uint64_t) st.st_size;
                }
                if (memos->len <= max && bytes <= max_bytes)
                        break;
                g_ptr_array_remove_index(memos, 0);
        }
}
