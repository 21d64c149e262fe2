/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <string.h>
#include <sys/socket.h>

/* Room for one descriptor passed with a message. */
#define FD_SEND_CONTROL_SIZE CMSG_SPACE(sizeof(int))

/* Attaches fd to mh as SCM_RIGHTS in control (FD_SEND_CONTROL_SIZE bytes); nothing for fd < 0. No
 * allocation, no lock: the forked children of a threaded process (the opener, bpfd-inspect) use it. */
static inline void msghdr_attach_fd(struct msghdr *mh, void *control, int fd) {
        struct cmsghdr *cmsg;

        if (fd < 0)
                return;
        mh->msg_control = control;
        mh->msg_controllen = FD_SEND_CONTROL_SIZE;
        cmsg = CMSG_FIRSTHDR(mh);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
}
