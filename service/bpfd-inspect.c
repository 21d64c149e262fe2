/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bpfd-inspect: reads an untrusted BPF ELF object and says what it holds, so that the privileged worker never
 * parses bytes nobody has authorized yet.
 *
 * bpfd starts it through sandbox_enter(): no capabilities, an empty bounding set, no_new_privs, a non-root
 * uid, only these descriptors: 0 the object (any readable descriptor), 1 a socket back to bpfd, 2 bpfd's log.
 * It copies the bytes into a sealed memfd, closes the object, allows itself only the system calls parsing
 * needs (seccomp), parses with libbpf, and writes to the socket: the memfd (with the first byte), then lines
 *     size N
 *     program NAME SECTION PROG_TYPE EXPECTED_ATTACH_TYPE PROG_TYPE_NAME
 *     end
 * or "error CODE MESSAGE" (CODE: argument, object).
 *
 * "bpfd-inspect --symbol FUNCTION" instead finds FUNCTION in the ELF binary on 0 (a uprobe's target, also the
 * caller's) and answers "offset N", or "error notelf|notfound MESSAGE". Fields are separated by tabs; bytes below 0x21, '%' and
 * 0x7f are written as %XX. The worker loads exactly the memfd's bytes once polkit said yes. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-send.h"
#include "bpfd-inspect-zygote.h"
#include "elf-symbol.h"
#include "inspect-describe.h"

#define OBJECT_SIZE_MAX (64U * 1024U * 1024U)
#define TIME_LIMIT_SEC 60
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static int send_all(int memfd) {
        char control[CMSG_SPACE(sizeof(int))] = {};
        const char *out = inspect_text();
        size_t out_len = strlen(out);
        struct iovec iov = { .iov_base = (void *) out, .iov_len = out_len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        size_t done = 0;

        msghdr_attach_fd(&mh, control, memfd);
        while (done < out_len) {
                ssize_t n;
                iov = (struct iovec) { .iov_base = (void *) (out + done), .iov_len = out_len - done };
                n = sendmsg(STDOUT_FILENO, &mh, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                done += (size_t) n;
                mh.msg_control = NULL; /* the descriptor goes with the first bytes only */
                mh.msg_controllen = 0;
        }
        close(STDOUT_FILENO); /* the end of the answer: bpfd need not wait until this process is torn down */
        return 0;
}

static int fail(const char *code, const char *fmt, ...) {
        char msg[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        inspect_text_error(code, msg);
        (void) send_all(-1);
        return 1;
}

/* The object may be a pipe or a socket as well as a file; a caller's non-blocking descriptor is waited on
 * rather than changed (its flags are shared with the caller). A file is read whole, from its start, without
 * moving its offset: the descriptor may be shared (an image's sealed memfd serves every load from it). */
static int copy_to_memfd(int in, int memfd, size_t *ret_size) {
        static char buf[1 << 16];
        size_t total = 0;
        struct stat st;
        bool whole_file = fstat(in, &st) == 0 && S_ISREG(st.st_mode);

        for (;;) {
                ssize_t n = whole_file ? pread(in, buf, sizeof buf, (off_t) total) : read(in, buf, sizeof buf);
                if (n < 0 && errno == EAGAIN) {
                        struct pollfd p = { .fd = in, .events = POLLIN };
                        (void) poll(&p, 1, -1);
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                total += (size_t) n;
                if (total > OBJECT_SIZE_MAX)
                        return -EFBIG;
                for (ssize_t w = 0; w < n;) {
                        ssize_t k = write(memfd, buf + w, (size_t) (n - w));
                        if (k < 0)
                                return -errno;
                        w += k;
                }
        }
        *ret_size = total;
        return 0;
}

/* After restrict_syscalls(), the process can only compute on what it has, allocate memory and write to bpfd. */
static const int parse_syscalls[] = {
        SCMP_SYS(read),        SCMP_SYS(write),      SCMP_SYS(sendmsg),   SCMP_SYS(close),
        SCMP_SYS(fstat),       SCMP_SYS(newfstatat), SCMP_SYS(lseek),     SCMP_SYS(pread64),     SCMP_SYS(mmap),
        SCMP_SYS(munmap),      SCMP_SYS(mremap),     SCMP_SYS(brk),       SCMP_SYS(madvise),
        SCMP_SYS(futex),       SCMP_SYS(exit),       SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn),
        SCMP_SYS(rt_sigprocmask), SCMP_SYS(getpid),  SCMP_SYS(gettid),    SCMP_SYS(getrandom),
        SCMP_SYS(clock_gettime), SCMP_SYS(uname), SCMP_SYS(memfd_create), SCMP_SYS(fcntl),
        SCMP_SYS(dup), SCMP_SYS(dup3), SCMP_SYS(poll), SCMP_SYS(ppoll),
        /* a zygote's spare installs the filter before its request comes: it receives it, and sets the alarm */
        SCMP_SYS(recvmsg), SCMP_SYS(alarm),
};

/* The filter compiled once (by the zygote, for all its spares), or empty: then libseccomp compiles it. */
static struct sock_fprog parse_filter;
static bool filter_installed;

static scmp_filter_ctx parse_filter_new(void) {
#if defined(__SANITIZE_ADDRESS__)
        /* A sanitized build's runtime (ASan, and LeakSanitizer at exit) makes system calls this list does not
         * know: there the filter logs them instead of refusing, so that the sanitizers can run. Every normal
         * build refuses. */
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_LOG);
#else
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
#endif
        int r = ctx ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < sizeof parse_syscalls / sizeof parse_syscalls[0]; i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, parse_syscalls[i], 0);
        if (r < 0 && ctx) {
                seccomp_release(ctx);
                ctx = NULL;
        }
        return ctx;
}

/* Zygote: compiles the spares' filter once, into parse_filter. */
static int parse_filter_prepare(void) {
        scmp_filter_ctx ctx = parse_filter_new();
        int fd, r = ctx ? 0 : -ENOMEM;
        off_t size = 0;

        fd = r >= 0 ? memfd_create("bpfd-filter", MFD_CLOEXEC) : -1;
        if (r >= 0 && fd < 0)
                r = errno > 0 ? -errno : -EIO;
        if (r >= 0)
                r = seccomp_export_bpf(ctx, fd);
        if (r >= 0 && (size = lseek(fd, 0, SEEK_END)) <= 0)
                r = -EIO;
        if (r >= 0 && !(parse_filter.filter = malloc((size_t) size)))
                r = -ENOMEM;
        if (r >= 0 && pread(fd, parse_filter.filter, (size_t) size, 0) != size)
                r = -EIO;
        if (r >= 0)
                parse_filter.len = (unsigned short) ((size_t) size / sizeof(struct sock_filter));
        if (fd >= 0)
                close(fd);
        seccomp_release(ctx);
        return r;
}

static int restrict_syscalls(void) {
        scmp_filter_ctx ctx;
        int r;

        if (filter_installed) /* a spare's, before its request came */
                return 0;
        /* prctl(), not seccomp(): bpfd.service's own filter refuses the seccomp() system call (libseccomp
         * falls back to prctl() the same way). */
        if (parse_filter.len > 0)
                r = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                                    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &parse_filter, 0, 0) < 0
                            ? -errno
                            : 0;
        else {
                ctx = parse_filter_new();
                if (!ctx)
                        return -ENOMEM;
                r = seccomp_load(ctx);
                seccomp_release(ctx);
        }
        filter_installed = r >= 0;
        return r;
}

static int find_symbol(const char *function) {
        uint64_t offset;
        int r;

        if (restrict_syscalls() < 0)
                return fail("failed", "Cannot install the system call filter.");
        r = elf_function_offset(STDIN_FILENO, function, &offset);
        if (r == -ENOEXEC)
                return fail("notelf", "not an ELF file");
        if (r < 0)
                return fail("notfound", "no function %s", function);
        inspect_text_offset(offset);
        return send_all(-1) < 0 ? 1 : 0;
}

/* One request: an object's description (or, with symbol, a function's offset), on descriptors 0 and 1. */
static int serve_one(bool symbol, const char *arg) {
        size_t size = 0;
        void *data;
        int memfd, flags, r;

        alarm(TIME_LIMIT_SEC); /* a descriptor that never ends is not waited on forever */
        if (symbol)
                return find_symbol(arg);

        flags = fcntl(STDIN_FILENO, F_GETFL);
        if (flags < 0 || (flags & O_PATH) || (flags & O_ACCMODE) == O_WRONLY)
                return fail("argument", "The object descriptor is not open for reading.");
        memfd = memfd_create("bpfd-object", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (memfd < 0)
                return fail("failed", "Cannot create a memfd: %s", strerror(errno));
        /* From here on, while the caller's bytes are read and parsed, only what that needs is allowed. */
        if (restrict_syscalls() < 0)
                return fail("failed", "Cannot install the system call filter.");
        r = copy_to_memfd(STDIN_FILENO, memfd, &size);
        if (r == -EFBIG)
                return fail("argument", "The object is larger than %u MiB.", OBJECT_SIZE_MAX >> 20);
        if (r == -EISDIR)
                return fail("argument", "The object must be a regular file (an ELF object from clang -target bpf).");
        if (r < 0)
                return fail("argument", "Cannot read the object: %s", strerror(-r));
        close(STDIN_FILENO);
        if (fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return fail("failed", "Cannot seal the memfd: %s", strerror(errno));
        if (size < 4)
                return fail("object", "The file is not an ELF object (it does not start with the ELF magic): a "
                                      "BPF object is what clang -target bpf -c makes of a .bpf.c file.");
        data = mmap(NULL, size, PROT_READ, MAP_PRIVATE, memfd, 0);
        if (data == MAP_FAILED)
                return fail("failed", "Cannot map the object: %s", strerror(errno));
        if (inspect_describe(data, size, arg) < 0)
                return send_all(-1), 1;
        return send_all(memfd) < 0 ? 1 : 0;
}

int main(int argc, char **argv) {
        const char *arg = argc > 1 ? argv[1] : "object";
        bool symbol = argc == 3 && strcmp(argv[1], "--symbol") == 0;

        /* Executing the helper made it dumpable again: any other process of its uid (nobody is shared with other
         * services, and the image puller's default) could then write its memory through /proc/PID/mem or ptrace,
         * and choose the bytes every later caller's load gets (the zygote forks them all). */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
                fprintf(stderr, "bpfd-inspect: cannot make itself non-dumpable: %m\n");
                return 1;
        }

#if !defined(__SANITIZE_ADDRESS__) /* ASan reserves terabytes of address space for its shadow memory */
        (void) setrlimit(RLIMIT_AS, &(struct rlimit) { 1024UL << 20, 1024UL << 20 });
#endif
        inspect_libbpf_messages();
        if (symbol)
                arg = argv[2];
        else if (argc == 2 && strcmp(argv[1], "--zygote") == 0) {
                /* Returns in a spare that got its one request; the zygote itself stays in there. */
                int r = parse_filter_prepare();
                if (r >= 0)
                        r = zygote_serve(restrict_syscalls, parse_syscalls, ELEMENTSOF(parse_syscalls), &symbol, &arg);
                if (r < 0) {
                        fprintf(stderr, "bpfd-inspect: cannot start the zygote: %s\n", strerror(-r));
                        return 1;
                }
        }
        return serve_one(symbol, arg);
}
