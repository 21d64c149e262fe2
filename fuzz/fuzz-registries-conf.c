/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /etc/bpfd/registries.conf (the policy per registry) and the auth file (docker's auth.json). Both are
 * administrator's files, but a mistake in them must be an error, never a crash of the puller. The input
 * starts with one byte that says which file it is. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image-registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const registries[] = { "quay.io", "127.0.0.1:5000", "*", "localhost" };
        char path[64], *err = NULL, *user = NULL, *password = NULL;
        int fd;

        if (size < 1)
                return 0;
        fd = memfd_create("fuzz", MFD_CLOEXEC);
        if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t) (size - 1))
                abort();
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        for (size_t i = 0; i < sizeof(registries) / sizeof(*registries); i++) {
                if (data[0] & 1) {
                        RegistryPolicy p = {};
                        if (registry_policy_load(path, registries[i], &p, &err) >= 0)
                                registry_policy_done(&p);
                } else
                        (void) registry_credentials_load(path, NULL, registries[i], &user, &password, &err);
                free(err), free(user), free(password);
                err = user = password = NULL;
        }
        close(fd);
        return 0;
}
