/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "engine-error.h"
#include "image-fileid.h"
#include "image-puller.h"
#include "log.h"
#include "util.h"

#define DEFAULT_CACHE "/var/cache/bpfd/images"
#define DEFAULT_AUTH "/etc/bpfd/auth.json"

static struct {
        char *auth;
        int control_fd;
        uid_t uid;
        gid_t gid;
} puller = { .control_fd = -1 };

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        /* Directories searchable (bpfd stat()s what the puller made an answer from), files the puller's alone.
         * The modes before the owner: while bpfd still owns a file it may chmod it without CAP_FOWNER, which
         * bpfd.service does not grant. */
        if (flag == FTW_D && (st->st_mode & 07777) != 0711 && chmod(path, 0711) < 0)
                return -errno;
        if (flag == FTW_F && (st->st_mode & 077) && chmod(path, st->st_mode & 0700) < 0)
                return -errno;
        if ((st->st_uid != chown_uid || st->st_gid != chown_gid) && lchown(path, chown_uid, chown_gid) < 0)
                return -errno;
        return 0;
}

/* The cache is the puller's: created if missing (its parents root's), handed over if it was not. */
static int cache_prepare(const char *cache) {
        _cleanup_free_ char *copy = strdup(cache);
        int r;

        if (!copy)
                return -ENOMEM;
        for (char *p = strchr(copy + 1, '/'); p; p = strchr(p + 1, '/')) {
                *p = '\0';
                if (mkdir(copy, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(cache, 0711) < 0 && errno != EEXIST)
                return -errno;
        chown_uid = puller.uid;
        chown_gid = puller.gid;
        r = nftw(cache, chown_one, 16, FTW_PHYS | FTW_MOUNT);
        return r < 0 ? -errno : r;
}

__attribute__((noreturn)) static void serve_exec(const char *const *argv, int control) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        sigset_t none;

        /* bpfd blocks SIGTERM, SIGINT and SIGHUP for sd-event; the puller gets the default mask. */
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(control, 3) < 0)
                _exit(127);
        /* Only stdin, stdout, stderr (the daemon's log) and the control socket. */
        if (syscall(SYS_close_range, 4U, ~0U, 0) < 0)
                for (int fd = 4; fd < 1024; fd++)
                        (void) close(fd);
        /* The bounding set first, while CAP_SETPCAP is still there; then the ids, which take the rest. */
        for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
                        _exit(126);
        if (setgroups(0, NULL) < 0 || setresgid(puller.gid, puller.gid, puller.gid) < 0 ||
            setresuid(puller.uid, puller.uid, puller.uid) < 0)
                _exit(126);
        (void) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                _exit(126);
        execv(argv[0], (char **) argv);
        _exit(127);
}

/* Under systemd the puller is a service of its own, bpfd-image@.service behind bpfd-image.socket (root only,
 * SOCK_SEQPACKET, Accept=yes): there it may reach registries, which bpfd.service may not (no Internet sockets,
 * IPAddressDeny=any). The connection is its fd 3, as the socketpair is when bpfd starts it. Returns the
 * connected socket, or -ENOENT/-ECONNREFUSED where there is no such socket (then bpfd starts the puller). */
static int puller_socket_connect(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *path = getenv("BPFD_IMAGE_SOCKET") ?: BPFD_IMAGE_SOCKET;
        int fd;

        if (strlen(path) >= sizeof sa.sun_path)
                return -EINVAL;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

int image_puller_start(const char *cache, const char *config, const char *auth, uint64_t cache_max,
                       const char *user) {
        char max[32] = "";
        const char *argv[12] = { getenv("BPFD_IMAGE_HELPER") ?: BPFD_IMAGE_HELPER, "serve" };
        size_t n = 2;
        struct passwd *pw;
        int sv[2], r;
        pid_t pid;

        pw = getpwnam(user ?: "nobody");
        if (!pw)
                return log_error_errno(-ESRCH, "The image user '%s' does not exist.", user ?: "nobody");
        if (pw->pw_uid == 0)
                return log_error_errno(-EPERM, "The image user must not be root.");
        puller.uid = pw->pw_uid;
        puller.gid = pw->pw_gid;
        puller.auth = strdup(auth ?: DEFAULT_AUTH);
        if (!puller.auth)
                return -ENOMEM;
        r = cache_prepare(cache ?: DEFAULT_CACHE);
        if (r < 0)
                return log_error_errno(r, "Cannot prepare the image cache %s: %m", cache ?: DEFAULT_CACHE);

        r = puller_socket_connect();
        if (r >= 0) {
                log_info("Image pulls go through %s (bpfd-image@.service).", getenv("BPFD_IMAGE_SOCKET") ?: BPFD_IMAGE_SOCKET);
                puller.control_fd = r;
                return 0;
        }
        if (r != -ENOENT && r != -ECONNREFUSED)
                log_warning_errno(r, "Cannot connect to the image puller's socket, starting it myself: %m");

        if (cache)
                argv[n++] = "--cache", argv[n++] = cache;
        if (cache_max) {
                snprintf(max, sizeof max, "%" PRIu64, cache_max);
                argv[n++] = "--cache-max", argv[n++] = max;
        }
        if (config)
                argv[n++] = "--config", argv[n++] = config;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(sv[0]);
                close(sv[1]);
                return r;
        }
        if (pid == 0)
                serve_exec(argv, sv[1]);
        close(sv[1]);
        puller.control_fd = sv[0];
        return 0;
}

static sd_event_source *lost_source;
static void (*lost_callback)(void *userdata);

static bool puller_ready;

static int on_control_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        char buf[16];
        ssize_t n = 0;

        /* The puller says "ready" once it runs; nothing else comes this way. */
        if (revents & EPOLLIN) {
                n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (n > 0) {
                        puller_ready = true;
                        return 0;
                }
        }
        if (!(revents & (EPOLLHUP | EPOLLERR)) && n != 0)
                return 0;
        lost_source = sd_event_source_disable_unref(lost_source);
        close(puller.control_fd);
        puller.control_fd = -1;
        if (!puller_ready) {
                /* It never ran (no helper there, not executable for its user): starting bpfd again would not help. */
                log_error("The image puller %s could not start; images are not available.",
                          getenv("BPFD_IMAGE_HELPER") ?: BPFD_IMAGE_HELPER);
                return 0;
        }
        if (lost_callback)
                lost_callback(userdata);
        return 0;
}

int image_puller_watch(sd_event *event, void (*lost)(void *userdata), void *userdata) {
        assert(event);
        assert(lost);

        if (puller.control_fd < 0)
                return 0;
        lost_callback = lost;
        return sd_event_add_io(event, &lost_source, puller.control_fd, EPOLLIN, on_control_event, userdata);
}

struct ImagePull {
        int fd;
        sd_event_source *source;
        char *reference;      /* a pull's (canonical), for remembering the answer */
        char **memo_lines;    /* answered from what bpfd remembers: the answer, given on the next iteration */
        int memo_fd;
        ImagePullDone done;
        void *userdata;
};

ImagePull *image_pull_free(ImagePull *p) {
        if (!p)
                return NULL;
        sd_event_source_disable_unref(p->source);
        if (p->fd >= 0)
                close(p->fd);
        if (p->memo_fd >= 0)
                close(p->memo_fd);
        free(p->reference);
        g_strfreev(p->memo_lines);
        free(p);
        return NULL;
}

/* ---- answers from the cache, remembered: a cached load costs a few stat() calls, no puller round trip ---- */

#define MEMO_MAX 16
#define MEMO_MAX_BYTES (64u * 1024u * 1024u)   /* of remembered objects */

typedef struct Memo {
        char *reference;
        char **lines;
        int object_fd;        /* the sealed memfd */
        ImageFileSet files;   /* what the puller made the answer from */
        uint64_t touched;     /* when the puller was last told of a use (CLOCK_MONOTONIC, s) */
} Memo;

static GPtrArray *memos;

static void memo_free(Memo *m) {
        free(m->reference);
        g_strfreev(m->lines);
        if (m->object_fd >= 0)
                close(m->object_fd);
        image_file_set_done(&m->files);
        free(m);
}

static uint64_t now_sec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec;
}

static void memo_store(const char *reference, char **lines, int object_fd) {
        _cleanup_strv_free_ char **inputs = NULL;
        const char *ref_path = image_pull_value(lines, "refpath");
        Memo *m;

        if (!reference || !ref_path || object_fd < 0)
                return;
        for (char **l = lines; *l; l++)
                if (strncmp(*l, "input ", 6) == 0 && strv_push(&inputs, strdup(*l + 6)) < 0)
                        return;
        m = calloc(1, sizeof(Memo));
        if (!m)
                return;
        *m = (Memo) { .reference = strdup(reference), .lines = g_strdupv(lines),
                      .object_fd = fcntl(object_fd, F_DUPFD_CLOEXEC, 3), .touched = now_sec() };
        if (!m->reference || m->object_fd < 0 || image_file_set_record(&m->files, inputs, ref_path) < 0) {
                memo_free(m);
                return;
        }
        if (!memos)
                memos = g_ptr_array_new_with_free_func((GDestroyNotify) memo_free);
        for (guint i = 0; i < memos->len; i++)
                if (streq(((Memo *) g_ptr_array_index(memos, i))->reference, reference)) {
                        g_ptr_array_remove_index(memos, i);
                        break;
                }
        g_ptr_array_add(memos, m);
        image_memo_evict(memos, MEMO_MAX, MEMO_MAX_BYTES, offsetof(Memo, object_fd));
}

static Memo *memo_lookup(const char *reference) {
        for (guint i = 0; memos && i < memos->len; i++) {
                Memo *m = g_ptr_array_index(memos, i);
                if (!streq(m->reference, reference))
                        continue;
                if (image_file_set_unchanged(&m->files))
                        return m;
                g_ptr_array_remove_index(memos, i);
                return NULL;
        }
        return NULL;
}

static int on_memo(sd_event_source *s, void *userdata) {
        ImagePull *p = userdata;
        ImagePullDone done = p->done;
        g_auto(GStrv) lines = TAKE_PTR(p->memo_lines);   /* done() may free p */

        p->source = sd_event_source_disable_unref(p->source);
        p->done = NULL;
        done(p, NULL, lines, TAKE_FD(p->memo_fd), p->userdata);
        return 0;
}

const char *image_pull_value(char **lines, const char *key) {
        size_t n = strlen(key);
        assert(key);

        for (char **l = lines; l && *l; l++)
                if (strncmp(*l, key, n) == 0 && ((*l)[n] == ' ' || (*l)[n] == 0))
                        return (*l)[n] ? *l + n + 1 : "";
        return NULL;
}

/* The puller's status per error class (see bpfd-image.c). */
static BpfdError error_code(int status) {
        static const BpfdError codes[] = {
                [2] = BPFD_ERR_INVALID_ARGUMENT,   [3] = BPFD_ERR_REGISTRY_UNREACHABLE,
                [4] = BPFD_ERR_IMAGE_NOT_FOUND,    [5] = BPFD_ERR_AUTHENTICATION_FAILED,
                [6] = BPFD_ERR_DIGEST_MISMATCH,    [7] = BPFD_ERR_NO_SIGNATURE,
                [8] = BPFD_ERR_UNKNOWN_SIGNER,     [9] = BPFD_ERR_SIGNATURE_DIGEST_MISMATCH,
                [10] = BPFD_ERR_IMAGE_NOT_CACHED,  [11] = BPFD_ERR_INVALID_IMAGE,
        };
        /* Status 1 and the unlisted ones: BPFD_ERR_FAILED, which is 0. */
        return status > 0 && status < (int) ELEMENTSOF(codes) ? codes[status] : BPFD_ERR_FAILED;
}

/* Calls done with an error: the callback sees code and message, never a D-Bus name. */
static void fail(ImagePull *p, ImagePullDone done, BpfdError code, const char *message) {
        _cleanup_(engine_error_done) EngineError error = ENGINE_ERROR_NULL;

        (void) engine_error_setf(&error, code, "%s", message);
        done(p, &error, NULL, -1, p->userdata);
}

static int on_reply(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ImagePull *p = userdata;
        char buf[65536];
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof control.buf };
        _cleanup_close_ int object_fd = -1;
        g_auto(GStrv) lines = NULL;
        ImagePullDone done = p->done;
        const char *status, *error;
        ssize_t n;

        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n > 0 && c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        int fds[8], k = (int) ((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                        memcpy(fds, CMSG_DATA(c), sizeof(int) * MIN(k, 8));
                        for (int i = 0; i < MIN(k, 8); i++)
                                if (object_fd < 0)
                                        object_fd = fds[i];
                                else
                                        close(fds[i]);
                }
        p->source = sd_event_source_disable_unref(p->source);
        p->done = NULL;
        if (n <= 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
                fail(p, done, BPFD_ERR_FAILED, "the image puller ended without an answer");
                return 0;
        }
        buf[n] = '\0';
        lines = g_strsplit(buf, "\n", -1);
        status = image_pull_value(lines, "status");
        error = image_pull_value(lines, "error");
        if (!status || !streq(status, "0")) {
                const char *colon = error ? strstr(error, ": ") : NULL;
                fail(p, done, error_code(status ? atoi(status) : 1), colon ? colon + 2 : "the image puller failed");
                return 0;
        }
        /* Only a sealed memfd: nobody can change the bytes once they are ours. */
        if (object_fd >= 0 && fcntl(object_fd, F_GET_SEALS) !=
                                      (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)) {
                fail(p, done, BPFD_ERR_FAILED, "the image puller sent an object that is not sealed");
                return 0;
        }
        memo_store(p->reference, lines, object_fd);
        done(p, NULL, lines, TAKE_FD(object_fd), p->userdata);
        return 0;
}

int image_pull_start(sd_event *event, const char *verb, const char *reference, int policy, char *const *in_use,
                     ImagePullDone done, void *userdata, ImagePull **ret) {
        static const char *const policies[] = { "Always", "IfNotPresent", "Never" };
        _cleanup_free_ char *msg = NULL, *in_use_list = NULL;
        _cleanup_close_ int auth_fd = -1;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * 2)];
        } control = {};
        int sv[2], fds[2], n_fds = 1, len, r;
        ImagePull *p;

        assert(event);
        assert(verb);
        assert(done);
        assert(ret);

        if (puller.control_fd < 0)
                return -ENOTCONN;
        if (streq(verb, "pull") && reference && policy != 0) {
                Memo *m = memo_lookup(reference);
                if (m) {
                        p = calloc(1, sizeof(ImagePull));
                        if (!p)
                                return -ENOMEM;
                        *p = (ImagePull) { .fd = -1, .memo_fd = fcntl(m->object_fd, F_DUPFD_CLOEXEC, 3),
                                           .memo_lines = g_strdupv(m->lines), .done = done, .userdata = userdata };
                        r = p->memo_fd < 0 ? -errno : sd_event_add_defer(event, &p->source, on_memo, p);
                        if (r < 0) {
                                image_pull_free(p);
                                return r;
                        }
                        /* The use counts for least recently used eviction; the puller notes it, nobody waits. */
                        if (now_sec() - m->touched >= 60) {
                                _cleanup_free_ char *touch = NULL;
                                int n = asprintf(&touch, "touch%c%s", 0, reference);
                                if (n > 0)
                                        (void) send(puller.control_fd, touch, n + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                                m->touched = now_sec();
                        }
                        *ret = p;
                        return 0;
                }
        }
        in_use_list = in_use ? g_strjoinv(" ", (char **) in_use) : NULL;
        len = asprintf(&msg, "%s%c%s%c%s%c%s%c", verb, 0, strempty(reference), 0,
                       policy >= 0 && policy < 3 ? policies[policy] : "", 0, strempty(in_use_list), 0);
        if (len < 0)
                return -ENOMEM;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        /* The credentials are root's; the puller gets this one read-only descriptor of them. */
        auth_fd = open(puller.auth, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        fds[0] = sv[1];
        if (auth_fd >= 0)
                fds[n_fds++] = auth_fd;

        struct iovec iov = { .iov_base = msg, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = CMSG_SPACE(sizeof(int) * n_fds) };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        r = sendmsg(puller.control_fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -errno : 0;
        close(sv[1]);
        if (r < 0) {
                close(sv[0]);
                return r;
        }
        p = calloc(1, sizeof(ImagePull));
        if (!p) {
                close(sv[0]);
                return -ENOMEM;
        }
        *p = (ImagePull) { .fd = sv[0], .memo_fd = -1, .done = done, .userdata = userdata,
                           .reference = streq(verb, "pull") && reference ? strdup(reference) : NULL };
        r = sd_event_add_io(event, &p->source, p->fd, EPOLLIN, on_reply, p);
        if (r < 0) {
                image_pull_free(p);
                return r;
        }
        *ret = p;
        return 0;
}
