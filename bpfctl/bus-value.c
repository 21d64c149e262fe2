/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-value.h"
#include "string-util.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

static bool type_is_basic(char type) {
        return type && strchr("ybnqiuxtdsogh", type);
}

BusValue *bus_value_free(BusValue *v) {
        if (!v)
                return NULL;

        if (bus_value_is_bytes(v))
                free(v->bytes.data);
        else if (bus_value_is_container(v)) {
                for (size_t i = 0; i < v->container.n_items; i++)
                        bus_value_free(v->container.items[i]);
                free(v->container.items);
        } else if (strchr("sog", v->type))
                free(v->string);

        free(v->signature);
        free(v);
        return NULL;
}

static int bus_value_new(char type, const char *signature, BusValue **ret) {
        _cleanup_bus_value_ BusValue *v = NULL;

        v = calloc(1, sizeof(BusValue));
        if (!v)
                return -ENOMEM;
        v->type = type;
        v->signature = strdup(signature);
        if (!v->signature)
                return -ENOMEM;

        *ret = TAKE_PTR(v);
        return 0;
}

int bus_value_new_container(char type, const char *signature, BusValue **ret) {
        if (!strchr("are", type) || streq(signature, "ay"))
                return -EINVAL;
        return bus_value_new(type, signature, ret);
}

int bus_value_new_string(const char *s, BusValue **ret) {
        _cleanup_bus_value_ BusValue *v = NULL;
        int r;

        r = bus_value_new('s', "s", &v);
        if (r < 0)
                return r;
        v->string = strdup(s);
        if (!v->string)
                return -ENOMEM;

        *ret = TAKE_PTR(v);
        return 0;
}

int bus_value_append(BusValue *container, BusValue *item) {
        BusValue **items;

        assert(item);

        if (!bus_value_is_container(container)) {
                bus_value_free(item);
                return -EINVAL;
        }

        items = reallocarray(container->container.items, container->container.n_items + 1, sizeof(BusValue *));
        if (!items) {
                bus_value_free(item);
                return -ENOMEM;
        }
        items[container->container.n_items++] = item;
        container->container.items = items;
        return 0;
}

int bus_value_dict_append(BusValue *dict, const char *key, BusValue *value) {
        _cleanup_bus_value_ BusValue *entry = NULL, *k = NULL, *owned = value;
        int r;

        assert(key);
        assert(value);

        if (!bus_value_is_dict(dict) || strncmp(dict->signature, "a{s", 3) != 0)
                return -EINVAL;

        r = bus_value_new('e', dict->signature + 1, &entry); /* "a{sv}" → "{sv}" */
        if (r < 0)
                return r;

        r = bus_value_new('s', "s", &k);
        if (r < 0)
                return r;
        k->string = strdup(key);
        if (!k->string)
                return -ENOMEM;

        r = bus_value_append(entry, TAKE_PTR(k));
        if (r < 0)
                return r;
        r = bus_value_append(entry, TAKE_PTR(owned));
        if (r < 0)
                return r;

        return bus_value_append(dict, TAKE_PTR(entry));
}

static int read_basic(sd_bus_message *m, char type, BusValue *v) {
        union {
                uint8_t y;
                int b;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
                const char *s;
                int h;
        } x;
        int r;

        r = sd_bus_message_read_basic(m, type, &x);
        if (r < 0)
                return r;

        switch (type) {
        case 'y': v->uinteger = x.y; break;
        case 'b': v->boolean = x.b; break;
        case 'n': v->integer = x.n; break;
        case 'q': v->uinteger = x.q; break;
        case 'i': v->integer = x.i; break;
        case 'u': v->uinteger = x.u; break;
        case 'x': v->integer = x.x; break;
        case 't': v->uinteger = x.t; break;
        case 'd': v->floating = x.d; break;
        case 'h': v->integer = x.h; break; /* the number only; the fd stays the message's */
        case 's':
        case 'o':
        case 'g':
                v->string = strdup(x.s);
                if (!v->string)
                        return -ENOMEM;
                break;
        default:
                return -EBADMSG;
        }
        return 0;
}

int bus_value_read(sd_bus_message *m, BusValue **ret) {
        _cleanup_bus_value_ BusValue *v = NULL;
        _cleanup_free_ char *signature = NULL;
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENXIO; /* nothing left to read */

        if (type_is_basic(type)) {
                char s[2] = { type, '\0' };

                r = bus_value_new(type, s, &v);
                if (r < 0)
                        return r;
                r = read_basic(m, type, v);
                if (r < 0)
                        return r;

                *ret = TAKE_PTR(v);
                return 0;
        }

        if (type == 'v') {
                BusValue *inner;

                r = sd_bus_message_enter_container(m, 'v', contents);
                if (r < 0)
                        return r;
                r = bus_value_read(m, &inner);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0) {
                        bus_value_free(inner);
                        return r;
                }

                *ret = inner;
                return 0;
        }

        switch (type) {
        case 'a': r = asprintf(&signature, "a%s", contents); break;
        case 'r': r = asprintf(&signature, "(%s)", contents); break;
        case 'e': r = asprintf(&signature, "{%s}", contents); break;
        default: return -EBADMSG;
        }
        if (r < 0)
                return -ENOMEM;

        r = bus_value_new(type, signature, &v);
        if (r < 0)
                return r;

        if (streq(signature, "ay")) {
                const void *data;
                size_t size;

                r = sd_bus_message_read_array(m, 'y', &data, &size);
                if (r < 0)
                        return r;
                v->bytes.data = malloc(size ? size : 1);
                if (!v->bytes.data)
                        return -ENOMEM;
                if (size > 0)
                        memcpy(v->bytes.data, data, size);
                v->bytes.size = size;

                *ret = TAKE_PTR(v);
                return 0;
        }

        r = sd_bus_message_enter_container(m, type, contents);
        if (r < 0)
                return r;

        for (;;) {
                BusValue *item;

                r = bus_value_read(m, &item);
                if (r == -ENXIO)
                        break;
                if (r < 0)
                        return r;

                r = bus_value_append(v, item);
                if (r < 0)
                        return r;
        }

        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(v);
        return 0;
}

bool bus_value_is_bytes(const BusValue *v) {
        return v && v->type == 'a' && streq(v->signature, "ay");
}

bool bus_value_is_dict(const BusValue *v) {
        return v && v->type == 'a' && v->signature[1] == '{';
}

bool bus_value_is_array(const BusValue *v) {
        return v && v->type == 'a' && !bus_value_is_bytes(v);
}

bool bus_value_is_container(const BusValue *v) {
        return v && strchr("are", v->type) && !bus_value_is_bytes(v);
}

bool bus_value_is_basic(const BusValue *v) {
        return v && type_is_basic(v->type);
}

size_t bus_value_count(const BusValue *v) {
        if (bus_value_is_bytes(v))
                return v->bytes.size;
        if (bus_value_is_container(v))
                return v->container.n_items;
        return 0;
}

const BusValue *bus_value_item(const BusValue *v, size_t i) {
        if (!bus_value_is_container(v) || i >= v->container.n_items)
                return NULL;
        return v->container.items[i];
}

const BusValue *bus_value_dict_get(const BusValue *dict, const char *key) {
        if (!bus_value_is_dict(dict))
                return NULL;

        for (size_t i = 0; i < dict->container.n_items; i++) {
                const BusValue *entry = dict->container.items[i];

                if (entry->container.n_items == 2 &&
                    streq_ptr(bus_value_get_string(entry->container.items[0]), key))
                        return entry->container.items[1];
        }
        return NULL;
}

bool bus_value_get_uint(const BusValue *v, uint64_t *ret) {
        if (!v)
                return false;

        switch (v->type) {
        case 'y':
        case 'q':
        case 'u':
        case 't':
                *ret = v->uinteger;
                return true;
        case 'n':
        case 'i':
        case 'x':
                if (v->integer < 0)
                        return false;
                *ret = (uint64_t) v->integer;
                return true;
        default:
                return false;
        }
}

const char *bus_value_get_string(const BusValue *v) {
        if (!v || !strchr("sog", v->type))
                return NULL;
        return v->string;
}

bool bus_value_get_bool(const BusValue *v, bool *ret) {
        if (!v || v->type != 'b')
                return false;
        *ret = v->boolean;
        return true;
}

bool bus_value_dict_get_uint(const BusValue *dict, const char *key, uint64_t *ret) {
        return bus_value_get_uint(bus_value_dict_get(dict, key), ret);
}

const char *bus_value_dict_get_string(const BusValue *dict, const char *key) {
        return bus_value_get_string(bus_value_dict_get(dict, key));
}

static int compare_by_id(const void *a, const void *b) {
        const BusValue *x = *(BusValue * const *) a, *y = *(BusValue * const *) b;
        uint64_t i, j;
        bool has_i, has_j;

        has_i = bus_value_dict_get_uint(x, "id", &i);
        has_j = bus_value_dict_get_uint(y, "id", &j);
        if (has_i != has_j)
                return has_i ? -1 : 1;
        if (!has_i)
                return 0;
        return i < j ? -1 : i > j;
}

void bus_value_sort_by_id(BusValue *array) {
        if (!bus_value_is_array(array) || array->container.n_items < 2)
                return;
        qsort(array->container.items, array->container.n_items, sizeof(BusValue *), compare_by_id);
}

/* The daemon may or may not escape the id with sd_bus_path_encode() (which
 * turns a leading digit into "_3x"); sd_bus_path_decode() undoes either. */
int object_path_to_id(const char *path, uint32_t *ret) {
        _cleanup_free_ char *prefix = NULL, *label = NULL;
        const char *slash;
        int r;

        if (!path)
                return -EINVAL;

        slash = strrchr(path, '/');
        if (!slash || slash == path)
                return -EINVAL;

        prefix = strndup(path, slash - path);
        if (!prefix)
                return -ENOMEM;

        r = sd_bus_path_decode(path, prefix, &label);
        if (r < 0)
                return r;
        if (r == 0)
                return -EINVAL;

        return parse_id(label, ret);
}
