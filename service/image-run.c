/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Running bpfd-image, the image puller: through its socket-activated service where there is one, as a
 * child of bpfd otherwise. The bridge protocol (see bpfd-image-bridge.c): the arguments after ARGV[0],
 * each ended by a NUL, then an empty one; the reply "EXIT OUTLEN ERRLEN\n", then the output and the error
 * bytes. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "image-run.h"
#include "util.h"

static int read_all(int fd, GString *s, size_t max) {
        char buf[4096];
        ssize_t n;

        while ((n = read(fd, buf, sizeof buf)) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (s->len + n > max)
                        return -EFBIG;
                g_string_append_len(s, buf, n);
        }
        return 0;
}

static int write_all(int fd, const void *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p = (const char *) p + k;
                n -= k;
        }
        return 0;
}

/* -ENOENT/-ECONNREFUSED: there is no bridge; bpfd runs the helper itself. */
static int run_through_bridge(const char *const *argv, GString *out, GString *err, int *ret_exit_status) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *path = getenv("BPFD_IMAGE_SOCKET") ?: BPFD_IMAGE_SOCKET_PATH;
        g_autoptr(GString) request = g_string_new(NULL), reply = g_string_new(NULL);
        unsigned long code, out_len, err_len;
        _cleanup_close_ int fd = -EBADF;
        const char *nl;
        int r, consumed;

        if (strlen(path) >= sizeof sa.sun_path)
                return -EINVAL;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;

        for (size_t i = 1; argv[i]; i++)
                g_string_append_len(request, argv[i], strlen(argv[i]) + 1);
        g_string_append_c(request, '\0');
        r = write_all(fd, request->str, request->len);
        if (r < 0)
                return r == -ENOENT || r == -ECONNREFUSED ? -EIO : r;
        (void) shutdown(fd, SHUT_WR);

        r = read_all(fd, reply, 2 * IMAGE_RUN_MAX_OUTPUT + 64);
        if (r < 0)
                return r == -ENOENT || r == -ECONNREFUSED ? -EIO : r;
        nl = memchr(reply->str, '\n', MIN(reply->len, (gsize) 64));
        if (!nl || sscanf(reply->str, "%lu %lu %lu%n", &code, &out_len, &err_len, &consumed) != 3 ||
            reply->str + consumed != nl || code > 255 + 1 ||
            (size_t) (nl + 1 - reply->str) + out_len + err_len != reply->len)
                return -EBADMSG;
        g_string_append_len(out, nl + 1, out_len);
        g_string_append_len(err, nl + 1 + out_len, err_len);
        *ret_exit_status = code == 256 ? -1 : (int) code;
        return 0;
}

static int run_as_child(const char *const *argv, GString *out, GString *err, int *ret_exit_status) {
        int outp[2], errp[2], status;
        pid_t pid;

        if (pipe2(outp, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(errp, O_CLOEXEC) < 0) {
                int r = -errno;
                close(outp[0]);
                close(outp[1]);
                return r;
        }
        pid = fork();
        if (pid == 0) {
                /* No capabilities at all for the network-facing side. */
                (void) caps_reduce_thread(NULL, 0);
                (void) prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                if (dup2(outp[1], 1) < 0 || dup2(errp[1], 2) < 0)
                        _exit(127);
                execv(argv[0], (char **) argv);
                _exit(127);
        }
        close(outp[1]);
        close(errp[1]);
        if (pid > 0) {
                (void) read_all(outp[0], out, IMAGE_RUN_MAX_OUTPUT);
                (void) read_all(errp[0], err, IMAGE_RUN_MAX_OUTPUT);
        }
        close(outp[0]);
        close(errp[0]);
        if (pid < 0)
                return -errno;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        *ret_exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return 0;
}

int image_run(const char *const *argv, GString *out, GString *err, int *ret_exit_status) {
        int r;

        r = run_through_bridge(argv, out, err, ret_exit_status);
        if (r != -ENOENT && r != -ECONNREFUSED)
                return r;
        return run_as_child(argv, out, err, ret_exit_status);
}
