/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-maps --object build/bpf/hash_map.bpf.o [--entries N] [--iterations N]
 *
 * A dump of a hash map of N entries (default 10000) through bpfd's MapDump against the same walk through
 * libbpf in this process (get_next_key + lookup, which is what a tool with BPF rights does), as medians:
 * map_dump_libbpf_ms, map_dump_bus_ms, map_dump_vs_libbpf_ratio. Prints only; asserts nothing.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

static void die(const char *what, int r) {
        fprintf(stderr, "bench-maps: %s: %s\n", what, strerror(r < 0 ? -r : r));
        exit(1);
}

static size_t libbpf_dump(int fd) {
        uint32_t key, next;
        uint64_t value;
        size_t n = 0;
        void *prev = NULL;

        while (bpf_map_get_next_key(fd, prev, &next) == 0) {
                key = next;
                prev = &key;
                if (bpf_map_lookup_elem(fd, &key, &value) == 0)
                        n++;
        }
        return n;
}

static size_t bus_dump(sd_bus *bus, const char *path) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_call_method(bus, "org.bpfd", path, "org.bpfd.Program", "MapDump", &e, &reply, "s", "entries");
        if (r < 0) {
                fprintf(stderr, "bench-maps: MapDump: %s\n", e.message);
                exit(1);
        }
        r = sd_bus_message_enter_container(reply, 'a', "(ayay)");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "ayay")) > 0) {
                const void *k, *v;
                size_t kn, vn;
                if (sd_bus_message_read_array(reply, 'y', &k, &kn) < 0 || sd_bus_message_read_array(reply, 'y', &v, &vn) < 0)
                        break;
                n++;
                sd_bus_message_exit_container(reply);
        }
        sd_bus_message_unref(reply);
        return n;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "object", required_argument, NULL, 'o' },
                { "entries", required_argument, NULL, 'e' },
                { "iterations", required_argument, NULL, 'n' },
                {}
        };
        const char *object = NULL, *prog_path;
        unsigned entries = 10000, iterations = 10;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        char path[128], pin[256];
        double *t_lib, *t_bus;
        sd_bus *bus = NULL;
        uint32_t id;
        int c, r, fd, map_fd;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'o': object = optarg; break;
                case 'e': entries = strtoul(optarg, NULL, 10); break;
                case 'n': iterations = strtoul(optarg, NULL, 10); break;
                default: return 2;
                }
        if (!object || !iterations || entries > 16384) {
                fprintf(stderr, "usage: bench-maps --object hash_map.bpf.o [--entries N<=16384] [--iterations N]\n");
                return 2;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0)
                die("connecting to the system bus", r);
        fd = open(object, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                die(object, errno);
        r = sd_bus_message_new_method_call(bus, &m, "org.bpfd", "/org/bpfd/Manager", "org.bpfd.Manager", "LoadFromFd");
        if (r >= 0)
                r = sd_bus_message_append(m, "ha{sv}", fd, 1, "programs", "as", 1, "touch_entries");
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, &e, &reply);
        if (r < 0) {
                fprintf(stderr, "bench-maps: LoadFromFd: %s\n", e.message ?: strerror(-r));
                return 1;
        }
        if (sd_bus_message_enter_container(reply, 'a', "o") < 0 || sd_bus_message_read(reply, "o", &prog_path) <= 0)
                die("LoadFromFd returned no program", EBADMSG);
        id = (uint32_t) strtoul(strrchr(prog_path, '/') + 1, NULL, 10);
        snprintf(path, sizeof path, "%s", prog_path);
        /* bpfd's documented layout: the load group's maps under /run/bpfd/fs/maps/<group>/ */
        snprintf(pin, sizeof pin, "/run/bpfd/fs/maps/%" PRIu32 "/entries", id);
        map_fd = bpf_obj_get(pin);
        if (map_fd < 0)
                die(pin, errno);
        for (uint32_t k = 0; k < entries; k++) {
                uint64_t v = k * 3ULL;
                if (bpf_map_update_elem(map_fd, &k, &v, BPF_ANY) < 0)
                        die("filling the map", errno);
        }

        t_lib = calloc(iterations, sizeof(double));
        t_bus = calloc(iterations, sizeof(double));
        for (unsigned i = 0; i < iterations; i++) {
                double t0 = now_ms();
                if (libbpf_dump(map_fd) != entries)
                        die("libbpf dump: wrong count", EIO);
                t_lib[i] = now_ms() - t0;
                t0 = now_ms();
                if (bus_dump(bus, path) != entries)
                        die("bus dump: wrong count", EIO);
                t_bus[i] = now_ms() - t0;
        }
        printf("map_dump_entries: %u\n", entries);
        double lib = median(t_lib, iterations), via_bus = median(t_bus, iterations);
        printf("map_dump_libbpf_ms: %.3f\n", lib);
        printf("map_dump_bus_ms: %.3f\n", via_bus);
        printf("map_dump_vs_libbpf_ratio: %.2f\n", via_bus / lib);

        sd_bus_call_method(bus, "org.bpfd", "/org/bpfd/Manager", "org.bpfd.Manager", "Unload", NULL, NULL, "u", id);
        close(map_fd);
        close(fd);
        sd_bus_flush_close_unref(bus);
        return 0;
}
