/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"

static unsigned cap_last(void) {
        unsigned last = CAP_LAST_CAP;
        /* Ask the kernel, it may know more capabilities than our headers. */
        while (prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
                last++;
        return last;
}

int caps_reduce_thread(const int *keep, size_t n_keep) {
        struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[2] = {};
        struct __user_cap_data_struct current[2] = {};
        unsigned last = cap_last();

        assert(keep || n_keep == 0);

        /* Only what we have can be kept (e.g. CAP_SYS_RESOURCE is often not in a container's bounding set). */
        if (syscall(SYS_capget, &header, current) < 0)
                return -errno;
        for (unsigned c = 0; c <= last; c++) {
                bool k = false;
                for (size_t i = 0; i < n_keep; i++)
                        k = k || keep[i] == (int) c;
                k = k && (current[c / 32].permitted & (1U << (c % 32)));
                if (k) {
                        data[c / 32].effective |= 1U << (c % 32);
                        data[c / 32].permitted |= 1U << (c % 32);
                } else if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) > 0 && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
                           errno != EPERM)
                        return -errno;
        }
        /* Not through glibc/libcap: those may apply the change to every thread of the process. */
        if (syscall(SYS_capset, &header, data) < 0)
                return -errno;
        /* Ambient capabilities would survive into exec'd children; we never want that. */
        (void) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        return 0;
}
