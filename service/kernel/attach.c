/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

#include "attach.h"
#include "engine-error.h"
#include "inspect.h"

static const struct {
        const char *name;
        enum bpf_attach_type type;
} cgroup_attach_types[] = {
        { "ingress", BPF_CGROUP_INET_INGRESS },
        { "egress", BPF_CGROUP_INET_EGRESS },
        { "sock_create", BPF_CGROUP_INET_SOCK_CREATE },
        { "sock_release", BPF_CGROUP_INET_SOCK_RELEASE },
        { "sock_ops", BPF_CGROUP_SOCK_OPS },
        { "device", BPF_CGROUP_DEVICE },
        { "bind4", BPF_CGROUP_INET4_BIND },
        { "bind6", BPF_CGROUP_INET6_BIND },
        { "connect4", BPF_CGROUP_INET4_CONNECT },
        { "connect6", BPF_CGROUP_INET6_CONNECT },
        { "post_bind4", BPF_CGROUP_INET4_POST_BIND },
        { "post_bind6", BPF_CGROUP_INET6_POST_BIND },
        { "sendmsg4", BPF_CGROUP_UDP4_SENDMSG },
        { "sendmsg6", BPF_CGROUP_UDP6_SENDMSG },
        { "recvmsg4", BPF_CGROUP_UDP4_RECVMSG },
        { "recvmsg6", BPF_CGROUP_UDP6_RECVMSG },
        { "getpeername4", BPF_CGROUP_INET4_GETPEERNAME },
        { "getpeername6", BPF_CGROUP_INET6_GETPEERNAME },
        { "getsockname4", BPF_CGROUP_INET4_GETSOCKNAME },
        { "getsockname6", BPF_CGROUP_INET6_GETSOCKNAME },
        { "sysctl", BPF_CGROUP_SYSCTL },
        { "getsockopt", BPF_CGROUP_GETSOCKOPT },
        { "setsockopt", BPF_CGROUP_SETSOCKOPT },
};

int cgroup_attach_type_from_string(const char *s) {
        assert(s);

        for (size_t i = 0; i < ELEMENTSOF(cgroup_attach_types); i++)
                if (streq(cgroup_attach_types[i].name, s))
                        return cgroup_attach_types[i].type;
        return -EINVAL;
}

const char *cgroup_attach_type_to_string(int type) {
        for (size_t i = 0; i < ELEMENTSOF(cgroup_attach_types); i++)
                if ((int) cgroup_attach_types[i].type == type)
                        return cgroup_attach_types[i].name;
        return NULL;
}

static int read_uint_file(const char *path, unsigned *ret) {
        FILE *f = fopen(path, "re");
        int r = 0;

        if (!f)
                return errno > 0 ? -errno : -EIO;
        if (fscanf(f, "%u", ret) != 1)
                r = -EBADMSG;
        fclose(f);
        return r;
}

static int perf_event_open_raw(struct perf_event_attr *attr, pid_t pid) {
        /* System-wide events are opened on cpu 0; per-process ones on any cpu. */
        int fd = (int) syscall(SYS_perf_event_open, attr, pid > 0 ? pid : -1, pid > 0 ? -1 : 0, -1,
                               PERF_FLAG_FD_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static int link_perf_event(int prog_fd, int pfd, int *ret_link_fd) {
        int fd = bpf_link_create(prog_fd, pfd, BPF_PERF_EVENT, NULL);
        close(pfd);
        if (fd < 0)
                return fd;
        *ret_link_fd = fd;
        return 0;
}

static int attach_tracepoint(int prog_fd, const char *tracepoint, int *ret_link_fd, EngineError *error) {
        struct perf_event_attr attr = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof attr, .sample_period = 1,
                                        .wakeup_events = 1 };
        char path[512];
        unsigned id;
        int pfd, r;

        assert(prog_fd >= 0);
        assert(tracepoint);
        assert(ret_link_fd);

        snprintf(path, sizeof path, "/sys/kernel/tracing/events/%s/id", tracepoint);
        r = read_uint_file(path, &id);
        if (r == -ENOENT) {
                snprintf(path, sizeof path, "/sys/kernel/debug/tracing/events/%s/id", tracepoint);
                r = read_uint_file(path, &id);
        }
        if (r == -ENOENT)
                return engine_error_setf(error, BPFD_ERR_ATTACH_TARGET_NOT_FOUND,
                                         "There is no tracepoint '%s' on this system (see /sys/kernel/tracing/events).",
                                         tracepoint);
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot read the id of tracepoint '%s': %m", tracepoint);
        attr.config = id;
        pfd = perf_event_open_raw(&attr, -1);
        if (pfd < 0)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED, "Cannot open tracepoint '%s': %s",
                                         tracepoint, strerror(-pfd));
        r = link_perf_event(prog_fd, pfd, ret_link_fd);
        /* The two refusals a caller meets, in words (the errno text stays last, as bpfctl reads it). */
        if (r == -EEXIST)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                         "The program is attached to tracepoint '%s' already (the kernel takes a "
                                         "program once per tracepoint; load it again for a second attachment): %s",
                                         tracepoint, strerror(-r));
        if (r == -E2BIG)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                         "Tracepoint '%s' has as many programs as the kernel allows (64): %s",
                                         tracepoint, strerror(-r));
        if (r < 0)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                         "The kernel refused to attach the program to tracepoint '%s': %s",
                                         tracepoint, strerror(-r));
        return 0;
}

int tracepoint_wait_released(const char *tracepoint, uint32_t prog_id) {
        struct perf_event_attr attr = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof attr, .sample_period = 1 };
        struct {
                struct perf_event_query_bpf q;
                uint32_t ids[64];
        } query;
        _cleanup_close_ int pfd = -1;
        char path[512];
        unsigned id;
        int r;

        assert(tracepoint);

        snprintf(path, sizeof path, "/sys/kernel/tracing/events/%s/id", tracepoint);
        r = read_uint_file(path, &id);
        if (r == -ENOENT) {
                snprintf(path, sizeof path, "/sys/kernel/debug/tracing/events/%s/id", tracepoint);
                r = read_uint_file(path, &id);
        }
        if (r < 0)
                return r;
        attr.config = id;
        pfd = perf_event_open_raw(&attr, -1);
        if (pfd < 0)
                return pfd;
        /* The kernel frees an unpinned link after an RCU grace period and in a work item; only then is the
         * program out of the tracepoint's array (64 programs at most). Bounded: 5 s. */
        for (unsigned i = 0; i < 500; i++) {
                bool found = false;

                query.q = (struct perf_event_query_bpf) { .ids_len = ELEMENTSOF(query.ids) };
                if (ioctl(pfd, PERF_EVENT_IOC_QUERY_BPF, &query.q) < 0)
                        return -errno;
                for (uint32_t k = 0; k < MIN(query.q.prog_cnt, (uint32_t) ELEMENTSOF(query.ids)); k++)
                        found = found || query.q.ids[k] == prog_id;
                if (!found)
                        return 0;
                (void) usleep(10 * 1000);
        }
        return -ETIMEDOUT;
}

/* kprobe and uprobe events come from their PMUs in sysfs; the retprobe flag is a bit whose position the PMU
 * describes in its format directory. */
static int open_probe_event(const char *pmu, bool retprobe, uint64_t config1, uint64_t config2, pid_t pid) {
        struct perf_event_attr attr = { .size = sizeof attr };
        char path[128];
        unsigned type, bit = 0;
        int r;

        snprintf(path, sizeof path, "/sys/bus/event_source/devices/%s/type", pmu);
        r = read_uint_file(path, &type);
        if (r < 0)
                return -EOPNOTSUPP;
        if (retprobe) {
                FILE *f;
                snprintf(path, sizeof path, "/sys/bus/event_source/devices/%s/format/retprobe", pmu);
                f = fopen(path, "re");
                if (!f || fscanf(f, "config:%u", &bit) != 1)
                        bit = 0;
                if (f)
                        fclose(f);
                attr.config |= 1ULL << bit;
        }
        attr.type = type;
        attr.config1 = config1;
        attr.config2 = config2;
        return perf_event_open_raw(&attr, pid);
}

static bool kallsyms_has(const char *function) {
        FILE *f = fopen("/proc/kallsyms", "re");
        char line[512];
        bool found = false;

        if (!f)
                return true; /* cannot tell: do not claim it is missing */
        while (!found && fgets(line, sizeof line, f)) {
                char name[256];
                if (sscanf(line, "%*s %*s %255s", name) == 1 && streq(name, function))
                        found = true;
        }
        fclose(f);
        return found;
}

static int attach_kprobe(int prog_fd, const AttachTarget *t, int *ret_link_fd, EngineError *error) {
        int pfd, r;

        assert(t);
        assert(ret_link_fd);

        pfd = open_probe_event("kprobe", t->kind == KIND_KRETPROBE, (uint64_t) (uintptr_t) t->function,
                               t->has_offset ? t->offset : 0, -1);
        if (pfd == -EOPNOTSUPP)
                return engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED, "This kernel has no kprobe event source.");
        if (pfd < 0) {
                if (!kallsyms_has(t->function))
                        return engine_error_setf(error, BPFD_ERR_ATTACH_TARGET_NOT_FOUND,
                                                 "There is no kernel function '%s' (see /proc/kallsyms).", t->function);
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED, "Cannot create a %s on '%s': %s",
                                         kind_to_string(t->kind), t->function, strerror(-pfd));
        }
        r = link_perf_event(prog_fd, pfd, ret_link_fd);
        if (r < 0)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                         "The kernel refused to attach the program to the %s: %s",
                                         kind_to_string(t->kind), strerror(-r));
        return 0;
}

/* fentry/fexit programs are bound to their function when loaded; attaching creates the trampoline link. */
static int attach_tracing(int prog_fd, const AttachTarget *t, int *ret_link_fd, EngineError *error) {
        int fd = bpf_raw_tracepoint_open(NULL, prog_fd);

        assert(t);
        assert(ret_link_fd);

        if (fd < 0)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED, "The kernel refused to attach the %s program to '%s': %s",
                                         kind_to_string(t->kind), strempty(t->function), strerror(-fd));
        *ret_link_fd = fd;
        return 0;
}

static int attach_uprobe(int prog_fd, const AttachTarget *t, const Caller *caller, int *ret_link_fd,
                         EngineError *error) {
        char fd_path[64];
        uint64_t offset = 0;
        struct stat st;
        int fd, pfd, r;

        assert(t);
        assert(ret_link_fd);

        /* Opened as the caller before polkit was asked (attach_target_resolve()): that file, nothing else. */
        if (!t->resolved)
                return engine_error_setf(error, BPFD_ERR_FAILED, "The uprobe target '%s' was not resolved.", t->target);
        fd = t->resolved->fd;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "The uprobe target '%s' is not a regular file.", t->target);
        /* The binary is the caller's: bpfd-inspect finds the function in it, unprivileged. */
        if (t->function) {
                r = inspect_function_offset(fd, t->function, &offset);
                if (r == -ENOEXEC)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "The uprobe target '%s' is not an ELF file.", t->target);
                if (r == -ENOENT)
                        return engine_error_setf(error, BPFD_ERR_ATTACH_TARGET_NOT_FOUND,
                                                 "There is no function '%s' in '%s'.", t->function, t->target);
                if (r == -ETIMEDOUT)
                        return engine_error_setf(error, BPFD_ERR_HELPER_TIMED_OUT,
                                                 "Cannot look up '%s' in '%s': the inspection helper (bpfd-inspect) "
                                                 "did not answer in time; it was killed. The call may be made again.",
                                                 t->function, t->target);
                if (r < 0)
                        return engine_error_set_errnof(error, r, "Cannot look up '%s' in '%s': %m", t->function,
                                                     t->target);
        }
        if (t->has_offset)
                offset += t->offset;
        if (offset >= (uint64_t) st.st_size)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "The uprobe offset 0x%" PRIx64 " lies beyond the end of '%s'.", offset,
                                         t->target);

        /* The kernel resolves the path itself; naming our descriptor pins it to the file the caller could open. */
        snprintf(fd_path, sizeof fd_path, "/proc/self/fd/%d", fd);
        pfd = open_probe_event("uprobe", t->kind == KIND_URETPROBE, (uint64_t) (uintptr_t) fd_path, offset,
                               t->has_pid ? t->pid : -1);
        if (pfd == -EOPNOTSUPP)
                return engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED, "This kernel has no uprobe event source.");
        if (pfd == -ESRCH)
                return engine_error_setf(error, BPFD_ERR_ATTACH_TARGET_NOT_FOUND, "There is no process %" PRIi32 ".",
                                         t->pid);
        if (pfd < 0)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                         "Cannot create a uprobe on '%s' at offset 0x%" PRIx64 ": %s", t->target,
                                         offset, strerror(-pfd));
        r = link_perf_event(prog_fd, pfd, ret_link_fd);
        if (r < 0)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                         "The kernel refused to attach the program to the uprobe: %s", strerror(-r));
        return 0;
}

static int attach_cgroup(int prog_fd, int expected_attach_type, const AttachTarget *t, const Caller *caller,
                         int *ret_link_fd, EngineError *error) {
        int type = expected_attach_type, fd, r;

        assert(t);
        assert(ret_link_fd);

        if (t->attach_type) {
                type = cgroup_attach_type_from_string(t->attach_type);
                if (type < 0)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "Unknown cgroup attach type '%s' (e.g. ingress, egress, sock_create).",
                                                 t->attach_type);
        }
        /* The directory the caller opened before polkit was asked (attach_target_resolve()). */
        if (!t->resolved)
                return engine_error_setf(error, BPFD_ERR_FAILED, "The cgroup '%s' was not resolved.", t->cgroup);
        fd = t->resolved->fd;
        r = bpf_link_create(prog_fd, fd, type, NULL);
        if (r < 0)
                return engine_error_setf(error, BPFD_ERR_ATTACH_FAILED,
                                         "The kernel refused to attach the program to cgroup '%s' (%s): %s", t->cgroup,
                                         cgroup_attach_type_to_string(type) ?: "unknown attach type", strerror(-r));
        *ret_link_fd = r;
        return 0;
}

int attach_program(int prog_fd, int expected_attach_type, const AttachTarget *target, const Caller *caller,
                   int *ret_link_fd, EngineError *error) {
        assert(prog_fd >= 0);
        assert(target);
        assert(caller);
        assert(ret_link_fd);

        switch (target->kind) {
        case KIND_TRACEPOINT:
                return attach_tracepoint(prog_fd, target->tracepoint, ret_link_fd, error);
        case KIND_UPROBE:
        case KIND_URETPROBE:
                return attach_uprobe(prog_fd, target, caller, ret_link_fd, error);
        case KIND_CGROUP:
                return attach_cgroup(prog_fd, expected_attach_type, target, caller, ret_link_fd, error);
        case KIND_KPROBE:
        case KIND_KRETPROBE:
                return attach_kprobe(prog_fd, target, ret_link_fd, error);
        case KIND_FENTRY:
        case KIND_FEXIT:
                return attach_tracing(prog_fd, target, ret_link_fd, error);
        default:
                return engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED,
                                         "Attaching '%s' programs is not supported by this version of bpfd.",
                                         kind_to_string(target->kind));
        }
}
