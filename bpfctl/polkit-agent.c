/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "polkit-agent.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

#define PKTTYAGENT_PATH "/usr/bin/pkttyagent"

static pid_t agent_pid = 0;

void polkit_agent_open(void) {
        int notify[2];
        char fd_text[16];
        pid_t parent = getpid(), pid;

        if (agent_pid > 0)
                return;
        if (geteuid() == 0) /* polkit lets root pass without asking */
                return;
        if (!isatty(STDIN_FILENO))
                return;
        if (access(PKTTYAGENT_PATH, X_OK) < 0)
                return;

        /* pkttyagent closes its end of this pipe once it is registered. */
        if (pipe2(notify, O_CLOEXEC) < 0)
                return;

        pid = fork();
        if (pid < 0) {
                close(notify[0]);
                close(notify[1]);
                return;
        }

        if (pid == 0) {
                /* Don't outlive bpfctl, even if it is killed. */
                (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (getppid() != parent)
                        _exit(EXIT_FAILURE);

                /* The write end must survive exec; everything else we have is O_CLOEXEC. */
                if (fcntl(notify[1], F_SETFD, 0) < 0)
                        _exit(EXIT_FAILURE);

                (void) snprintf(fd_text, sizeof(fd_text), "%i", notify[1]);
                /* It registers for its parent process: us. Not with --fallback: polkitd (122) never picks a
                 * fallback agent registered for a process when bpfd asks about our bus name, so the prompt
                 * never came; an agent for this one process replaces nobody's session agent anyway. */
                execl(PKTTYAGENT_PATH, PKTTYAGENT_PATH, "--notify-fd", fd_text, (char *) NULL);
                _exit(EXIT_FAILURE);
        }

        agent_pid = pid;
        close(notify[1]);

        /* POLLHUP when it closed the fd: registered, or exited because it could not. */
        for (;;) {
                struct pollfd p = { .fd = notify[0], .events = POLLIN };

                if (poll(&p, 1, -1) >= 0 || errno != EINTR)
                        break;
        }
        close(notify[0]);
}

void polkit_agent_close(void) {
        if (agent_pid <= 0)
                return;

        (void) kill(agent_pid, SIGTERM);
        (void) kill(agent_pid, SIGCONT); /* in case it was stopped */
        while (waitpid(agent_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        agent_pid = 0;
}
