/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

#define NOBODY 65534

void sandbox_helper_identity(uid_t *ret_uid, gid_t *ret_gid) {
        struct passwd pw, *result = NULL;
        char buf[1024];
        FILE *f;

        assert(ret_uid);
        assert(ret_gid);

        /* A dedicated user is better than nobody (whose files, if any, such a helper could touch); use it
         * where the distribution made one (systemd-sysusers writes /etc/passwd). Read from /etc/passwd, not
         * through NSS: a name NSS's files do not know sends glibc on to its other modules (libnss_systemd,
         * 300 KiB that would stay mapped in bpfd for good). Before forking: a forked child does no such I/O. */
        f = fopen("/etc/passwd", "re");
        while (f && fgetpwent_r(f, &pw, buf, sizeof buf, &result) == 0 && result)
                if (strcmp(pw.pw_name, "bpfd-inspect") == 0 && pw.pw_uid != 0) {
                        *ret_uid = pw.pw_uid;
                        *ret_gid = pw.pw_gid;
                        fclose(f);
                        return;
                }
        if (f)
                fclose(f);
        *ret_uid = NOBODY;
        *ret_gid = NOBODY;
}

/* Moves the kept descriptors to 0..n-1 without clobbering one another, then closes all the rest. */
static int keep_only(const int *fds, unsigned n, bool keep_stderr) {
        int moved[16];
        unsigned total = n + (keep_stderr ? 1 : 0);

        if (total > 16)
                return -E2BIG;
        /* First lift everything above the target range, so a later dup2() cannot overwrite a source. */
        for (unsigned i = 0; i < total; i++) {
                int fd = i < n ? fds[i] : STDERR_FILENO;
                if (fd < 0) {
                        fd = open("/dev/null", O_RDWR | O_CLOEXEC);
                        if (fd < 0)
                                return -errno;
                }
                moved[i] = fcntl(fd, F_DUPFD_CLOEXEC, 16 + 1);
                if (moved[i] < 0)
                        return -errno;
        }
        for (unsigned i = 0; i < total; i++)
                if (dup2(moved[i], (int) i) < 0) /* dup2 clears O_CLOEXEC on the copy */
                        return -errno;
        if (syscall(SYS_close_range, total, ~0U, 0) < 0)
                return -errno;
        return 0;
}

static int drop_bounding_set(void) {
        for (unsigned c = 0; c <= 63; c++) {
                int r = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
                if (r < 0)
                        break; /* past the kernel's last capability */
                if (r > 0 && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
                        return -errno;
        }
        return 0;
}

int sandbox_enter(const Sandbox *s) {
        struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct none[2] = {};
        bool root;
        int r;

        assert(s);
        root = s->keep_root_caps && s->uid == 0;

        r = keep_only(s->keep_fds, s->n_keep_fds, s->keep_stderr);
        if (r < 0)
                return r;
        /* Raw system calls: glibc's set*id wrappers would try to change every thread of the process. */
        r = root ? 0 : drop_bounding_set();
        if (r < 0)
                return r;
        if (syscall(SYS_setgroups, s->n_groups, s->groups) < 0 || syscall(SYS_setresgid, s->gid, s->gid, s->gid) < 0 ||
            syscall(SYS_setresuid, s->uid, s->uid, s->uid) < 0)
                return -errno;
        /* A non-zero uid lost the capabilities already; uid 0 (root's own request) must lose them too. */
        if (!root && syscall(SYS_capset, &header, none) < 0)
                return -errno;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return -errno;
        return 0;
}
