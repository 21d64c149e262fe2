/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "image-cache.h"
#include "image-fileid.h"
#include "image-serve.h"
#include "image-util.h"
#include "util.h"

#define MEMO_MAX 64
#define MEMO_MAX_BYTES (64u * 1024u * 1024u)   /* of remembered objects */

typedef struct Memo {
        char *reference;   /* canonical */
        char *reply;       /* the lines, without status */
        int object_fd;     /* sealed memfd */
        char *ref_path;    /* the reference's index file: touched on use (least recently used eviction) */
        ImageFileSet files;
} Memo;

static GPtrArray *memos;

static void memo_free(Memo *m) {
        free(m->reference);
        free(m->reply);
        if (m->object_fd >= 0)
                close(m->object_fd);
        free(m->ref_path);
        image_file_set_done(&m->files);
        free(m);
}

/* Marks REF_PATH used now, to the minute (its times are not part of what is remembered). */
static void touch_ref(const char *ref_path) {
        struct timespec now;
        struct stat st;

        clock_gettime(CLOCK_REALTIME, &now);
        if (stat(ref_path, &st) >= 0 && now.tv_sec - st.st_mtim.tv_sec >= 60)
                (void) utimensat(AT_FDCWD, ref_path, NULL, 0);
}

/* The memo of REFERENCE if every file it was made from is as it was. */
static Memo *memo_lookup(const char *reference) {
        for (guint i = 0; memos && i < memos->len; i++) {
                Memo *m = g_ptr_array_index(memos, i);

                if (!streq(m->reference, reference))
                        continue;
                if (image_file_set_unchanged(&m->files)) {
                        touch_ref(m->ref_path);
                        return m;
                }
                g_ptr_array_remove_index(memos, i);
                return NULL;
        }
        return NULL;
}

static void memo_store(const char *reference, const char *reply, int object_fd, const ImageResult *res,
                       const char *ref_path) {
        Memo *m = calloc(1, sizeof(Memo));

        if (!m)
                return;
        if (!memos)
                memos = g_ptr_array_new_with_free_func((GDestroyNotify) memo_free);
        for (guint i = 0; i < memos->len; i++)
                if (streq(((Memo *) g_ptr_array_index(memos, i))->reference, reference)) {
                        g_ptr_array_remove_index(memos, i);
                        break;
                }
        *m = (Memo) { .reference = strdup(reference), .reply = strdup(reply),
                      .object_fd = fcntl(object_fd, F_DUPFD_CLOEXEC, 3), .ref_path = strdup(ref_path) };
        if (!m->reference || !m->reply || m->object_fd < 0 || !m->ref_path ||
            image_file_set_record(&m->files, res->inputs, ref_path) < 0) {
                memo_free(m);
                return;
        }
        g_ptr_array_add(memos, m);
        image_memo_evict(memos, MEMO_MAX, MEMO_MAX_BYTES, offsetof(Memo, object_fd));
}

/* The object as a sealed memfd: what bpfd loads cannot change under it, whoever owns the cache file. */
static int object_memfd(const char *path) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        int fd, r;

        r = read_full_file(path, 64u * 1024u * 1024u, &data, &size);
        if (r < 0)
                return r;
        fd = memfd_create("bpfd-image-object", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, data, size);
        if (r >= 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                r = -errno;
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

static void send_reply(int reply_fd, const char *text, int object_fd) {
        struct iovec iov = { .iov_base = (void *) text, .iov_len = strlen(text) };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (object_fd >= 0) {
                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof control.buf;
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &object_fd, sizeof(int));
        }
        (void) sendmsg(reply_fd, &mh, MSG_NOSIGNAL);
}

static void reply_error(int reply_fd, int r, const char *message) {
        _cleanup_free_ char *line = image_one_line(message ?: strerror(-r));
        g_autofree char *text = g_strdup_printf("error %s: %s\nstatus %d\n", image_error_class(r),
                                                line ?: "out of memory", image_exit_status(r));
        send_reply(reply_fd, text, -1);
}

/* "KEY VALUE..." as one line: the values may be the registry's words. */
static void append_line(GString *s, const char *key, const char *a, const char *b) {
        _cleanup_free_ char *x = image_one_line(a), *y = b ? image_one_line(b) : NULL;

        g_string_append_printf(s, "%s %s%s%s\n", key, strempty(x), b ? " " : "", strempty(y));
}

/* The answer's lines; for an answer from the cache (REF_PATH) also what it was made from, so bpfd can
 * tell by stat() alone while it still holds. */
static char *result_lines(const ImageResult *res, const char *ref_path) {
        GString *s = g_string_new(NULL);

        append_line(s, "reference", res->reference, NULL);
        append_line(s, "digest", res->manifest_digest, NULL);
        append_line(s, "filename", res->object_filename, NULL);
        append_line(s, "source", res->from_cache ? "cache" : "registry", NULL);
        if (res->signed_)
                append_line(s, "signed", res->signer_key, NULL);
        else
                g_string_append(s, "unsigned\n");
        for (size_t i = 0; i < res->n_programs; i++)
                append_line(s, "program", res->programs[i].name, res->programs[i].type);
        for (size_t i = 0; i < res->n_maps; i++)
                append_line(s, "map", res->maps[i].name, res->maps[i].type);
        if (ref_path) {
                append_line(s, "refpath", ref_path, NULL);
                for (char **i = res->inputs; i && *i; i++)
                        append_line(s, "input", *i, NULL);
        }
        return g_string_free(s, FALSE);
}

/* One pull with OPTS; answers it (and remembers an answer from the cache). 0 if answered, or the error
 * when QUIET and the pull failed (the caller goes on to the registry). */
static int pull_and_reply(int reply_fd, const char *reference, const ImagePullOptions *opts, bool quiet) {
        _cleanup_image_result_ ImageResult *res = NULL;
        _cleanup_free_ char *err = NULL, *lines = NULL, *text = NULL, *ref_path = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        r = image_pull(reference, opts, &res, &err);
        if (r < 0) {
                if (!quiet)
                        reply_error(reply_fd, r, err);
                return r;
        }
        fd = object_memfd(res->object_path);
        if (fd < 0) {
                reply_error(reply_fd, fd, "cannot read the pulled object");
                return 0;
        }
        ref_path = image_cache_ref_path(opts->cache_dir, res->reference);
        lines = result_lines(res, res->from_cache ? ref_path : NULL);
        if (!lines || asprintf(&text, "%sstatus 0\n", lines) < 0)
                return 0;
        send_reply(reply_fd, text, fd);
        if (res->from_cache && ref_path)
                memo_store(res->reference, lines, fd, res, ref_path);
        return 0;
}

static void handle_pull(int reply_fd, const char *reference, ImagePullOptions *opts) {
        _cleanup_image_ref_ ImageRef *ref = NULL;
        _cleanup_free_ char *canonical = NULL;
        ImagePullPolicy policy = opts->policy;
        Memo *m;
        pid_t pid;

        if (image_ref_parse(reference, &ref) < 0 || !(canonical = image_ref_to_string(ref)))
                return reply_error(reply_fd, -EINVAL, "bad image reference");
        if (policy != IMAGE_PULL_ALWAYS) {
                _cleanup_free_ char *text = NULL;

                m = memo_lookup(canonical);
                if (m && asprintf(&text, "%sstatus 0\n", m->reply) >= 0)
                        return send_reply(reply_fd, text, m->object_fd);
                /* The cache alone, here and now; only what needs the registry goes to a child. */
                opts->policy = IMAGE_PULL_NEVER;
                if (pull_and_reply(reply_fd, canonical, opts, policy != IMAGE_PULL_NEVER) == 0 ||
                    policy == IMAGE_PULL_NEVER)
                        return;
                opts->policy = policy;
        }
        pid = fork();
        if (pid < 0)
                return reply_error(reply_fd, -errno, "cannot start a pull");
        if (pid == 0) {
                (void) pull_and_reply(reply_fd, canonical, opts, false);
                _exit(0);
        }
}

static int read_fd_string(int fd, char **ret) {
        size_t size = 0;
        if (lseek(fd, 0, SEEK_SET) < 0 && errno != ESPIPE)
                return -errno;
        return read_full_fd(fd, 1024 * 1024, ret, &size);
}

int image_serve(int control_fd, const ImagePullOptions *defaults) {
        /* Children report to their requesters; nobody waits for them. */
        signal(SIGCHLD, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        /* bpfd tells a puller that never ran from one that ended by this. */
        if (send(control_fd, "ready", 5, MSG_NOSIGNAL) < 0)
                return -errno;

        for (;;) {
                static char buf[256 * 1024];
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(sizeof(int) * 2)];
                } control;
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                                     .msg_controllen = sizeof control.buf };
                int fds[2] = { -1, -1 }, n_fds = 0;
                ssize_t n;

                n = recvmsg(control_fd, &mh, MSG_CMSG_CLOEXEC);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : 0;   /* bpfd is gone */
                buf[n] = '\0';
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                                n_fds = (int) ((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                                memcpy(fds, CMSG_DATA(c), sizeof(int) * MIN(n_fds, 2));
                        }
                if (n_fds < 1) {
                        /* "touch\0REF\0": bpfd answered a load from what it remembers; the use still counts */
                        if (n > 6 && streq(buf, "touch")) {
                                _cleanup_free_ char *ref_path = image_cache_ref_path(defaults->cache_dir, buf + 6);
                                if (ref_path)
                                        touch_ref(ref_path);
                        }
                        continue;
                }

                const char *verb = buf, *reference = verb + strlen(verb) + 1;
                const char *policy = (size_t) (reference - buf) < (size_t) n ? reference + strlen(reference) + 1 : "";
                const char *in_use = (size_t) (policy - buf) < (size_t) n ? policy + strlen(policy) + 1 : "";
                g_auto(GStrv) in_use_list = NULL;
                ImagePullOptions opts = *defaults;
                _cleanup_free_ char *auth = NULL;

                if ((size_t) (reference - buf) >= (size_t) n)
                        reference = "";
                if ((size_t) (policy - buf) >= (size_t) n)
                        policy = "";
                if ((size_t) (in_use - buf) >= (size_t) n)
                        in_use = "";
                in_use_list = g_strsplit(in_use, " ", -1);
                opts.in_use = in_use_list;
                /* Credentials only from bpfd's descriptor: the file is root's, never read here by name. */
                opts.auth_data = n_fds > 1 && read_fd_string(fds[1], &auth) >= 0 ? auth : "{}";
                if (streq(verb, "pull")) {
                        if (*policy && image_pull_policy_from_string(policy, &opts.policy) < 0)
                                reply_error(fds[0], -EINVAL, "unknown pull policy");
                        else
                                handle_pull(fds[0], reference, &opts);
                } else if (streq(verb, "list")) {
                        _cleanup_strv_free_ char **refs = NULL;
                        GString *s = g_string_new(NULL);
                        int r = image_cache_list(opts.cache_dir, &refs);
                        for (char **i = refs; r >= 0 && i && i[0] && i[1]; i += 2)
                                g_string_append_printf(s, "image %s %s\n", i[0], i[1]);
                        g_string_append_printf(s, "status %d\n", r < 0 ? 1 : 0);
                        send_reply(fds[0], s->str, -1);
                        g_string_free(s, TRUE);
                } else if (streq(verb, "rm")) {
                        int r = image_cache_remove(opts.cache_dir, reference);
                        if (r == -ENOENT)
                                reply_error(fds[0], -ENOMEDIUM, "the image is not cached");
                        else if (r < 0)
                                reply_error(fds[0], r, NULL);
                        else
                                send_reply(fds[0], "status 0\n", -1);
                } else
                        reply_error(fds[0], -EINVAL, "unknown verb");
                for (int i = 0; i < MIN(n_fds, 2); i++)
                        close(fds[i]);
        }
}
