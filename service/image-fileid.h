/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a remembered image answer was made from: the files' identities (device, inode, size,
 * modification and change times). While they are the same, nothing was written to them, so what was
 * verified then still holds. A reference's index file is compared by device and inode only: the puller
 * replaces it (rename) whenever the reference changes, and touches its times when it is used. Used by
 * the puller (image-serve.c) and by bpfd (image-puller.c), which only needs to stat() the cache. */

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

typedef struct ImageFileId {
        char *path;
        bool identity_only;   /* the reference's index file */
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime, ctime;
} ImageFileId;

typedef struct ImageFileSet {
        ImageFileId *files;
        size_t n;
} ImageFileSet;

/* Records PATHS (NULL-terminated) as they are now; REF_PATH among them is compared by identity only.
 * -ENOENT etc. if one cannot be stat()ed. */
int image_file_set_record(ImageFileSet *set, char *const *paths, const char *ref_path);
bool image_file_set_unchanged(const ImageFileSet *set);
void image_file_set_done(ImageFileSet *set);

/* The remembered answers of both (a GPtrArray of entries, oldest first, whose free function closes what it
 * drops): the oldest go first while there are more than max, or their objects (the descriptor at
 * fd_offset in each entry) hold more than max_bytes. The newest always stays, whatever its size. */
void image_memo_evict(GPtrArray *memos, guint max, uint64_t max_bytes, size_t fd_offset);
