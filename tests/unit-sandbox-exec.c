/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* unit-sandbox-exec SPEC COMMAND [ARGS...]: runs COMMAND under the seccomp filter that systemd builds
 * for bpfd.service, as tests/env/unit-sandbox describes it in the file SPEC, one item a line:
 *   allow NAME          a system call of the unit's SystemCallFilter= (after its ~ lists)
 *   errno N             SystemCallErrorNumber=: what the others fail with
 *   family N            RestrictAddressFamilies=: socket() only for these families
 *   namespaces FLAGS    RestrictNamespaces=: setns(), unshare() and clone() only with these CLONE_NEW* flags
 *   mdwe                MemoryDenyWriteExecute=: no mapping both writable and executable
 *   nosuid              RestrictSUIDSGID=: no chmod to set-user/group-id
 * Only native system calls pass (SystemCallArchitectures=native), and no_new_privs is set
 * (NoNewPrivileges=). Like systemd, clone3() fails with ENOSYS when namespaces are restricted, so that
 * libc falls back to clone(), whose flags the filter can see. */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ITEMS 1024
#define CLONE_NEW_ALL (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
                       CLONE_NEWPID | CLONE_NEWNET | 0x00000080UL /* CLONE_NEWTIME */)

static int die(const char *what, int r) {
        fprintf(stderr, "unit-sandbox-exec: %s: %s\n", what, strerror(r < 0 ? -r : r));
        exit(125);
}

int main(int argc, char *argv[]) {
        char *allow[MAX_ITEMS], line[256];
        int families[64], n_allow = 0, n_families = 0, errno_value = EPERM, r;
        unsigned long namespaces = 0;
        int restrict_namespaces = 0, mdwe = 0, nosuid = 0;
        scmp_filter_ctx ctx;
        FILE *f;

        if (argc < 3) {
                fprintf(stderr, "usage: unit-sandbox-exec SPEC COMMAND [ARGS...]\n");
                return 125;
        }
        /* SPEC: a file, or the number of an open file descriptor (closed here). */
        if (argv[1][0] && strspn(argv[1], "0123456789") == strlen(argv[1]))
                f = fdopen(atoi(argv[1]), "r");
        else
                f = fopen(argv[1], "re");
        if (!f)
                die(argv[1], errno);
        while (fgets(line, sizeof line, f)) {
                char word[32], value[200];

                if (sscanf(line, "%31s %199s", word, value) < 1)
                        continue;
                if (strcmp(word, "allow") == 0 && n_allow < MAX_ITEMS)
                        allow[n_allow++] = strdup(value);
                else if (strcmp(word, "errno") == 0)
                        errno_value = atoi(value);
                else if (strcmp(word, "family") == 0 && n_families < 64)
                        families[n_families++] = atoi(value);
                else if (strcmp(word, "namespaces") == 0)
                        restrict_namespaces = 1, namespaces = strtoul(value, NULL, 0);
                else if (strcmp(word, "mdwe") == 0)
                        mdwe = 1;
                else if (strcmp(word, "nosuid") == 0)
                        nosuid = 1;
        }
        fclose(f);

        ctx = seccomp_init(SCMP_ACT_ERRNO(errno_value));
        if (!ctx)
                die("seccomp_init", ENOMEM);

        for (int i = 0; i < n_allow; i++) {
                int nr = seccomp_syscall_resolve_name(allow[i]);

                if (nr == __NR_SCMP_ERROR || nr < 0)
                        continue; /* not a system call of this architecture */
                if (n_families > 0 && nr == SCMP_SYS(socket)) {
                        for (int j = 0; j < n_families; j++) {
                                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, families[j]));
                                if (r < 0)
                                        die("socket rule", r);
                        }
                        continue; /* other families: the default action */
                }
                if (restrict_namespaces && (nr == SCMP_SYS(setns) || nr == SCMP_SYS(unshare))) {
                        /* The namespace flags are setns()'s second argument, unshare()'s first. */
                        unsigned long others = ~namespaces & CLONE_NEW_ALL;

                        if (nr == SCMP_SYS(setns))
                                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A1(SCMP_CMP_MASKED_EQ, others, 0));
                        else
                                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, others, 0));
                        if (r < 0)
                                die("namespace rule", r);
                        continue;
                }
                if (restrict_namespaces && nr == SCMP_SYS(clone)) {
                        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                                             SCMP_A0(SCMP_CMP_MASKED_EQ, ~namespaces & CLONE_NEW_ALL, 0));
                        if (r < 0)
                                die("clone rule", r);
                        continue;
                }
                if (restrict_namespaces && nr == SCMP_SYS(clone3)) {
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
                        if (r < 0)
                                die("clone3 rule", r);
                        continue;
                }
                if (mdwe && (nr == SCMP_SYS(mmap) || nr == SCMP_SYS(mprotect) || nr == SCMP_SYS(pkey_mprotect))) {
                        /* Allowed unless both PROT_WRITE and PROT_EXEC. */
                        static const unsigned long ok[] = { 0, PROT_WRITE, PROT_EXEC };
                        for (size_t j = 0; j < 3; j++) {
                                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                                                     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE | PROT_EXEC, ok[j]));
                                if (r < 0)
                                        die("mdwe rule", r);
                        }
                        continue;
                }
                if (nosuid && (nr == SCMP_SYS(chmod) || nr == SCMP_SYS(fchmod) || nr == SCMP_SYS(fchmodat))) {
                        /* The mode is the second argument of chmod and fchmod, the third of fchmodat. */
                        if (nr == SCMP_SYS(fchmodat))
                                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                                                     SCMP_A2(SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0));
                        else
                                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                                                     SCMP_A1(SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0));
                        if (r < 0)
                                die("suid rule", r);
                        continue;
                }
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
                if (r < 0 && r != -EEXIST)
                        die(allow[i], r);
        }

        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
        if (r < 0)
                die("no_new_privs", r);
        r = seccomp_load(ctx);
        if (r < 0)
                die("seccomp_load", r);
        seccomp_release(ctx);

        execvp(argv[2], argv + 2);
        die(argv[2], errno);
}
