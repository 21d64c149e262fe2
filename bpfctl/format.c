/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <time.h>

#include "format.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

char *format_timestamp_usec(uint64_t usec) {
        char buf[64];
        struct tm tm;
        time_t sec;

        if (usec == 0)
                return strdup("-");

        sec = (time_t) (usec / 1000000);
        if (!localtime_r(&sec, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm) == 0)
                return strdup("-");

        return strdup(buf);
}

static void write_inline(FILE *f, const BusValue *v, bool nested);

static void write_basic(FILE *f, const BusValue *v) {
        switch (v->type) {
        case 'b':
                fputs(yes_no(v->boolean), f);
                break;
        case 'y':
        case 'q':
        case 'u':
        case 't':
                fprintf(f, "%" PRIu64, v->uinteger);
                break;
        case 'n':
        case 'i':
        case 'x':
        case 'h':
                fprintf(f, "%" PRId64, v->integer);
                break;
        case 'd':
                fprintf(f, "%g", v->floating);
                break;
        default: /* s o g */
                fputs(v->string, f);
        }
}

/* Items of a container separated by sep; nested containers get brackets so
 * that their extent stays visible on one line. */
static void write_items(FILE *f, const BusValue *v, const char *sep) {
        for (size_t i = 0; i < bus_value_count(v); i++) {
                if (i > 0)
                        fputs(sep, f);
                write_inline(f, bus_value_item(v, i), true);
        }
}

static void write_inline(FILE *f, const BusValue *v, bool nested) {
        if (bus_value_is_basic(v)) {
                /* An empty string inside a struct (e.g. a map without pin path) would vanish. */
                if (nested && bus_value_get_string(v) && isempty(v->string))
                        fputc('-', f);
                else
                        write_basic(f, v);
                return;
        }

        if (bus_value_is_bytes(v)) {
                _cleanup_free_ char *hex = hex_encode(v->bytes.data, v->bytes.size);

                fputs(hex ? hex : "", f);
                return;
        }

        if (bus_value_is_dict(v)) {
                if (nested)
                        fputc('{', f);
                for (size_t i = 0; i < bus_value_count(v); i++) {
                        const BusValue *entry = bus_value_item(v, i);

                        if (i > 0)
                                fputs(", ", f);
                        write_inline(f, bus_value_item(entry, 0), true);
                        fputc('=', f);
                        write_inline(f, bus_value_item(entry, 1), true);
                }
                if (nested)
                        fputc('}', f);
                return;
        }

        if (bus_value_is_array(v)) {
                if (nested)
                        fputc('[', f);
                write_items(f, v, ", ");
                if (nested)
                        fputc(']', f);
                return;
        }

        /* struct or stray dict entry */
        if (nested)
                fputc('(', f);
        write_items(f, v, " ");
        if (nested)
                fputc(')', f);
}

static char *format_with(void (*writer)(FILE *f, const BusValue *v), const BusValue *v) {
        _cleanup_fclose_ FILE *f = NULL;
        char *buf = NULL;
        size_t size = 0;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;

        writer(f, v);

        if (fclose(TAKE_PTR(f)) < 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static void write_inline_top(FILE *f, const BusValue *v) {
        /* Nothing to show says "-", so an empty value is visibly empty. */
        if ((bus_value_is_container(v) && bus_value_count(v) == 0) ||
            (bus_value_get_string(v) && isempty(v->string)))
                fputc('-', f);
        else
                write_inline(f, v, false);
}

char *format_value_inline(const BusValue *v) {
        return format_with(write_inline_top, v);
}

/* Multi-line rendering for "get": dictionaries one key=value per line, lists
 * of containers (like the (id, name, pin) structs of maps) one per line. */
static void write_multiline(FILE *f, const BusValue *v) {
        if (!bus_value_is_container(v) || bus_value_count(v) == 0) {
                write_inline_top(f, v);
                return;
        }

        if (bus_value_is_dict(v)) {
                for (size_t i = 0; i < bus_value_count(v); i++) {
                        const BusValue *entry = bus_value_item(v, i);

                        if (i > 0)
                                fputc('\n', f);
                        write_inline(f, bus_value_item(entry, 0), true);
                        fputc('=', f);
                        write_inline(f, bus_value_item(entry, 1), false);
                }
                return;
        }

        if (bus_value_is_array(v) && bus_value_is_container(bus_value_item(v, 0))) {
                for (size_t i = 0; i < bus_value_count(v); i++) {
                        if (i > 0)
                                fputc('\n', f);
                        write_inline(f, bus_value_item(v, i), false);
                }
                return;
        }

        write_inline(f, v, false);
}

static void write_lines(FILE *f, const BusValue *v) {
        if (!bus_value_is_array(v) || bus_value_count(v) == 0) {
                write_multiline(f, v);
                return;
        }
        for (size_t i = 0; i < bus_value_count(v); i++) {
                if (i > 0)
                        fputc('\n', f);
                write_inline(f, bus_value_item(v, i), false);
        }
}

static void write_object_ids(FILE *f, const BusValue *v) {
        if (!bus_value_is_array(v) || bus_value_count(v) == 0) {
                write_multiline(f, v);
                return;
        }
        for (size_t i = 0; i < bus_value_count(v); i++) {
                const BusValue *item = bus_value_item(v, i);
                uint32_t id;

                if (i > 0)
                        fputs(", ", f);
                if (object_path_to_id(bus_value_get_string(item), &id) >= 0)
                        fprintf(f, "%" PRIu32, id);
                else
                        write_inline(f, item, true);
        }
}

static char *format_field(const BusValue *v, FieldFormat format) {
        uint64_t u;
        int r;

        switch (format) {
        case FIELD_TIME_USEC:
                if (bus_value_get_uint(v, &u))
                        return format_timestamp_usec(u);
                break;

        case FIELD_USER:
                if (bus_value_get_uint(v, &u) && u <= UINT32_MAX) {
                        _cleanup_free_ char *name = NULL;
                        char *s;

                        if (lookup_user_name((uid_t) u, &name) < 0)
                                return NULL;
                        if (name)
                                r = asprintf(&s, "%s (%" PRIu64 ")", name, u);
                        else
                                r = asprintf(&s, "%" PRIu64, u); /* no such user (any more) */
                        return r < 0 ? NULL : s;
                }
                break;

        case FIELD_NSEC:
                if (bus_value_get_uint(v, &u)) {
                        char *s;

                        if (asprintf(&s, "%" PRIu64 " ns", u) < 0)
                                return NULL;
                        return s;
                }
                break;

        case FIELD_STATS_OFF:
                return strdup("- (the kernel keeps no run statistics: sysctl kernel.bpf_stats_enabled=1)");

        case FIELD_BYTE_COUNT:
                if (bus_value_is_bytes(v)) {
                        char *s;

                        if (v->bytes.size == 0)
                                return strdup("-");
                        if (asprintf(&s, "%zu bytes", v->bytes.size) < 0)
                                return NULL;
                        return s;
                }
                break;

        case FIELD_LINES:
                return format_with(write_lines, v);

        case FIELD_OBJECT_IDS:
                return format_with(write_object_ids, v);

        case FIELD_GENERIC:
                break;
        }

        /* Generic, and the fallback when the daemon sends a type we did not expect. */
        return format_with(write_multiline, v);
}

static const Field *find_field(const Field *fields, size_t n_fields, const char *key) {
        for (size_t i = 0; i < n_fields; i++)
                if (streq(fields[i].key, key))
                        return &fields[i];
        return NULL;
}

static void print_field(FILE *f, const char *label, int width, const char *text) {
        const char *line = text;

        fprintf(f, "%s:%*s", label, (int) (width - strlen(label) + 1), "");
        for (;;) {
                size_t n = strcspn(line, "\n");

                fwrite(line, 1, n, f);
                fputc('\n', f);
                if (line[n] == '\0')
                        break;
                line += n + 1;
                fprintf(f, "%*s", width + 2, ""); /* continuation lines line up under the value */
        }
}

int print_fields(FILE *f, const BusValue *dict, const Field *fields, size_t n_fields) {
        size_t width = 0;

        if (!bus_value_is_dict(dict))
                return -EINVAL;

        /* Labels: the known ones, and the bare key for others. */
        for (size_t i = 0; i < bus_value_count(dict); i++) {
                const char *key = bus_value_get_string(bus_value_item(bus_value_item(dict, i), 0));
                const Field *field;
                size_t w;

                if (!key)
                        continue;
                field = find_field(fields, n_fields, key);
                w = strlen(field ? field->label : key);
                if (w > width)
                        width = w;
        }

        for (size_t i = 0; i < n_fields; i++) {
                const BusValue *v = bus_value_dict_get(dict, fields[i].key);
                _cleanup_free_ char *text = NULL;

                if (!v)
                        continue;
                text = format_field(v, fields[i].format);
                if (!text)
                        return -ENOMEM;
                print_field(f, fields[i].label, (int) width, text);
        }

        for (size_t i = 0; i < bus_value_count(dict); i++) {
                const BusValue *entry = bus_value_item(dict, i);
                const char *key = bus_value_get_string(bus_value_item(entry, 0));
                _cleanup_free_ char *text = NULL;

                if (!key || find_field(fields, n_fields, key))
                        continue;
                text = format_field(bus_value_item(entry, 1), FIELD_GENERIC);
                if (!text)
                        return -ENOMEM;
                print_field(f, key, (int) width, text);
        }

        return 0;
}
