/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bus option decoding from a raw D-Bus message, as systemd's fuzz-bus-message: the input is a whole message
 * (header and body) sent over a socket pair to an sd-bus server connection, which parses and validates it as
 * it would any caller's. The body's a{sv} then goes through bpfd's decoders: attach targets (the per-key
 * readers of target.c on top of bus_read_options) and the generic readers of bus-util.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "bus-util.h"
#include "errors.h"
#include "target.h"
#include "target-bus.h"
#include "utf8.h"

typedef struct Generic {
        char *s;
        char **l;
} Generic;

static int read_s(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        return bus_read_string_checked(m, key, BPFD_NAME_MAX, &((Generic *) userdata)->s, error);
}

static int read_as(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        return bus_read_strv_checked(m, key, &((Generic *) userdata)->l, error);
}

static const BusOption generic_options[] = {
        { "programs", "as", read_as },
        { "pull_policy", "s", read_s },
        { "map_owner_id", "s", read_s },
        {}
};

static void check_error(const sd_bus_error *e) {
        /* Whatever a decoder refuses must still be sendable. */
        if (sd_bus_error_is_set(e) && e->message && !utf8_is_valid(e->message))
                abort();
}

static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e1 = SD_BUS_ERROR_NULL, e2 = SD_BUS_ERROR_NULL;
        AttachTarget t = {};
        Generic g = {};
        int *seen = userdata;

        (*seen)++;
        if (getenv("FUZZ_VERBOSE"))
                fprintf(stderr, "message %s(%s)\n", strempty(sd_bus_message_get_member(m)),
                        strempty(sd_bus_message_get_signature(m, true)));
        const char *sig = sd_bus_message_get_signature(m, true);
        /* The methods' shapes: a{sv} alone (Program.Attach) or after a path, a descriptor or an id. */
        bool lead = sig && strlen(sig) == 6 && strchr("suh", sig[0]) && streq(sig + 1, "a{sv}");
        char lead_sig[2] = { sig ? sig[0] : 0, 0 };

        if (lead && sd_bus_message_skip(m, lead_sig) < 0)
                return 1;
        if (lead || sd_bus_message_has_signature(m, "a{sv}")) {
                if (attach_target_read(m, true, &t, &e1) >= 0) {
                        free(attach_target_describe(&t));
                        free(attach_target_polkit_detail(&t));
                        EngineError ee = ENGINE_ERROR_NULL;
                        (void) attach_target_validate(&t, &ee);
                        bus_error_take_engine(&e1, &ee); /* as the bus edge sends it */
                }
                check_error(&e1);
                attach_target_done(&t);
                if (sd_bus_message_rewind(m, true) >= 0 && (!lead || sd_bus_message_skip(m, lead_sig) >= 0))
                        (void) bus_read_options(m, "fuzz", generic_options, &g, &e2);
                check_error(&e2);
                free(g.s);
                strv_free(g.l);
        }
        return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char auth[] = "\0AUTH ANONYMOUS\r\nBEGIN\r\n";
        sd_bus *bus = NULL;
        int fds[2], seen = 0;

        if (size > 65536)
                return 0;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
                abort();
        /* Everything fits in the socket buffer: written before the server reads. */
        if (write(fds[1], auth, sizeof(auth) - 1) < 0 || (size > 0 && write(fds[1], data, size) < 0))
                abort();
        (void) shutdown(fds[1], SHUT_WR);

        if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, fds[0], fds[0]) < 0 ||
            sd_bus_set_server(bus, 1, SD_ID128_MAKE(b9, fd, 7e, 57, 00, 00, 00, 00, 00, 00, 00, 00, 00, 00, 00, 01)) < 0 ||
            sd_bus_set_anonymous(bus, 1) < 0 || sd_bus_add_filter(bus, NULL, on_message, &seen) < 0 ||
            sd_bus_start(bus) < 0)
                goto out;
        for (int i = 0; i < 64; i++)
                if (sd_bus_process(bus, NULL) <= 0)
                        break;
out:
        sd_bus_flush_close_unref(bus);
        close(fds[1]);
        return 0;
}
