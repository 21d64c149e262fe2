/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <strings.h>

#include "bus-dict.h"
#include "load-options.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

void load_options_done(LoadOptions *o) {
        strv_free(o->programs);
        for (size_t i = 0; i < o->n_global_data; i++) {
                free(o->global_data[i].name);
                free(o->global_data[i].data);
        }
        free(o->global_data);
        strv_free(o->metadata);
        free(o->attach_program);
        attach_target_done(&o->target);
        *o = (LoadOptions) {};
}

int load_options_add_program(LoadOptions *o, const char *name) {
        if (isempty(name)) {
                log_error("--program needs a function name");
                return -EINVAL;
        }
        if (strv_contains(o->programs, name))
                return 0;
        if (strv_extend(&o->programs, name) < 0)
                return log_oom();
        return 0;
}

/* Splits "NAME=VALUE" at the first '='; NAME must not be empty. */
static int split_assignment(const char *option, const char *assignment, char **ret_name, const char **ret_value) {
        const char *eq = strchr(assignment, '=');
        char *name;

        assert(ret_name);
        assert(ret_value);

        if (!eq || eq == assignment) {
                log_error("invalid %s '%s': expected NAME=VALUE", option, assignment);
                return -EINVAL;
        }

        name = strndup(assignment, eq - assignment);
        if (!name)
                return log_oom();

        *ret_name = name;
        *ret_value = eq + 1;
        return 0;
}

static int parse_hex_bytes(const char *s, uint8_t **ret_data, size_t *ret_size) {
        _cleanup_free_ uint8_t *data = NULL;
        size_t n;

        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                s += 2;

        n = strlen(s);
        if (n == 0 || n % 2 != 0)
                return -EINVAL;

        data = malloc(n / 2);
        if (!data)
                return -ENOMEM;

        for (size_t i = 0; i < n; i += 2) {
                char byte[3] = { s[i], s[i + 1], '\0' };

                if (!isxdigit((unsigned char) byte[0]) || !isxdigit((unsigned char) byte[1]))
                        return -EINVAL;
                data[i / 2] = (uint8_t) strtoul(byte, NULL, 16);
        }

        *ret_data = TAKE_PTR(data);
        *ret_size = n / 2;
        return 0;
}

static const struct {
        const char *prefix;
        size_t size;
        bool is_signed;
} typed_values[] = {
        { "u8:",  1, false }, { "u16:", 2, false }, { "u32:", 4, false }, { "u64:", 8, false },
        { "i8:",  1, true  }, { "i16:", 2, true  }, { "i32:", 4, true  }, { "i64:", 8, true  },
};

int parse_global_data_value(const char *s, uint8_t **ret_data, size_t *ret_size) {
        for (size_t i = 0; i < ELEMENTSOF(typed_values); i++) {
                size_t size = typed_values[i].size, bits = size * 8;
                const char *number;
                uint8_t *data;
                uint64_t wide;
                union {
                        uint8_t u8;
                        uint16_t u16;
                        uint32_t u32;
                        uint64_t u64;
                } v;
                int r;

                if (strncmp(s, typed_values[i].prefix, strlen(typed_values[i].prefix)) != 0)
                        continue;
                number = s + strlen(typed_values[i].prefix);

                if (typed_values[i].is_signed) {
                        int64_t x, min = bits == 64 ? INT64_MIN : -((int64_t) 1 << (bits - 1));
                        int64_t max = bits == 64 ? INT64_MAX : ((int64_t) 1 << (bits - 1)) - 1;

                        r = parse_i64(number, &x);
                        if (r < 0)
                                return r;
                        if (x < min || x > max)
                                return -ERANGE;
                        v.u64 = (uint64_t) x;
                } else {
                        uint64_t x, max = bits == 64 ? UINT64_MAX : ((uint64_t) 1 << bits) - 1;

                        r = parse_u64(number, &x);
                        if (r < 0)
                                return r;
                        if (x > max)
                                return -ERANGE;
                        v.u64 = x;
                }

                /* Narrow through the integer type, so the bytes are right on either endianness. Through a copy:
                 * assigning one union member from an overlapping other one is undefined (C11 6.5.16.1p3). */
                wide = v.u64;
                switch (size) {
                case 1: v.u8 = (uint8_t) wide; break;
                case 2: v.u16 = (uint16_t) wide; break;
                case 4: v.u32 = (uint32_t) wide; break;
                default: assert(size == 8); break;
                }

                data = malloc(size);
                if (!data)
                        return -ENOMEM;
                memcpy(data, &v, size);

                *ret_data = data;
                *ret_size = size;
                return 0;
        }

        return parse_hex_bytes(s, ret_data, ret_size);
}

int load_options_add_global(LoadOptions *o, const char *assignment) {
        _cleanup_free_ char *name = NULL;
        _cleanup_free_ uint8_t *data = NULL;
        GlobalDataOverride *g;
        const char *value;
        size_t size;
        int r;

        r = split_assignment("--global", assignment, &name, &value);
        if (r < 0)
                return r;
        assert(name && value);

        for (size_t i = 0; i < o->n_global_data; i++)
                if (streq(o->global_data[i].name, name)) {
                        log_error("--global %s is given twice", name);
                        return -EINVAL;
                }

        r = parse_global_data_value(value, &data, &size);
        if (r == -ENOMEM)
                return log_oom();
        if (r == -ERANGE) {
                log_error("invalid --global value '%s' for %s: out of range for its type", value, name);
                return -EINVAL;
        }
        if (r < 0) {
                log_error("invalid --global value '%s' for %s: expected hex bytes (e.g. 0a0b0c0d) "
                          "or TYPE:NUMBER with TYPE one of u8 u16 u32 u64 i8 i16 i32 i64", value, name);
                return -EINVAL;
        }

        g = reallocarray(o->global_data, o->n_global_data + 1, sizeof(GlobalDataOverride));
        if (!g)
                return log_oom();
        o->global_data = g;
        o->global_data[o->n_global_data++] = (GlobalDataOverride) {
                .name = TAKE_PTR(name),
                .data = TAKE_PTR(data),
                .size = size,
        };
        return 0;
}

int load_options_add_metadata(LoadOptions *o, const char *assignment) {
        _cleanup_free_ char *key = NULL;
        const char *value;
        int r;

        r = split_assignment("--metadata", assignment, &key, &value);
        if (r < 0)
                return r;
        assert(key && value);

        for (size_t i = 0; o->metadata && o->metadata[i]; i += 2)
                if (streq(o->metadata[i], key)) {
                        log_error("--metadata %s is given twice", key);
                        return -EINVAL;
                }

        if (strv_consume(&o->metadata, TAKE_PTR(key)) < 0 ||
            strv_extend(&o->metadata, value) < 0)
                return log_oom();
        return 0;
}

int load_options_set_map_owner_id(LoadOptions *o, const char *id) {
        uint32_t v;

        if (parse_id(id, &v) < 0) {
                log_error("invalid --map-owner-id '%s': expected a program id", id);
                return -EINVAL;
        }

        o->map_owner_id = v;
        o->map_owner_id_set = true;
        return 0;
}

static const char * const pull_policies[] = { "Always", "IfNotPresent", "Never" };

const char *pull_policy_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(pull_policies); i++)
                if (strcasecmp(s, pull_policies[i]) == 0)
                        return pull_policies[i];
        return NULL;
}

int load_options_set_pull_policy(LoadOptions *o, const char *policy) {
        const char *p = pull_policy_from_string(policy);

        if (!p) {
                log_error("invalid --pull-policy '%s': expected Always, IfNotPresent or Never", policy);
                return -EINVAL;
        }

        o->pull_policy = p;
        return 0;
}

int load_options_verify(const LoadOptions *o) {
        int r;

        r = attach_target_verify(&o->target);
        if (r < 0)
                return r;

        if (o->attach_program) {
                if (!o->target.kind) {
                        log_error("--attach-program needs an attach KIND");
                        return -EINVAL;
                }
                if (o->programs && !strv_contains(o->programs, o->attach_program)) {
                        log_error("--attach-program %s is not one of the programs to load (--program)",
                                  o->attach_program);
                        return -EINVAL;
                }
        } else if (o->target.kind && strv_length(o->programs) > 1) {
                log_error("several programs are loaded; say which one to attach with --attach-program NAME");
                return -EINVAL;
        }

        return 0;
}

int load_options_append(sd_bus_message *m, const LoadOptions *o) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;

        if (o->programs) {
                r = bus_append_sv_strv(m, "programs", o->programs);
                if (r < 0)
                        return r;
        }

        if (o->n_global_data > 0) {
                r = bus_open_sv(m, "global_data", "a{say}");
                if (r < 0)
                        return r;
                r = sd_bus_message_open_container(m, 'a', "{say}");
                if (r < 0)
                        return r;
                for (size_t i = 0; i < o->n_global_data; i++) {
                        r = sd_bus_message_open_container(m, 'e', "say");
                        if (r < 0)
                                return r;
                        r = sd_bus_message_append_basic(m, 's', o->global_data[i].name);
                        if (r < 0)
                                return r;
                        r = sd_bus_message_append_array(m, 'y', o->global_data[i].data, o->global_data[i].size);
                        if (r < 0)
                                return r;
                        r = sd_bus_message_close_container(m);
                        if (r < 0)
                                return r;
                }
                r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
                r = bus_close_sv(m);
                if (r < 0)
                        return r;
        }

        if (o->metadata) {
                r = bus_open_sv(m, "metadata", "a{ss}");
                if (r < 0)
                        return r;
                r = sd_bus_message_open_container(m, 'a', "{ss}");
                if (r < 0)
                        return r;
                for (size_t i = 0; o->metadata[i]; i += 2) {
                        r = sd_bus_message_append(m, "{ss}", o->metadata[i], o->metadata[i + 1]);
                        if (r < 0)
                                return r;
                }
                r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
                r = bus_close_sv(m);
                if (r < 0)
                        return r;
        }

        if (o->map_owner_id_set) {
                r = bus_append_sv_u32(m, "map_owner_id", o->map_owner_id);
                if (r < 0)
                        return r;
        }

        if (o->pull_policy) {
                r = bus_append_sv_string(m, "pull_policy", o->pull_policy);
                if (r < 0)
                        return r;
        }

        if (o->target.kind) {
                r = bus_open_sv(m, "attach", "aa{sv}");
                if (r < 0)
                        return r;
                r = sd_bus_message_open_container(m, 'a', "a{sv}");
                if (r < 0)
                        return r;
                r = attach_target_append(m, &o->target, o->attach_program);
                if (r < 0)
                        return r;
                r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
                r = bus_close_sv(m);
                if (r < 0)
                        return r;
        }

        return sd_bus_message_close_container(m);
}
