/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bpfctl map dump|get|set|delete|info PROGRAM_ID MAP ...: the map methods of
 * org.bpfd.Program, with keys and values formatted by the map's BTF where it
 * has some (as bpftool does) and as hex bytes otherwise. */

#include <inttypes.h>

#include "bpfctl.h"
#include "verb-map.h"
#include "btf-format.h"
#include "bytes-argument.h"
#include "format.h"
#include "json.h"
#include "manager.h"
#include "map.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

#define MAP_SYNOPSIS                                                                    \
        "  %1$s map dump PROGRAM_ID MAP\n"                                              \
        "  %1$s map get PROGRAM_ID MAP KEY\n"                                           \
        "  %1$s map set PROGRAM_ID MAP KEY VALUE [--only-create|--only-replace]\n"      \
        "  %1$s map delete PROGRAM_ID MAP KEY\n"                                        \
        "  %1$s map info PROGRAM_ID MAP\n"

static void help_map(void) {
        printf("Usage:\n"
               MAP_SYNOPSIS
               "\n"
               "Read and write the maps of a program bpfd loaded, through bpfd: no BPF\n"
               "rights of your own are needed, polkit decides (your own programs' maps by\n"
               "default, others' with an administrator's password). MAP is a map name as\n"
               "'%1$s get PROGRAM_ID' lists it under Maps, e.g. counter or prog.rodata.\n"
               "\n"
               "  dump    Print every entry, one \"key: KEY  value: VALUE\" line each.\n"
               "  get     Print the value stored under KEY (also: lookup).\n"
               "  set     Store VALUE under KEY (also: update).\n"
               "  delete  Remove the entry of KEY (array maps have no deletable entries).\n"
               "  info    Show the map's type, key and value size and types, flags, etc.\n"
               "\n"
               "KEY and VALUE are hex bytes in one argument, \"0a0b0c0d\" or \"0x0a0b0c0d\",\n"
               "or separated by blanks as bpftool takes them, \"0a 0b 0c 0d\", or a number\n"
               "TYPE:N with TYPE one of u8 u16 u32 u64 i8 i16 i32 i64, in host byte order\n"
               "(u32:1). They must have the map's key and value size ('map info'). In a\n"
               "per-CPU map, set stores VALUE on every CPU.\n"
               "\n"
               "Maps with BTF (built with type information) show keys and values by their\n"
               "C types, as libbpf prints them: numbers as numbers, structs as {.field =\n"
               "(TYPE)VALUE, ...} leaving out members that are zero; other maps (and keys\n"
               "without a type) as hex bytes \"0a 0b 0c 0d\". Per-CPU maps show one value per\n"
               "possible CPU.\n"
               "With --json, dump prints an array of {\"key\": KEY, \"value\": VALUE}, get one\n"
               "such object: with BTF, integers are JSON numbers, structs objects, arrays\n"
               "arrays and char arrays strings; without, values are hex strings. Per-CPU\n"
               "maps have \"values\": [{\"cpu\": N, \"value\": VALUE}, ...] instead of \"value\".\n"
               "info --json prints MapInfo's keys, plus key_type and value_type.\n"
               "\n"
               "Options:\n"
               "      --only-create         (set) Fail if KEY has an entry already\n"
               "      --only-replace        (set) Fail unless KEY has an entry already\n"
               COMMON_OPTIONS_HELP
               "\n"
               "Examples:\n"
               "  %1$s map dump 42 counter\n"
               "  %1$s map get 42 counter u32:0\n"
               "  %1$s map set 42 counter u32:1 u64:77\n"
               "  %1$s map set 42 counter \"01 00 00 00\" 4d00000000000000 --only-replace\n"
               "  %1$s map delete 42 flows 0a000001\n"
               "  %1$s --json map dump 42 counter\n"
               "  %1$s map info 42 counter\n"
               "\n"
               "Exit status 4 if the program has no such map or the map no entry for KEY.\n",
               PROGRAM_NAME);
}

enum {
        ARG_ONLY_CREATE = ARG_COMMAND_FIRST,
        ARG_ONLY_REPLACE,
};

typedef enum MapVerb {
        MAP_DUMP,
        MAP_GET,
        MAP_SET,
        MAP_DELETE,
        MAP_INFO,
} MapVerb;

static const struct {
        const char *name;
        MapVerb verb;
        int n_args; /* after the verb: PROGRAM_ID MAP [KEY [VALUE]] */
} map_verbs[] = {
        { "dump",   MAP_DUMP,   2 },
        { "get",    MAP_GET,    3 },
        { "lookup", MAP_GET,    3 }, /* bpftool's name */
        { "set",    MAP_SET,    4 },
        { "update", MAP_SET,    4 }, /* bpftool's name */
        { "delete", MAP_DELETE, 3 },
        { "info",   MAP_INFO,   2 },
};

typedef struct MapArguments {
        MapVerb verb;
        uint32_t program_id;
        const char *map;
        const char *key_text;
        const char *value_text;
        uint8_t *key;
        size_t key_size;
        uint8_t *value;
        size_t value_size;
        MapUpdateFlags flags;
} MapArguments;

static void map_arguments_done(MapArguments *a) {
        free(a->key);
        free(a->value);
}

/* Parses KEY or VALUE; logs what is wrong. */
static int parse_bytes(const char *what, const char *s, uint8_t **ret_data, size_t *ret_size) {
        int r;

        r = parse_bytes_argument(s, ret_data, ret_size);
        if (r == -ENOMEM)
                return log_oom();
        if (r == -ERANGE) {
                log_error("invalid %s '%s': the number is out of range for its type", what, s);
                return -EINVAL;
        }
        if (r < 0) {
                log_error("invalid %s '%s': expected hex bytes (0a0b0c0d, 0x0a0b0c0d or \"0a 0b 0c 0d\") "
                          "or TYPE:NUMBER with TYPE one of u8 u16 u32 u64 i8 i16 i32 i64", what, s);
                return -EINVAL;
        }
        return 0;
}

static int parse_map_argv(int argc, char *argv[], MapArguments *args) {
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "only-create",  no_argument, NULL, ARG_ONLY_CREATE  },
                { "only-replace", no_argument, NULL, ARG_ONLY_REPLACE },
                {}
        };
        const char *verb;
        int c, n = -1, r;

        while ((c = getopt_long(argc, argv, "hq", options, NULL)) >= 0) {
                if (parse_common_option(c))
                        continue;
                switch (c) {
                case 'h':
                        help_map();
                        return 0;
                case ARG_ONLY_CREATE:
                case ARG_ONLY_REPLACE: {
                        MapUpdateFlags flags = c == ARG_ONLY_CREATE ? MAP_UPDATE_ONLY_CREATE : MAP_UPDATE_ONLY_REPLACE;

                        if (args->flags != MAP_UPDATE_ANY && args->flags != flags) {
                                log_error("--only-create and --only-replace exclude each other");
                                return -EINVAL;
                        }
                        args->flags = flags;
                        break;
                }
                default:
                        return -EINVAL; /* getopt said what */
                }
        }

        if (optind >= argc) {
                log_error("map needs a command: dump, get, set, delete or info");
                return -EINVAL;
        }
        verb = argv[optind++];
        for (size_t i = 0; i < ELEMENTSOF(map_verbs); i++)
                if (streq(map_verbs[i].name, verb)) {
                        args->verb = map_verbs[i].verb;
                        n = map_verbs[i].n_args;
                        break;
                }
        if (n < 0) {
                log_error("unknown map command '%s': expected dump, get, set, delete or info", verb);
                return -EINVAL;
        }

        if (argc - optind < n) {
                static const char *const needed[] = { "PROGRAM_ID", "MAP", "KEY", "VALUE" };

                log_error("map %s needs %s", verb, needed[argc - optind]);
                return -EINVAL;
        }
        if (argc - optind > n) {
                log_error("unexpected argument '%s'", argv[optind + n]);
                return -EINVAL;
        }
        if (args->flags != MAP_UPDATE_ANY && args->verb != MAP_SET) {
                log_error("--only-create and --only-replace are options of 'map set'");
                return -EINVAL;
        }

        if (parse_id_argument("PROGRAM_ID", argv[optind], &args->program_id) < 0)
                return -EINVAL;
        args->map = argv[optind + 1];
        if (isempty(args->map)) {
                log_error("a MAP name is needed");
                return -EINVAL;
        }

        if (n >= 3) {
                args->key_text = argv[optind + 2];
                r = parse_bytes("KEY", args->key_text, &args->key, &args->key_size);
                if (r < 0)
                        return r;
        }
        if (n >= 4) {
                args->value_text = argv[optind + 3];
                r = parse_bytes("VALUE", args->value_text, &args->value, &args->value_size);
                if (r < 0)
                        return r;
        }

        return 1;
}

/* What MapInfo said about the map, and how to show its keys and values. */
typedef struct MapContext {
        sd_bus *bus;
        const MapArguments *args;
        BusValue *info;
        MapShape shape;
        BtfFormatter *btf; /* NULL: no BTF, hex bytes */
} MapContext;

static void map_context_done(MapContext *c) {
        btf_formatter_free(c->btf);
        bus_value_free(c->info);
}

static int map_context_load(MapContext *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = bpfd_map_info(c->bus, c->args->program_id, c->args->map, &error, &c->info);
        if (r < 0)
                return log_bus_error(&error, r, "cannot get the map");

        r = map_shape_from_info(c->info, &c->shape);
        if (r < 0)
                return log_bus_error(NULL, r, "cannot read the map's info");

        /* BTF that libbpf cannot parse just means hex, as for maps without. */
        if (c->shape.btf && (c->shape.btf_key_type_id || c->shape.btf_value_type_id))
                (void) btf_formatter_new(c->shape.btf, c->shape.btf_size, &c->btf);

        return EXIT_STATUS_SUCCESS;
}

static bool is_typed(const MapContext *c, uint32_t type_id, size_t size) {
        return c->btf && btf_formatter_fits(c->btf, type_id, size);
}

/* NULL only on OOM. */
static char *format_text(const MapContext *c, uint32_t type_id, const uint8_t *data, size_t size) {
        char *s;

        if (is_typed(c, type_id, size) && btf_format_text(c->btf, type_id, data, size, &s) >= 0)
                return s;
        return format_hex_bytes(data, size);
}

static void write_json(const MapContext *c, FILE *f, uint32_t type_id, const uint8_t *data, size_t size) {
        if (is_typed(c, type_id, size))
                btf_format_json(c->btf, f, type_id, data, size);
        else {
                _cleanup_free_ char *hex = hex_encode(data, size);

                json_print_string(f, hex ?: "");
        }
}

/* Whether value holds one value per possible CPU, as per-CPU maps return them. */
static bool is_per_cpu_value(const MapContext *c, size_t size) {
        return c->shape.per_cpu && size == map_shape_full_value_size(&c->shape);
}

/* The text of an entry: "key: K  value: V", per CPU "key: K" and one
 * "  value (CPU NN): V" line per CPU. Without key, just V (or the CPU lines). */
static int print_entry_text(const MapContext *c, const uint8_t *key, size_t key_size,
                            const uint8_t *value, size_t value_size) {
        _cleanup_free_ char *k = NULL, *v = NULL;

        if (key) {
                k = format_text(c, c->shape.btf_key_type_id, key, key_size);
                if (!k)
                        return -ENOMEM;
        }

        if (is_per_cpu_value(c, value_size)) {
                size_t stride = map_shape_value_stride(&c->shape);

                if (k)
                        printf("key: %s\n", k);
                for (uint32_t cpu = 0; cpu < c->shape.possible_cpus; cpu++) {
                        _cleanup_free_ char *v = format_text(c, c->shape.btf_value_type_id, value + cpu * stride,
                                                             c->shape.value_size);

                        if (!v)
                                return -ENOMEM;
                        printf("%svalue (CPU %02" PRIu32 "): %s\n", k ? "  " : "", cpu, v);
                }
                return 0;
        }

        v = format_text(c, c->shape.btf_value_type_id, value, value_size);
        if (!v)
                return -ENOMEM;
        if (k)
                printf("key: %s  value: %s\n", k, v);
        else
                printf("%s\n", v);
        return 0;
}

/* {"key": K, "value": V}, or "values": [{"cpu": N, "value": V}, ...] for per-CPU maps. */
static void print_entry_json(const MapContext *c, FILE *f, const uint8_t *key, size_t key_size,
                             const uint8_t *value, size_t value_size, const char *indent) {
        fprintf(f, "%s{\n%s  \"key\": ", indent, indent);
        write_json(c, f, c->shape.btf_key_type_id, key, key_size);

        if (is_per_cpu_value(c, value_size)) {
                size_t stride = map_shape_value_stride(&c->shape);

                fprintf(f, ",\n%s  \"values\": [", indent);
                for (uint32_t cpu = 0; cpu < c->shape.possible_cpus; cpu++) {
                        fprintf(f, "%s\n%s    {\"cpu\": %" PRIu32 ", \"value\": ", cpu > 0 ? "," : "", indent, cpu);
                        write_json(c, f, c->shape.btf_value_type_id, value + cpu * stride, c->shape.value_size);
                        fputc('}', f);
                }
                fprintf(f, "\n%s  ]", indent);
        } else {
                fprintf(f, ",\n%s  \"value\": ", indent);
                write_json(c, f, c->shape.btf_value_type_id, value, value_size);
        }

        fprintf(f, "\n%s}", indent);
}

static const BusValue *entry_bytes(const BusValue *entry, size_t i) {
        const BusValue *v = bus_value_item(entry, i);

        return bus_value_is_bytes(v) ? v : NULL;
}

static int map_dump(MapContext *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_value_ BusValue *entries = NULL;
        size_t n;
        int r;

        r = bpfd_map_dump(c->bus, c->args->program_id, c->args->map, &error, &entries);
        if (r < 0)
                return log_bus_error(&error, r, "cannot dump the map");
        if (!bus_value_is_array(entries))
                return log_bus_error(NULL, -EBADMSG, "cannot read the entries");

        n = bus_value_count(entries);
        if (arg_json)
                fputs(n > 0 ? "[\n" : "[]\n", stdout);

        for (size_t i = 0; i < n; i++) {
                const BusValue *entry = bus_value_item(entries, i);
                const BusValue *key = entry_bytes(entry, 0), *value = entry_bytes(entry, 1);

                if (!key || !value)
                        return log_bus_error(NULL, -EBADMSG, "cannot read the entries");

                if (arg_json) {
                        print_entry_json(c, stdout, key->bytes.data, key->bytes.size, value->bytes.data,
                                         value->bytes.size, "  ");
                        fputs(i + 1 < n ? ",\n" : "\n]\n", stdout);
                } else {
                        r = print_entry_text(c, key->bytes.data, key->bytes.size, value->bytes.data,
                                             value->bytes.size);
                        if (r < 0)
                                return log_bus_error(NULL, r, "cannot print the entries");
                }
        }

        return EXIT_STATUS_SUCCESS;
}

/* KEY and VALUE must have the sizes the map has; the daemon would say so too,
 * but as an InvalidArgument, not as the usage error it is. */
static int check_size(const MapContext *c, bool key, const char *text, size_t size, size_t expected) {
        if (size == expected)
                return 0;

        log_error("%s '%s' is %zu byte%s long, but the %s of map '%s' are %zu byte%s long", key ? "KEY" : "VALUE",
                  text, size, size == 1 ? "" : "s", key ? "keys" : "values", c->args->map, expected,
                  expected == 1 ? "" : "s");
        return -EINVAL;
}

static int map_get(MapContext *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_value_ BusValue *value = NULL;
        const MapArguments *a = c->args;
        int r;

        if (check_size(c, true, a->key_text, a->key_size, c->shape.key_size) < 0)
                return EXIT_STATUS_USAGE;

        r = bpfd_map_lookup(c->bus, a->program_id, a->map, a->key, a->key_size, &error, &value);
        if (r < 0)
                return log_bus_error(&error, r, "cannot look up the key");
        if (!bus_value_is_bytes(value))
                return log_bus_error(NULL, -EBADMSG, "cannot read the value");

        if (arg_json) {
                print_entry_json(c, stdout, a->key, a->key_size, value->bytes.data, value->bytes.size, "");
                fputc('\n', stdout);
                return EXIT_STATUS_SUCCESS;
        }

        r = print_entry_text(c, NULL, 0, value->bytes.data, value->bytes.size);
        if (r < 0)
                return log_bus_error(NULL, r, "cannot print the value");
        return EXIT_STATUS_SUCCESS;
}

static int map_set(MapContext *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ uint8_t *per_cpu = NULL;
        const MapArguments *a = c->args;
        const uint8_t *value = a->value;
        size_t value_size = a->value_size;
        int r;

        if (check_size(c, true, a->key_text, a->key_size, c->shape.key_size) < 0)
                return EXIT_STATUS_USAGE;

        /* Per-CPU maps: one VALUE for every CPU, unless all of them are given. */
        if (c->shape.per_cpu && value_size == c->shape.value_size) {
                size_t stride = map_shape_value_stride(&c->shape);

                per_cpu = calloc(c->shape.possible_cpus, stride);
                if (!per_cpu)
                        return log_oom(), EXIT_STATUS_FAILURE;
                for (uint32_t cpu = 0; cpu < c->shape.possible_cpus; cpu++)
                        memcpy(per_cpu + cpu * stride, value, value_size);
                value = per_cpu;
                value_size = map_shape_full_value_size(&c->shape);
        } else if (!(c->shape.per_cpu && value_size == map_shape_full_value_size(&c->shape)) &&
                   check_size(c, false, a->value_text, value_size, c->shape.value_size) < 0)
                return EXIT_STATUS_USAGE;

        r = bpfd_map_update(c->bus, a->program_id, a->map, a->key, a->key_size, value, value_size, a->flags, &error);
        if (r < 0)
                return log_bus_error(&error, r, "cannot update the map");
        confirm("Set key %s of map %s of program %" PRIu32 ".", a->key_text, a->map, a->program_id);
        return EXIT_STATUS_SUCCESS;
}

static int map_delete(MapContext *c) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const MapArguments *a = c->args;
        int r;

        if (check_size(c, true, a->key_text, a->key_size, c->shape.key_size) < 0)
                return EXIT_STATUS_USAGE;

        r = bpfd_map_delete(c->bus, a->program_id, a->map, a->key, a->key_size, &error);
        if (r < 0)
                return log_bus_error(&error, r, "cannot delete the key");
        confirm("Deleted key %s of map %s of program %" PRIu32 ".", a->key_text, a->map, a->program_id);
        return EXIT_STATUS_SUCCESS;
}

static const Field map_info_fields[] = {
        { "id",                "ID",                FIELD_GENERIC    },
        { "name",              "Name",              FIELD_GENERIC    },
        { "type",              "Type",              FIELD_GENERIC    },
        { "type_id",           "Type ID",           FIELD_GENERIC    },
        { "key_size",          "Key size",          FIELD_GENERIC    },
        { "value_size",        "Value size",        FIELD_GENERIC    },
        { "key_type",          "Key type",          FIELD_GENERIC    },
        { "value_type",        "Value type",        FIELD_GENERIC    },
        { "max_entries",       "Max entries",       FIELD_GENERIC    },
        { "flags",             "Flags",             FIELD_GENERIC    },
        { "per_cpu",           "Per CPU",           FIELD_GENERIC    },
        { "possible_cpus",     "Possible CPUs",     FIELD_GENERIC    },
        { "btf",               "BTF",               FIELD_BYTE_COUNT },
        { "btf_key_type_id",   "BTF key type ID",   FIELD_GENERIC    },
        { "btf_value_type_id", "BTF value type ID", FIELD_GENERIC    },
        { "pin_path",          "Pin path",          FIELD_GENERIC    },
};

/* Adds the C name of a BTF type to the info, if there is one. */
static int add_type_name(MapContext *c, const char *key, uint32_t type_id) {
        _cleanup_free_ char *name = NULL;
        BusValue *v;
        int r;

        if (!c->btf || type_id == 0 || btf_format_type_name(c->btf, type_id, &name) < 0 || isempty(name))
                return 0;

        r = bus_value_new_string(name, &v);
        if (r < 0)
                return r;
        return bus_value_dict_append(c->info, key, v);
}

static int map_info(MapContext *c) {
        int r;

        r = add_type_name(c, "key_type", c->shape.btf_key_type_id);
        if (r >= 0)
                r = add_type_name(c, "value_type", c->shape.btf_value_type_id);
        if (r < 0)
                return log_bus_error(NULL, r, "cannot name the map's types");

        if (arg_json) {
                json_print(stdout, c->info);
                return EXIT_STATUS_SUCCESS;
        }

        r = print_fields(stdout, c->info, map_info_fields, ELEMENTSOF(map_info_fields));
        if (r < 0)
                return log_bus_error(NULL, r, "cannot print the map's info");
        return EXIT_STATUS_SUCCESS;
}

int verb_map(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(map_arguments_done) MapArguments args = {};
        _cleanup_(map_context_done) MapContext c = {};
        int r;

        r = parse_map_argv(argc, argv, &args);
        if (r <= 0)
                return exit_status_from_parse(r);

        r = connect_bpfd(&bus);
        if (r < 0)
                return EXIT_STATUS_UNREACHABLE;

        /* Every command needs the map's sizes or types first; a missing map ends it here. */
        c.bus = bus;
        c.args = &args;
        r = map_context_load(&c);
        if (r != EXIT_STATUS_SUCCESS)
                return r;

        switch (args.verb) {
        case MAP_DUMP:
                return map_dump(&c);
        case MAP_GET:
                return map_get(&c);
        case MAP_SET:
                return map_set(&c);
        case MAP_DELETE:
                return map_delete(&c);
        case MAP_INFO:
                return map_info(&c);
        }
        return EXIT_STATUS_FAILURE;
}
