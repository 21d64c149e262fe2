/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bus-caller.h"

int bus_caller_from_credentials(sd_bus_message *reply, Caller *c) {
        bool have_uid = false;
        int r;

        assert(reply);
        assert(c);

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key;
                uint32_t v;

                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        break;
                if (streq(key, "UnixUserID")) {
                        r = sd_bus_message_read(reply, "v", "u", &v);
                        c->uid = v;
                        have_uid = r >= 0;
                } else if (streq(key, "ProcessID")) {
                        r = sd_bus_message_read(reply, "v", "u", &v);
                        c->pid = (pid_t) v;
                } else if (streq(key, "ProcessFD")) {
                        int fd;
                        r = sd_bus_message_read(reply, "v", "h", &fd);
                        if (r >= 0 && c->pidfd < 0)
                                c->pidfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                } else if (streq(key, "UnixGroupIDs")) {
                        const void *gids;
                        size_t size;
                        r = sd_bus_message_enter_container(reply, 'v', "au");
                        if (r >= 0)
                                r = sd_bus_message_read_array(reply, 'u', &gids, &size);
                        if (r >= 0 && size > 0 && !c->gids) {
                                c->gids = malloc(size);
                                if (!c->gids)
                                        return -ENOMEM;
                                memcpy(c->gids, gids, size);
                                c->n_gids = size / sizeof(uint32_t);
                                c->gid = c->gids[0];
                        }
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                } else
                        r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0)
                return r;
        if (!have_uid)
                return -EBADMSG;
        if (c->pidfd < 0 && c->pid > 0)
                c->pidfd = (int) syscall(SYS_pidfd_open, c->pid, 0);
        return 0;
}
