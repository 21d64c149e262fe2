/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The main() of every tests/unit/unit-*.c executable: see unit.h. */

#include <assert.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

#define UNIT_MAX_CASES 256

static struct {
        const char *name;
        void (*func)(void);
} cases[UNIT_MAX_CASES];
static size_t n_cases;

void unit_register(const char *name, void (*func)(void)) {
        assert(n_cases < UNIT_MAX_CASES);
        cases[n_cases].name = name;
        cases[n_cases].func = func;
        n_cases++;
}

void unit_fail(const char *file, int line, const char *fmt, ...) {
        va_list ap;

        printf("    %s:%d: ", file, line);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        fflush(stdout);
        _exit(1);
}

static bool wanted(const char *name, int argc, char **argv) {
        if (argc <= 1)
                return true;
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], name) == 0)
                        return true;
        return false;
}

int main(int argc, char *argv[]) {
        const char *area = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
        unsigned passed = 0, failed = 0;

        if (argc == 2 && strcmp(argv[1], "--list") == 0) {
                for (size_t i = 0; i < n_cases; i++)
                        puts(cases[i].name);
                return 0;
        }

        /* constructors run in link order, which is file order: keep the file's order */
        for (size_t i = 0; i < n_cases; i++) {
                FILE *out;
                pid_t pid;
                int status, c;

                if (!wanted(cases[i].name, argc, argv))
                        continue;
                /* what the case prints comes after its PASS/FAIL line, where the runner shows it */
                out = tmpfile();
                if (!out) {
                        perror("tmpfile");
                        return 2;
                }
                fflush(stdout);
                pid = fork();
                if (pid < 0) {
                        perror("fork");
                        fclose(out);
                        return 2;
                }
                if (pid == 0) {
                        if (dup2(fileno(out), STDOUT_FILENO) < 0)
                                _exit(3);
                        fclose(out); /* stdout has its own descriptor now */
                        cases[i].func();
                        fflush(stdout);
                        _exit(0);
                }
                if (waitpid(pid, &status, 0) < 0) {
                        perror("waitpid");
                        fclose(out);
                        return 2;
                }
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                        printf("PASS %s.%s\n", area, cases[i].name);
                        passed++;
                } else {
                        printf("FAIL %s.%s\n", area, cases[i].name);
                        if (WIFSIGNALED(status))
                                printf("    killed by signal %d (%s)\n", WTERMSIG(status), strsignal(WTERMSIG(status)));
                        failed++;
                }
                if (fseek(out, 0, SEEK_SET) == 0)
                        while ((c = fgetc(out)) != EOF)
                                putchar(c);
                fclose(out);
        }
        printf("%u passed, %u failed\n", passed, failed);
        return failed ? 1 : 0;
}
