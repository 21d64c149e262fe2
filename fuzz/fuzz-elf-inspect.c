/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ELF inspection: exactly what bpfd-inspect, the unprivileged helper, does with a caller's object before
 * anything is loaded (inspect_describe(): libbpf opens it from memory, every program is described), and
 * a check that its answer has the form service/engine/inspect.c reads. A crash here is a crash of the helper, which
 * bpfd answers with InvalidObject for that caller alone; the fuzzer makes sure there is none to answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inspect-describe.h"

static size_t fields(const char *line, size_t len) {
        size_t n = 1;
        for (size_t i = 0; i < len; i++)
                n += line[i] == '\t';
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static int once;
        const char *text, *line, *end;
        int r;

        if (!once++)
                inspect_libbpf_messages();
        r = inspect_describe(data, size, "fuzz");
        text = inspect_text();
        /* One line "error CODE MESSAGE", or "size N", "program" lines of six fields, "end". */
        if (r < 0) {
                if (strncmp(text, "error\tobject\t", 13) != 0 || strchr(text, '\n') != text + strlen(text) - 1)
                        abort();
                return 0;
        }
        if (strncmp(text, "size\t", 5) != 0)
                abort();
        for (line = strchr(text, '\n') + 1; *line && strcmp(line, "end\n") != 0; line = end + 1) {
                end = strchr(line, '\n');
                if (!end || strncmp(line, "program\t", 8) != 0 || fields(line, (size_t) (end - line)) != 6)
                        abort();
        }
        if (strcmp(line, "end\n") != 0)
                abort();
        return 0;
}
