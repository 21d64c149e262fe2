/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-image --object OBJ --image REF [--iterations N]
 *
 * Load (no attach) + unload of program count_getpid from an image already in bpfd's cache
 * (LoadFromImage, pull policy IfNotPresent) against the same from the object file (LoadFromFd), as
 * medians: image_cached_load_ms, file_load_ms, image_cached_vs_file_ratio. Prints only.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

/* One load through the bus and the unload after it; returns the load's time. */
static double load_once(sd_bus *bus, const char *object, const char *image) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        const char *path;
        double t0;
        int fd = -1, r;

        r = sd_bus_message_new_method_call(bus, &m, "org.bpfd", "/org/bpfd/Manager", "org.bpfd.Manager",
                                           image ? "LoadFromImage" : "LoadFromFd");
        if (r >= 0 && image)
                r = sd_bus_message_append(m, "sa{sv}", image, 2, "programs", "as", 1, "count_getpid", "pull_policy", "s",
                                          "IfNotPresent");
        else if (r >= 0) {
                fd = open(object, O_RDONLY | O_CLOEXEC);
                r = fd < 0 ? -1 : sd_bus_message_append(m, "ha{sv}", fd, 1, "programs", "as", 1, "count_getpid");
        }
        if (r < 0) {
                fprintf(stderr, "bench-image: cannot build the call\n");
                exit(1);
        }
        t0 = now_ms();
        r = sd_bus_call(bus, m, 0, &e, &reply);
        t0 = now_ms() - t0;
        if (fd >= 0)
                close(fd);
        if (r < 0 || sd_bus_message_enter_container(reply, 'a', "o") < 0 || sd_bus_message_read(reply, "o", &path) <= 0) {
                fprintf(stderr, "bench-image: load failed: %s\n", e.message ?: "no program");
                exit(1);
        }
        r = sd_bus_call_method(bus, "org.bpfd", "/org/bpfd/Manager", "org.bpfd.Manager", "Unload", NULL, NULL, "u",
                               (uint32_t) strtoul(strrchr(path, '/') + 1, NULL, 10));
        if (r < 0) {
                /* a program left loaded would be counted by the next round */
                fprintf(stderr, "bench-image: unload failed: %s\n", strerror(-r));
                exit(1);
        }
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        return t0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "object", required_argument, NULL, 'o' },
                { "image", required_argument, NULL, 'i' },
                { "iterations", required_argument, NULL, 'n' },
                {}
        };
        const char *object = NULL, *image = NULL;
        unsigned n = 20;
        double *ti, *tf;
        sd_bus *bus;
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'o': object = optarg; break;
                case 'i': image = optarg; break;
                case 'n': n = strtoul(optarg, NULL, 10); break;
                default: return 2;
                }
        if (!object || !image || !n || sd_bus_open_system(&bus) < 0) {
                fprintf(stderr, "usage: bench-image --object OBJ --image REF [--iterations N]\n");
                return 2;
        }
        (void) load_once(bus, object, image); /* the first pulls into the cache */
        ti = calloc(n, sizeof(double));
        tf = calloc(n, sizeof(double));
        for (unsigned i = 0; i < n; i++) {
                ti[i] = load_once(bus, object, image);
                tf[i] = load_once(bus, object, NULL);
        }
        double mi = median(ti, n), mf = median(tf, n);
        figure("image_cached_load_ms", "%.3f", mi);
        figure("file_load_ms", "%.3f", mf);
        figure("image_cached_vs_file_ratio", "%.2f", mi / mf);
        sd_bus_flush_close_unref(bus);
        return 0;
}
