/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

double median(double *v, size_t n) {
        qsort(v, n, sizeof(double), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void figure(const char *name, const char *fmt, double v) {
        printf("%s: ", name);
        printf(fmt, v);
        putchar('\n');
        fflush(stdout);
}

uint32_t id_of_path(const char *path) {
        const char *s = strrchr(path, '/');
        return s ? (uint32_t) strtoul(s + 1, NULL, 10) : 0;
}

int bench_load_from_fd(sd_bus *bus, const char *object, const char *program, const char *tracepoint,
                       uint32_t *ret_id, sd_bus_error *error) {
        sd_bus_message *m = NULL, *reply = NULL;
        const char *path;
        int fd, r;

        assert(bus && object && program && ret_id);

        fd = open(object, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = sd_bus_message_new_method_call(bus, &m, "org.bpfd", "/org/bpfd/Manager", "org.bpfd.Manager",
                                           "LoadFromFd");
        if (r >= 0)
                r = sd_bus_message_append(m, "h", fd);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "programs", "as", 1, program);
        if (r >= 0 && tracepoint)
                r = sd_bus_message_append(m, "{sv}", "attach", "aa{sv}", 1, 2, "kind", "s", "tracepoint",
                                          "tracepoint", "s", tracepoint);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, error, &reply);
        close(fd);
        sd_bus_message_unref(m);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "o");
        if (r < 0 || sd_bus_message_read(reply, "o", &path) <= 0 || !(*ret_id = id_of_path(path)))
                r = -EBADMSG;
        else
                r = 0;
        sd_bus_message_unref(reply);
        return r;
}
