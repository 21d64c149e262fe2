/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <stdarg.h>

#include "bus-dict.h"

int bus_append_sv_string(sd_bus_message *m, const char *key, const char *value) {
        return sd_bus_message_append(m, "{sv}", key, "s", value);
}

int bus_append_sv_bool(sd_bus_message *m, const char *key, bool value) {
        return sd_bus_message_append(m, "{sv}", key, "b", (int) value);
}

int bus_append_sv_u32(sd_bus_message *m, const char *key, uint32_t value) {
        return sd_bus_message_append(m, "{sv}", key, "u", value);
}

int bus_append_sv_i32(sd_bus_message *m, const char *key, int32_t value) {
        return sd_bus_message_append(m, "{sv}", key, "i", value);
}

int bus_append_sv_u64(sd_bus_message *m, const char *key, uint64_t value) {
        return sd_bus_message_append(m, "{sv}", key, "t", value);
}

int bus_open_sv(sd_bus_message *m, const char *key, const char *contents) {
        int r;

        assert(m);
        assert(key);
        assert(contents);

        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r < 0)
                return r;
        r = sd_bus_message_append_basic(m, 's', key);
        if (r < 0)
                return r;
        return sd_bus_message_open_container(m, 'v', contents);
}

int bus_close_sv(sd_bus_message *m) {
        int r;

        r = sd_bus_message_close_container(m); /* v */
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m); /* e */
}

int bus_append_sv_strv(sd_bus_message *m, const char *key, char **value) {
        int r;

        r = bus_open_sv(m, key, "as");
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(m, value);
        if (r < 0)
                return r;
        return bus_close_sv(m);
}

int bus_append_dict_entry(sd_bus_message *m, const char *key, const char *signature, ...) {
        va_list ap;
        int r;

        r = bus_open_sv(m, key, signature);
        if (r < 0)
                return r;
        va_start(ap, signature);
        r = sd_bus_message_appendv(m, signature, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return bus_close_sv(m);
}
