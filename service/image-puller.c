/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <glib.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "image-puller.h"
#include "log.h"
#include "util.h"

static struct {
        char *cache, *config, *auth;
        char cache_max[32];
        uid_t uid;
        gid_t gid;
} puller;

int image_puller_configure(const char *cache, const char *config, const char *auth, uint64_t cache_max,
                           uid_t uid, gid_t gid) {
        puller.cache = cache ? strdup(cache) : NULL;
        puller.config = config ? strdup(config) : NULL;
        puller.auth = auth ? strdup(auth) : NULL;
        if (cache_max)
                snprintf(puller.cache_max, sizeof puller.cache_max, "%" PRIu64, cache_max);
        puller.uid = uid;
        puller.gid = gid;
        return (cache && !puller.cache) || (config && !puller.config) || (auth && !puller.auth) ? -ENOMEM : 0;
}

struct ImagePull {
        pid_t pid;
        int pidfd, out_fd, err_fd;
        sd_event_source *pid_source, *out_source, *err_source;
        GString *out, *err;
        bool exited;
        int status;
        ImagePullDone done;
        void *userdata;
};

ImagePull *image_pull_free(ImagePull *p) {
        if (!p)
                return NULL;
        sd_event_source_disable_unref(p->pid_source);
        sd_event_source_disable_unref(p->out_source);
        sd_event_source_disable_unref(p->err_source);
        if (p->pid > 0 && !p->exited) {
                (void) kill(p->pid, SIGKILL);
                (void) waitpid(p->pid, NULL, 0);
        }
        if (p->pidfd >= 0)
                close(p->pidfd);
        if (p->out_fd >= 0)
                close(p->out_fd);
        if (p->err_fd >= 0)
                close(p->err_fd);
        g_string_free(p->out, TRUE);
        g_string_free(p->err, TRUE);
        free(p);
        return NULL;
}

const char *image_pull_value(char **lines, const char *key) {
        size_t n = strlen(key);
        for (char **l = lines; l && *l; l++)
                if (strncmp(*l, key, n) == 0 && ((*l)[n] == ' ' || (*l)[n] == 0))
                        return (*l)[n] ? *l + n + 1 : "";
        return NULL;
}

/* The puller's exit status per error class (see bpfd-image.c): org.bpfd.Error.<class>. */
static const char *error_name(int status) {
        static const char *const names[] = {
                [2] = "org.bpfd.Error.InvalidArgument",     [3] = "org.bpfd.Error.RegistryUnreachable",
                [4] = "org.bpfd.Error.ImageNotFound",       [5] = "org.bpfd.Error.AuthenticationFailed",
                [6] = "org.bpfd.Error.DigestMismatch",      [7] = "org.bpfd.Error.NoSignature",
                [8] = "org.bpfd.Error.UnknownSigner",       [9] = "org.bpfd.Error.SignatureDigestMismatch",
                [10] = "org.bpfd.Error.ImageNotCached",     [11] = "org.bpfd.Error.InvalidImage",
        };
        return status > 0 && status < (int) ELEMENTSOF(names) && names[status] ? names[status] : "org.bpfd.Error.Failed";
}

static void maybe_finish(ImagePull *p) {
        g_auto(GStrv) lines = NULL;
        ImagePullDone done = p->done;

        if (!p->exited || p->out_fd >= 0 || p->err_fd >= 0 || !done)
                return;
        p->done = NULL;
        if (!WIFEXITED(p->status) || WEXITSTATUS(p->status) != 0) {
                /* "error: CLASS: message" */
                const char *msg = p->err->str, *colon = strstr(msg, ": ");
                colon = colon ? strstr(colon + 2, ": ") : NULL;
                g_strchomp(p->err->str);
                done(p, error_name(WIFEXITED(p->status) ? WEXITSTATUS(p->status) : 1),
                     colon ? colon + 2 : *msg ? msg : "the image helper failed", NULL, p->userdata);
                return;
        }
        lines = g_strsplit(p->out->str, "\n", -1);
        done(p, NULL, NULL, lines, p->userdata);
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ImagePull *p = userdata;
        bool is_out = fd == p->out_fd;
        GString *buf = is_out ? p->out : p->err;
        char chunk[4096];
        ssize_t n = read(fd, chunk, sizeof chunk);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n > 0 && buf->len < 1024 * 1024) {
                g_string_append_len(buf, chunk, n);
                return 0;
        }
        if (n > 0)
                return 0;   /* more than anyone needs: dropped */
        if (is_out) {
                p->out_source = sd_event_source_disable_unref(p->out_source);
                close(p->out_fd);
                p->out_fd = -1;
        } else {
                p->err_source = sd_event_source_disable_unref(p->err_source);
                close(p->err_fd);
                p->err_fd = -1;
        }
        maybe_finish(p);
        return 0;
}

static int on_exit_fd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ImagePull *p = userdata;

        if (waitpid(p->pid, &p->status, WNOHANG) <= 0)
                return 0;
        p->exited = true;
        p->pid_source = sd_event_source_disable_unref(p->pid_source);
        maybe_finish(p);
        return 0;
}

/* In the child: nothing of the daemon's privileges survives the exec. */
__attribute__((noreturn)) static void child_exec(const char *const *argv, int out, int err) {
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

        if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
                _exit(127);
        /* Only the three standard descriptors. */
        if (syscall(SYS_close_range, 3U, ~0U, 0) < 0)
                for (int fd = 3; fd < 1024; fd++)
                        (void) close(fd);
        /* The bounding set first (while CAP_SETPCAP may still be there), then the ids. */
        for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
                (void) prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
        if (puller.uid != 0 || puller.gid != 0) {
                if (setgroups(0, NULL) < 0 && errno != EPERM)
                        _exit(126);
                if (setresgid(puller.gid, puller.gid, puller.gid) < 0 || setresuid(puller.uid, puller.uid, puller.uid) < 0)
                        _exit(126);
        }
        (void) prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        execv(argv[0], (char **) argv);
        _exit(127);
}

int image_pull_start(sd_event *event, const char *verb, const char *reference, int policy, ImagePullDone done,
                     void *userdata, ImagePull **ret) {
        static const char *const policies[] = { "Always", "IfNotPresent", "Never" };
        const char *argv[20] = { getenv("BPFD_IMAGE_HELPER") ?: BPFD_IMAGE_HELPER, verb };
        int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, r;
        ImagePull *p;
        size_t n = 2;

        if (reference)
                argv[n++] = reference;
        if (policy >= 0 && policy < 3)
                argv[n++] = "--policy", argv[n++] = policies[policy];
        if (puller.cache)
                argv[n++] = "--cache", argv[n++] = puller.cache;
        if (*puller.cache_max)
                argv[n++] = "--cache-max", argv[n++] = puller.cache_max;
        if (puller.config)
                argv[n++] = "--config", argv[n++] = puller.config;
        if (puller.auth)
                argv[n++] = "--auth", argv[n++] = puller.auth;

        p = calloc(1, sizeof(ImagePull));
        if (!p)
                return -ENOMEM;
        *p = (ImagePull) { .pidfd = -1, .out_fd = -1, .err_fd = -1, .out = g_string_new(NULL),
                           .err = g_string_new(NULL), .done = done, .userdata = userdata };
        if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        p->pid = fork();
        if (p->pid == 0)
                child_exec(argv, outp[1], errp[1]);
        if (p->pid < 0) {
                r = -errno;
                goto fail;
        }
        close(outp[1]);
        close(errp[1]);
        outp[1] = errp[1] = -1;
        p->out_fd = outp[0];
        p->err_fd = errp[0];
        p->pidfd = (int) syscall(SYS_pidfd_open, p->pid, 0);
        if (p->pidfd < 0) {
                r = -errno;
                goto fail;
        }
        (void) fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
        (void) fcntl(p->err_fd, F_SETFL, O_NONBLOCK);
        r = sd_event_add_io(event, &p->out_source, p->out_fd, EPOLLIN, on_output, p);
        if (r >= 0)
                r = sd_event_add_io(event, &p->err_source, p->err_fd, EPOLLIN, on_output, p);
        if (r >= 0)
                r = sd_event_add_io(event, &p->pid_source, p->pidfd, EPOLLIN, on_exit_fd, p);
        if (r < 0)
                goto fail;
        *ret = p;
        return 0;
fail:
        for (int i = 0; i < 2; i++) {
                if (outp[i] >= 0 && outp[i] != p->out_fd)
                        close(outp[i]);
                if (errp[i] >= 0 && errp[i] != p->err_fd)
                        close(errp[i]);
        }
        image_pull_free(p);
        return r;
}
