/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdarg.h>

#include "bus-util.h"
#include "errors.h"
#include "utf8.h"

int bus_read_options(sd_bus_message *m, const char *what, const BusOption *options, void *userdata,
                     sd_bus_error *error) {
        const char *seen[64];
        size_t n_seen = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const BusOption *o;
                const char *key, *contents;
                char type;

                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                for (o = options; o->key; o++)
                        if (streq(o->key, key))
                                break;
                if (!o->key)
                        return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT, "Unknown %s option '%.*s'.",
                                                 what, UTF8_CUT(key, 64));
                for (size_t i = 0; i < n_seen; i++)
                        if (streq(seen[i], o->key))
                                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT,
                                                         "The %s option '%s' is given twice.", what, key);
                if (n_seen < ELEMENTSOF(seen))
                        seen[n_seen++] = o->key;

                r = sd_bus_message_peek_type(m, &type, &contents);
                if (r < 0)
                        return r;
                if (type != 'v' || !streq(contents, o->signature))
                        return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT,
                                                 "The %s option '%s' must be of type '%s', not '%s'.", what, key,
                                                 o->signature, contents);
                r = sd_bus_message_enter_container(m, 'v', o->signature);
                if (r < 0)
                        return r;
                r = o->read(m, key, userdata, error);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int bus_read_string_checked(sd_bus_message *m, const char *key, size_t max, char **ret, sd_bus_error *error) {
        const char *s;
        int r;

        r = sd_bus_message_read_basic(m, 's', &s);
        if (r < 0)
                return r;
        if (strlen(s) > max)
                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT,
                                         "The value of '%s' is too long (%zu bytes, at most %zu).", key, strlen(s),
                                         max);
        if (!*s)
                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT, "The value of '%s' is empty.", key);
        free(*ret);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int bus_read_strv_checked(sd_bus_message *m, const char *key, char ***ret, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = sd_bus_message_read_strv(m, &l);
        if (r < 0)
                return r;
        if (strv_length(l) > BPFD_LIST_MAX)
                return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT, "Too many entries in '%s'.", key);
        for (char **i = l; i && *i; i++) {
                if (!**i)
                        return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT, "Empty entry in '%s'.", key);
                if (strlen(*i) > BPFD_NAME_MAX)
                        return sd_bus_error_setf(error, BPFD_ERROR_INVALID_ARGUMENT,
                                                 "An entry of '%s' is too long (at most %u bytes).", key,
                                                 BPFD_NAME_MAX);
        }
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 0;
}

int bus_reply_sorted_dicts(sd_bus_message *msg, GHashTable *table, GCompareFunc cmp,
                           int (*append)(sd_bus_message *reply, const void *value), sd_bus_error *error) {
        static const BusOption no_options[] = { {} };
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        g_autoptr(GPtrArray) list = NULL;
        GHashTableIter it;
        gpointer v;
        int r;

        assert(msg);
        assert(table);
        assert(cmp && append);
        r = bus_read_options(msg, "filter", no_options, NULL, error);
        if (r < 0)
                return r;
        list = g_ptr_array_sized_new(g_hash_table_size(table));
        g_hash_table_iter_init(&it, table);
        while (g_hash_table_iter_next(&it, NULL, &v))
                g_ptr_array_add(list, v);
        g_ptr_array_sort(list, cmp);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (guint i = 0; r >= 0 && i < list->len; i++)
                r = append(reply, g_ptr_array_index(list, i));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}
