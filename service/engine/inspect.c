/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "engine-error.h"
#include "inspect.h"
#include "inspect-zygote.h"
#include "helper-reaper.h"
#include "log.h"
#include "util.h"

void inspection_done(Inspection *i) {
        assert(i);

        for (size_t k = 0; k < i->n_programs; k++) {
                free(i->programs[k].name);
                free(i->programs[k].section);
                free(i->programs[k].type_name);
        }
        free(i->programs);
        if (i->memfd >= 0)
                close(i->memfd);
        *i = (Inspection) { .memfd = -1 };
}

int inspect_spawn(int object_fd, const char *object_name, pid_t *ret_pid, int *ret_sock) {
        assert(object_fd >= 0);
        assert(ret_pid);
        assert(ret_sock);

        return inspect_zygote_spawn(object_fd, false, object_name ?: "object", ret_pid, ret_sock);
}

/* Waits until deadline (CLOCK_MONOTONIC, µs) for fd to be readable: 1 when it is, 0 when the time is up. */
static int wait_readable(int fd, uint64_t deadline) {
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                int n;

                if (now >= deadline)
                        return 0;
                n = poll(&p, 1, (int) ((deadline - now + 999) / 1000));
                if (n != 0 && !(n < 0 && errno == EINTR))
                        return 1; /* readable, or an error the read will tell */
        }
}

/* The spare's exit status once it has ended, waiting until deadline at most, and never in waitpid() (one stopped
 * by another process of its uid would never end): 0 with *ret_status, or -ETIMEDOUT, the spare then handed to
 * the reaper, which kills it. */
static int spare_wait_exit(pid_t pid, uint64_t deadline, int *ret_status) {
        _cleanup_close_ int pidfd = helper_pidfd_open(pid);
        siginfo_t si = {};

        if (pidfd >= 0)
                (void) wait_readable(pidfd, deadline);
        if (waitid(P_PID, (id_t) pid, &si, WEXITED | WNOHANG) == 0 && si.si_pid == pid) {
                *ret_status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status;
                return 0;
        }
        helper_kill(pid);
        return -ETIMEDOUT;
}

static uint64_t answer_deadline(void) {
        return now_usec(CLOCK_MONOTONIC) + (uint64_t) helper_answer_timeout_sec() * 1000000ULL;
}

static int timed_out(EngineError *error) {
        return engine_error_setf(error, BPFD_ERR_HELPER_TIMED_OUT,
                                 "The object inspection helper (bpfd-inspect) did not answer within %u seconds; it "
                                 "was killed and nothing was done (was it stopped?). The call may be made again.",
                                 helper_answer_timeout_sec());
}

int inspect_function_offset(int fd, const char *function, uint64_t *ret) {
        char text[4096];
        _cleanup_close_ int sock = -1;
        size_t size = 0;
        uint64_t deadline;
        pid_t pid;
        int r = 0;

        assert(fd >= 0);
        assert(function);
        assert(ret);

        r = inspect_zygote_spawn(fd, true, function, &pid, &sock);
        if (r < 0)
                return r;
        deadline = answer_deadline();
        while (size < sizeof text - 1) {
                ssize_t n;

                if (!wait_readable(sock, deadline)) {
                        helper_kill(pid);
                        return -ETIMEDOUT;
                }
                n = read(sock, text + size, sizeof text - 1 - size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        r = -errno;
                if (n <= 0)
                        break;
                size += (size_t) n;
        }
        text[size] = 0;
        /* Its answer is all bpfd needs, not its exit status: the reaper ends it, nobody waits for it. */
        helper_kill(pid);
        if (r < 0)
                return r;
        if (strncmp(text, "offset\t", 7) == 0) {
                *ret = strtoull(text + 7, NULL, 10);
                return 0;
        }
        if (strncmp(text, "error\tnotelf", 12) == 0)
                return -ENOEXEC;
        if (strncmp(text, "error\tnotfound", 14) == 0)
                return -ENOENT;
        return -EIO;
}

struct InspectReader {
        sd_event_source *source; /* the socket, then (an answer that is not whole) the spare's exit */
        sd_event_source *timer;  /* helper_answer_timeout_sec() */
        int sock;
        int pidfd;
        pid_t pid;
        GString *text;
        int memfd;
        inspect_callback_t callback;
        void *userdata;
};

InspectReader *inspect_reader_free(InspectReader *r) {
        if (!r)
                return NULL;
        sd_event_source_disable_unref(r->source);
        sd_event_source_disable_unref(r->timer);
        /* The bus thread has no capabilities and must never wait: the reaper kills and reaps the spare (one that
         * answered is ending anyway; one stopped right after answering is ended). */
        if (r->pid > 0)
                helper_kill(r->pid);
        if (r->pidfd >= 0)
                close(r->pidfd);
        if (r->sock >= 0)
                close(r->sock);
        if (r->memfd >= 0)
                close(r->memfd);
        g_string_free(r->text, TRUE);
        free(r);
        return NULL;
}

static char *field_decode(const char *s) {
        char *d = malloc(strlen(s) + 1), *o = d;

        if (!d)
                return NULL;
        while (*s) {
                unsigned v;
                if (s[0] == '%' && s[1] && s[2] && sscanf(s + 1, "%2x", &v) == 1) {
                        *o++ = (char) v;
                        s += 3;
                } else
                        *o++ = *s++;
        }
        *o = 0;
        return d;
}

static int parse(const char *text, Inspection *ins, EngineError *error) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        bool end = false;

        for (char **l = lines; *l && **l; l++) {
                g_auto(GStrv) f = g_strsplit(*l, "\t", -1);
                guint n = g_strv_length(f);

                if (streq(f[0], "error") && n >= 3) {
                        _cleanup_free_ char *msg = field_decode(f[2]);
                        return engine_error_setf(error,
                                                 streq(f[1], "object")     ? BPFD_ERR_INVALID_OBJECT
                                                 : streq(f[1], "argument") ? BPFD_ERR_INVALID_ARGUMENT
                                                                           : BPFD_ERR_FAILED,
                                                 "%s", msg ?: "Out of memory.");
                } else if (streq(f[0], "size") && n == 2)
                        ins->size = strtoull(f[1], NULL, 10);
                else if (streq(f[0], "program") && n == 6) {
                        InspectedProgram *p = reallocarray(ins->programs, ins->n_programs + 1, sizeof *p);
                        if (!p)
                                return -ENOMEM;
                        ins->programs = p;
                        p = &p[ins->n_programs++];
                        *p = (InspectedProgram) { .name = field_decode(f[1]), .section = field_decode(f[2]),
                                                  .prog_type = atoi(f[3]), .expected_attach_type = atoi(f[4]),
                                                  .type_name = field_decode(f[5]) };
                        if (!p->name || !p->section || !p->type_name)
                                return -ENOMEM;
                } else if (streq(f[0], "end"))
                        end = true;
        }
        if (!end)
                return engine_error_setf(error, BPFD_ERR_FAILED, "The object inspection helper gave no answer.");
        return 0;
}

/* What the helper's answer (text, the memfd it sent, its exit status) says: 0 with ins filled, or an error. */
static int conclude(const char *text, int *memfd, int status, Inspection *ins, EngineError *error) {
        int res = parse(text, ins, error);

        if (res >= 0 && *memfd < 0)
                res = engine_error_setf(error, BPFD_ERR_FAILED, "The object inspection helper sent no object.");
        if (res < 0 && !engine_error_is_set(error)) {
                if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
                        engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                          "The object could not be read within 60 seconds.");
                else if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) >= 126))
                        engine_error_setf(error, BPFD_ERR_FAILED,
                                          "The object inspection helper failed (status 0x%x).", (unsigned) status);
                else
                        engine_error_set_errnof(error, -res, "Cannot inspect the object: %m");
        }
        if (res < 0)
                return res;
        ins->memfd = TAKE_FD(*memfd);
        return 0;
}

/* status: the spare's exit status where it was waited for (an answer that is not whole), else 0. */
static void finish(InspectReader *r, int status, bool expired) {
        _cleanup_(engine_error_done) EngineError error = ENGINE_ERROR_NULL;
        Inspection ins = { .memfd = -1 };
        int res;

        r->source = sd_event_source_disable_unref(r->source);
        r->timer = sd_event_source_disable_unref(r->timer);
        /* A whole answer needs no exit status: the helper closed its socket before exiting, and is reaped
         * (inspect_reader_free()) after the callback, not waited for before it. */
        res = expired ? timed_out(&error) : conclude(r->text->str, &r->memfd, status, &ins, &error);
        /* The callback owns the request, which must forget this reader: it is freed right after. */
        if (res >= 0)
                r->callback(&ins, NULL, r->userdata);
        else
                r->callback(NULL, &error, r->userdata);
        inspection_done(&ins);
        inspect_reader_free(r);
}

/* One message of the helper: its text appended to text, a descriptor it sent into *memfd (the first one).
 * Returns the bytes read, 0 at the end, or -errno. */
static ssize_t receive(int fd, int flags, GString *text, int *memfd) {
        char buf[65536], control[CMSG_SPACE(sizeof(int))];
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof control };
        ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | flags);

        if (n < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        int got;
                        memcpy(&got, CMSG_DATA(c), sizeof(int));
                        if (*memfd >= 0)
                                close(got);
                        else
                                *memfd = got;
                }
        if (n > 0)
                g_string_append_len(text, buf, n);
        return n;
}

int inspect_read(int sock, pid_t pid, Inspection *ret, EngineError *error) {
        g_autoptr(GString) text = g_string_new(NULL);
        _cleanup_close_ int memfd = -1;
        ssize_t n;

        assert(sock >= 0);
        assert(pid > 0);
        assert(ret);

        uint64_t deadline = answer_deadline();
        int status = 0;

        *ret = (Inspection) { .memfd = -1 };
        do {
                if (!wait_readable(sock, deadline)) {
                        helper_kill(pid);
                        return timed_out(error);
                }
                n = receive(sock, 0, text, &memfd);
        } while ((n > 0 && text->len < (1U << 22)) || n == -EINTR);
        /* A whole answer needs no exit status, nor does far too much: the reaper ends the spare. Only an answer
         * that is not whole waits for its status (SIGALRM: its own limit), until the same deadline. */
        if (n > 0 || (memfd >= 0 && g_str_has_suffix(text->str, "end\n")))
                helper_kill(pid);
        else if (spare_wait_exit(pid, deadline, &status) < 0)
                return timed_out(error);
        return conclude(text->str, &memfd, status, ret, error);
}

/* The spare ended after an answer that is not whole: its exit status says why (SIGALRM: its own time). */
static int on_spare_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        InspectReader *r = userdata;
        siginfo_t si = {};

        if (waitid(P_PID, (id_t) r->pid, &si, WEXITED | WNOHANG) < 0 || si.si_pid != r->pid)
                return 0; /* not yet */
        r->pid = 0;
        finish(r, si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status, false);
        return 0;
}

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        InspectReader *r = userdata;
        ssize_t n = receive(fd, MSG_DONTWAIT, r->text, &r->memfd);

        if (n == -EAGAIN || n == -EINTR)
                return 0;
        if (n > 0 && r->text->len < (1U << 22))
                return 0;
        /* End of file without a whole answer: its exit status tells why, waited for without blocking (the timer
         * still runs). Far too much, or a whole answer: no need. */
        if (n <= 0 && (r->memfd < 0 || !g_str_has_suffix(r->text->str, "end\n")) && r->pidfd >= 0) {
                r->source = sd_event_source_disable_unref(r->source);
                if (sd_event_add_io(sd_event_source_get_event(s), &r->source, r->pidfd, EPOLLIN, on_spare_exit,
                                    r) >= 0)
                        return 0;
        }
        finish(r, 0, false);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        finish(userdata, 0, true); /* inspect_reader_free() has the spare killed */
        return 0;
}

int inspect_read_async(sd_event *event, int sock, pid_t pid, inspect_callback_t callback, void *userdata,
                       InspectReader **ret) {
        InspectReader *r = calloc(1, sizeof *r);
        int res;

        assert(event);
        assert(sock >= 0);
        assert(pid > 0);
        assert(callback);
        assert(ret);

        if (!r) {
                close(sock);
                return -ENOMEM;
        }
        *r = (InspectReader) { .sock = sock, .pid = pid, .pidfd = helper_pidfd_open(pid), .memfd = -1,
                               .text = g_string_new(NULL), .callback = callback, .userdata = userdata };
        res = sd_event_add_io(event, &r->source, sock, EPOLLIN, on_readable, r);
        if (res >= 0)
                res = sd_event_add_time_relative(event, &r->timer, CLOCK_MONOTONIC,
                                                 (uint64_t) helper_answer_timeout_sec() * 1000000ULL, 0, on_timeout, r);
        if (res < 0) {
                inspect_reader_free(r);
                return res;
        }
        *ret = r;
        return 0;
}
