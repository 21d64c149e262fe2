/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bpfd-image-bridge: runs bpfd-image for bpfd across a socket, as bpfd-image@.service.
 *
 * bpfd.service may not use Internet sockets, so under systemd the image puller runs in a service of its
 * own: systemd listens on bpfd-image.socket (root only) and starts bpfd-image@.service for each connection,
 * this program with the connection as standard input and output. It reads the puller's arguments (each
 * ended by a NUL, then an empty one), runs bpfd-image with them, and answers "EXIT OUTLEN ERRLEN\n" and
 * the puller's output and error bytes (EXIT 256: killed by a signal). See image-run.c for bpfd's side. */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"

#define MAX_REQUEST 65536
#define MAX_ARGS 32
#define MAX_OUTPUT (16U * 1024U * 1024U)

typedef struct Buffer {
        char *data;
        size_t size;
} Buffer;

static int append(Buffer *b, const char *p, size_t n) {
        char *d;

        if (b->size + n > MAX_OUTPUT)
                return -EFBIG;
        d = realloc(b->data, b->size + n + 1);
        if (!d)
                return -ENOMEM;
        memcpy(d + b->size, p, n);
        b->data = d;
        b->size += n;
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

static int fail(const char *message) {
        /* An answer bpfd understands: the puller's "error: CLASS: message" with the class "failed". */
        char reply[512];
        int n = snprintf(reply, sizeof reply, "error: failed: %s\n", message);
        char header[64];
        int h = snprintf(header, sizeof header, "1 0 %d\n", n);

        (void) write_all(STDOUT_FILENO, header, h);
        (void) write_all(STDOUT_FILENO, reply, n);
        return 1;
}

int main(int argc, char *argv[]) {
        const char *helper = getenv("BPFD_IMAGE_HELPER") ?: BPFD_IMAGE_HELPER;
        char request[MAX_REQUEST + 1], *args[MAX_ARGS + 2], header[64];
        int outp[2], errp[2], status, n_args = 0, h;
        Buffer out = {}, err = {};
        size_t size = 0;
        pid_t pid;

        /* The request: read up to the empty argument (or the end). */
        for (;;) {
                ssize_t k = read(STDIN_FILENO, request + size, MAX_REQUEST - size);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return fail("cannot read the request");
                size += k;
                if (k == 0 || (size >= 2 && request[size - 1] == '\0' && request[size - 2] == '\0') ||
                    (size == 1 && request[0] == '\0'))
                        break;
                if (size == MAX_REQUEST)
                        return fail("the request is too long");
        }
        if (size == 0 || request[size - 1] != '\0')
                return fail("the request is not a list of arguments");

        args[n_args++] = (char *) helper;
        for (size_t i = 0; i < size && request[i] != '\0'; i += strlen(request + i) + 1) {
                if (n_args > MAX_ARGS)
                        return fail("too many arguments");
                args[n_args++] = request + i;
        }
        args[n_args] = NULL;

        if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
                return fail("cannot make pipes");
        pid = fork();
        if (pid < 0)
                return fail("cannot fork");
        if (pid == 0) {
                if (dup2(outp[1], STDOUT_FILENO) < 0 || dup2(errp[1], STDERR_FILENO) < 0 ||
                    dup2(open("/dev/null", O_RDONLY | O_CLOEXEC), STDIN_FILENO) < 0)
                        _exit(127);
                execv(helper, args);
                _exit(127);
        }
        close(outp[1]);
        close(errp[1]);

        /* Both streams at once, so that neither fills its pipe while the other is read. */
        struct pollfd fds[2] = { { .fd = outp[0], .events = POLLIN }, { .fd = errp[0], .events = POLLIN } };
        while (fds[0].fd >= 0 || fds[1].fd >= 0) {
                if (poll(fds, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (int i = 0; i < 2; i++) {
                        char buf[4096];
                        ssize_t k;

                        if (fds[i].fd < 0 || !fds[i].revents)
                                continue;
                        k = read(fds[i].fd, buf, sizeof buf);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0 || append(i == 0 ? &out : &err, buf, k) < 0) {
                                close(fds[i].fd);
                                fds[i].fd = -1;
                        }
                }
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return fail("cannot wait for bpfd-image");

        h = snprintf(header, sizeof header, "%d %zu %zu\n", WIFEXITED(status) ? WEXITSTATUS(status) : 256,
                     out.size, err.size);
        if (write_all(STDOUT_FILENO, header, h) < 0 || write_all(STDOUT_FILENO, out.data, out.size) < 0 ||
            write_all(STDOUT_FILENO, err.data, err.size) < 0)
                return 1;
        return 0;
}
