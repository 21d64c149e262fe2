/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec-file.h"
#include "../utf8.h" /* by path: bpfctl builds this file too */

typedef enum ValueType {
        VALUE_STRING,   /* s */
        VALUE_LIST,     /* as; key file: a;b;c */
        VALUE_UINT64,   /* t */
        VALUE_INT32,    /* i */
        VALUE_BOOLEAN,  /* b */
        VALUE_PAIRS,    /* a{ss}; key file: key=value;... */
        VALUE_BYTES,    /* a{say}; key file: name=hex;... */
} ValueType;

typedef struct SpecKey {
        const char *file_key;
        const char *bus_key;
        ValueType type;
} SpecKey;

static const SpecKey spec_keys[] = {
        { "Description", "description", VALUE_STRING },
        {}
};

static const SpecKey object_keys[] = {
        { "Path", "path", VALUE_STRING },
        { "Image", "image", VALUE_STRING },
        { "ImagePullPolicy", "pull_policy", VALUE_STRING },
        { "Programs", "programs", VALUE_LIST },
        { "Metadata", "metadata", VALUE_PAIRS },
        { "GlobalData", "global_data", VALUE_BYTES },
        { "MapOwner", "map_owner", VALUE_STRING },
        {}
};

static const SpecKey attach_keys[] = {
        { "Object", "object", VALUE_STRING },
        { "Program", "program", VALUE_STRING },
        { "Kind", "kind", VALUE_STRING },
        { "Tracepoint", "tracepoint", VALUE_STRING },
        { "Target", "target", VALUE_STRING },
        { "Function", "function", VALUE_STRING },
        { "Offset", "offset", VALUE_UINT64 },
        { "Pid", "pid", VALUE_INT32 },
        { "ContainerPid", "container_pid", VALUE_INT32 },
        { "Retprobe", "retprobe", VALUE_BOOLEAN },
        { "Cgroup", "cgroup", VALUE_STRING },
        { "AttachType", "attach_type", VALUE_STRING },
        { "Interface", "interface", VALUE_STRING },
        { "Netns", "netns", VALUE_STRING },
        { "Direction", "direction", VALUE_STRING },
        { "Mode", "mode", VALUE_STRING },
        { "Priority", "priority", VALUE_INT32 },
        { "ProceedOn", "proceed_on", VALUE_LIST },
        {}
};

static const char *const value_signatures[] = {
        [VALUE_STRING] = "s", [VALUE_LIST] = "as", [VALUE_UINT64] = "t", [VALUE_INT32] = "i",
        [VALUE_BOOLEAN] = "b", [VALUE_PAIRS] = "a{ss}", [VALUE_BYTES] = "a{say}",
};

static int fail(char **ret_error, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;

        if (ret_error && !*ret_error) {
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return r;
}

/* GKeyFile has no call to add an empty group: add a key and take it away again. */
static void add_group(GKeyFile *kf, const char *group) {
        g_key_file_set_string(kf, group, "X-Placeholder", "");
        (void) g_key_file_remove_key(kf, group, "X-Placeholder", NULL);
}

static const SpecKey *find_file_key(const SpecKey *keys, const char *k) {
        for (; keys->file_key; keys++)
                if (strcmp(keys->file_key, k) == 0)
                        return keys;
        return NULL;
}

static const SpecKey *find_bus_key(const SpecKey *keys, const char *k) {
        for (; keys->file_key; keys++)
                if (strcmp(keys->bus_key, k) == 0)
                        return keys;
        return NULL;
}

/* ---- key file → a{sv} ---- */

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static int append_value(sd_bus_message *m, GKeyFile *kf, const char *group, const SpecKey *k, char **ret_error) {
        g_autoptr(GError) err = NULL;
        g_auto(GStrv) list = NULL;
        int r;

        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append_basic(m, 's', k->bus_key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', value_signatures[k->type]);
        if (r < 0)
                return r;
        switch (k->type) {
        case VALUE_STRING: {
                g_autofree gchar *s = g_key_file_get_string(kf, group, k->file_key, &err);
                if (s)
                        r = sd_bus_message_append_basic(m, 's', s);
                break;
        }
        case VALUE_UINT64: {
                g_autofree gchar *s = g_key_file_get_string(kf, group, k->file_key, &err);
                char *end;
                unsigned long long v;

                if (!s)
                        break;
                errno = 0;
                v = strtoull(s, &end, 0);
                if (!*s || *end || errno || s[0] == '-')
                        return fail(ret_error, -EINVAL, "[%s] %s=%s is not a number.", group, k->file_key, s);
                r = sd_bus_message_append(m, "t", (uint64_t) v);
                break;
        }
        case VALUE_INT32: {
                gint v = g_key_file_get_integer(kf, group, k->file_key, &err);
                if (!err)
                        r = sd_bus_message_append(m, "i", (int32_t) v);
                break;
        }
        case VALUE_BOOLEAN: {
                gboolean v = g_key_file_get_boolean(kf, group, k->file_key, &err);
                if (!err)
                        r = sd_bus_message_append(m, "b", (int) v);
                break;
        }
        case VALUE_LIST:
        case VALUE_PAIRS:
        case VALUE_BYTES:
                list = g_key_file_get_string_list(kf, group, k->file_key, NULL, &err);
                if (!list)
                        break;
                if (k->type == VALUE_LIST) {
                        r = sd_bus_message_append_strv(m, list);
                        break;
                }
                r = sd_bus_message_open_container(m, 'a', k->type == VALUE_PAIRS ? "{ss}" : "{say}");
                for (char **i = list; r >= 0 && *i; i++) {
                        char *eq = strchr(*i, '=');
                        g_autofree gchar *name = eq ? g_strndup(*i, eq - *i) : NULL;

                        if (!eq || eq == *i)
                                return fail(ret_error, -EINVAL, "[%s] %s: '%s' is not of the form NAME=VALUE.", group,
                                            k->file_key, *i);
                        if (k->type == VALUE_PAIRS) {
                                r = sd_bus_message_append(m, "{ss}", name, eq + 1);
                                continue;
                        }
                        {
                                const char *hex = eq + 1;
                                size_t n;
                                g_autofree uint8_t *bytes = NULL;

                                if (strncmp(hex, "0x", 2) == 0)
                                        hex += 2;
                                n = strlen(hex);
                                if (n == 0 || n % 2)
                                        return fail(ret_error, -EINVAL,
                                                    "[%s] %s: the value of '%s' must be bytes in hex (e.g. 0a000000).",
                                                    group, k->file_key, name);
                                bytes = g_malloc(n / 2);
                                for (size_t b = 0; b < n / 2; b++) {
                                        int hi = hex_value(hex[2 * b]), lo = hex_value(hex[2 * b + 1]);
                                        if (hi < 0 || lo < 0)
                                                return fail(ret_error, -EINVAL,
                                                            "[%s] %s: the value of '%s' is not hex.", group,
                                                            k->file_key, name);
                                        bytes[b] = (uint8_t) (hi << 4 | lo);
                                }
                                r = sd_bus_message_open_container(m, 'e', "say");
                                if (r >= 0)
                                        r = sd_bus_message_append_basic(m, 's', name);
                                if (r >= 0)
                                        r = sd_bus_message_append_array(m, 'y', bytes, n / 2);
                                if (r >= 0)
                                        r = sd_bus_message_close_container(m);
                        }
                }
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                break;
        }
        if (err)
                return fail(ret_error, -EINVAL, "[%s] %s: %s", group, k->file_key, err->message);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int append_group(sd_bus_message *m, GKeyFile *kf, const char *group, const char *name, const SpecKey *keys,
                        char **ret_error) {
        g_auto(GStrv) names = g_key_file_get_keys(kf, group, NULL, NULL);
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && name)
                r = sd_bus_message_append(m, "{sv}", "name", "s", name);
        for (char **k = names; r >= 0 && k && *k; k++) {
                const SpecKey *key = find_file_key(keys, *k);
                if (!key)
                        return fail(ret_error, -EINVAL, "Unknown key '%s' in [%s].", *k, group);
                r = append_value(m, kf, group, key, ret_error);
        }
        return r < 0 ? r : sd_bus_message_close_container(m);
}

static int append_sections(sd_bus_message *m, GKeyFile *kf, const char *type, const char *bus_key,
                           const SpecKey *keys, char **ret_error) {
        g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
        int r;

        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append_basic(m, 's', bus_key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "aa{sv}");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "a{sv}");
        for (char **g = groups; r >= 0 && *g; g++) {
                const char *name = spec_group_name(*g, type);
                if (name)
                        r = append_group(m, kf, *g, name, keys, ret_error);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

int spec_keyfile_append(sd_bus_message *m, GKeyFile *kf, char **ret_error) {
        g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
        g_auto(GStrv) keys = NULL;
        int r;

        for (char **g = groups; *g; g++)
                if (strcmp(*g, "Spec") != 0 && !spec_group_name(*g, "Object") && !spec_group_name(*g, "Attach"))
                        return fail(ret_error, -EINVAL, "Unknown section [%s] (known: [Spec], [Object NAME], "
                                                        "[Attach NAME]).", *g);
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        keys = g_key_file_get_keys(kf, "Spec", NULL, NULL);
        for (char **k = keys; r >= 0 && k && *k; k++) {
                const SpecKey *key = find_file_key(spec_keys, *k);
                if (!key)
                        return fail(ret_error, -EINVAL, "Unknown key '%s' in [Spec].", *k);
                r = append_value(m, kf, "Spec", key, ret_error);
        }
        if (r >= 0)
                r = append_sections(m, kf, "Object", "objects", object_keys, ret_error);
        if (r >= 0)
                r = append_sections(m, kf, "Attach", "attach", attach_keys, ret_error);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

/* ---- a{sv} → key file ---- */

static int read_value(sd_bus_message *m, GKeyFile *kf, const char *group, const SpecKey *k, char **ret_error) {
        const char *s;
        int r;

        if (g_key_file_has_key(kf, group, k->file_key, NULL))
                return fail(ret_error, -EINVAL, "'%s' is given twice in one section.", k->bus_key);
        r = sd_bus_message_enter_container(m, 'v', value_signatures[k->type]);
        if (r < 0)
                return fail(ret_error, -EINVAL, "'%s' must be of type '%s'.", k->bus_key, value_signatures[k->type]);
        switch (k->type) {
        case VALUE_STRING:
                r = sd_bus_message_read_basic(m, 's', &s);
                if (r >= 0)
                        g_key_file_set_string(kf, group, k->file_key, s);
                break;
        case VALUE_UINT64: {
                uint64_t v;
                r = sd_bus_message_read_basic(m, 't', &v);
                if (r >= 0)
                        g_key_file_set_uint64(kf, group, k->file_key, v);
                break;
        }
        case VALUE_INT32: {
                int32_t v;
                r = sd_bus_message_read_basic(m, 'i', &v);
                if (r >= 0)
                        g_key_file_set_integer(kf, group, k->file_key, v);
                break;
        }
        case VALUE_BOOLEAN: {
                int v;
                r = sd_bus_message_read_basic(m, 'b', &v);
                if (r >= 0)
                        g_key_file_set_boolean(kf, group, k->file_key, v);
                break;
        }
        case VALUE_LIST:
        case VALUE_PAIRS:
        case VALUE_BYTES: {
                g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);

                r = sd_bus_message_enter_container(m, 'a', k->type == VALUE_LIST    ? "s"
                                                           : k->type == VALUE_PAIRS ? "{ss}"
                                                                                    : "{say}");
                while (r >= 0) {
                        if (k->type == VALUE_LIST) {
                                r = sd_bus_message_read_basic(m, 's', &s);
                                if (r > 0)
                                        g_ptr_array_add(list, g_strdup(s));
                        } else if (k->type == VALUE_PAIRS) {
                                const char *v;
                                r = sd_bus_message_read(m, "{ss}", &s, &v);
                                if (r > 0) {
                                        if (!*s || strchr(s, '=') || strchr(s, ';'))
                                                return fail(ret_error, -EINVAL, "'%s' has a key with '=' or ';'.",
                                                            k->bus_key);
                                        g_ptr_array_add(list, g_strdup_printf("%s=%s", s, v));
                                }
                        } else {
                                const void *data;
                                size_t size;
                                r = sd_bus_message_enter_container(m, 'e', "say");
                                if (r <= 0)
                                        break;
                                r = sd_bus_message_read_basic(m, 's', &s);
                                if (r >= 0)
                                        r = sd_bus_message_read_array(m, 'y', &data, &size);
                                if (r >= 0)
                                        r = sd_bus_message_exit_container(m);
                                if (r >= 0) {
                                        GString *hex = g_string_new(NULL);
                                        if (!*s || strchr(s, '=') || strchr(s, ';'))
                                                return fail(ret_error, -EINVAL, "'%s' has a name with '=' or ';'.",
                                                            k->bus_key);
                                        g_string_append_printf(hex, "%s=", s);
                                        for (size_t b = 0; b < size; b++)
                                                g_string_append_printf(hex, "%02x", ((const uint8_t *) data)[b]);
                                        g_ptr_array_add(list, g_string_free(hex, false));
                                        r = 1;
                                }
                        }
                        if (r == 0)
                                break;
                        if (list->len > 1024)
                                return fail(ret_error, -EINVAL, "'%s' has too many entries.", k->bus_key);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0) {
                        g_ptr_array_add(list, NULL);
                        g_key_file_set_string_list(kf, group, k->file_key, (const gchar *const *) list->pdata,
                                                   list->len - 1);
                }
                break;
        }
        }
        if (r < 0)
                return fail(ret_error, r, "'%s' cannot be read.", k->bus_key);
        return sd_bus_message_exit_container(m);
}

/* One a{sv}: "name" picks the section, the rest are its keys, in any order (clients may send a dictionary
 * from an unordered map): the keys go to a scratch key file first. */
static int read_group(sd_bus_message *m, GKeyFile *kf, const char *type, const SpecKey *keys, char **ret_error) {
        g_autoptr(GKeyFile) scratch = g_key_file_new();
        g_autofree gchar *group = NULL, *name = NULL;
        g_auto(GStrv) names = NULL;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *k, *v;
                const SpecKey *key;

                r = sd_bus_message_read_basic(m, 's', &k);
                if (r < 0)
                        return r;
                if (strcmp(k, "name") == 0) {
                        if (name)
                                return fail(ret_error, -EINVAL, "'name' is given twice in an entry of '%s'.", type);
                        r = sd_bus_message_read(m, "v", "s", &v);
                        if (r < 0)
                                return fail(ret_error, -EINVAL, "'name' must be a string.");
                        name = g_strdup(v);
                } else {
                        key = find_bus_key(keys, k);
                        if (!key)
                                return fail(ret_error, -EINVAL, "Unknown key '%.*s' in an entry of '%s'.", UTF8_CUT(k, 64), type);
                        r = read_value(m, scratch, "Entry", key, ret_error);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r < 0)
                return r;
        if (!name)
                return fail(ret_error, -EINVAL, "An entry of '%s' has no 'name'.", type);
        if (strlen(name) > 64 || strpbrk(name, "[]\n"))
                return fail(ret_error, -EINVAL, "'%.*s' is not a section name.", UTF8_CUT(name, 64));
        group = *name ? g_strdup_printf("%s %s", type, name) : g_strdup(type);
        if (g_key_file_has_group(kf, group))
                return fail(ret_error, -EINVAL, "Two entries are named [%s].", group);
        add_group(kf, group); /* the section exists even without keys */
        names = g_key_file_get_keys(scratch, "Entry", NULL, NULL);
        for (char **k = names; k && *k; k++) {
                g_autofree gchar *raw = g_key_file_get_value(scratch, "Entry", *k, NULL);
                g_key_file_set_value(kf, group, *k, raw);
        }
        return sd_bus_message_exit_container(m);
}

int spec_keyfile_read(sd_bus_message *m, GKeyFile *kf, char **ret_error) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *k;

                r = sd_bus_message_read_basic(m, 's', &k);
                if (r < 0)
                        break;
                if (strcmp(k, "objects") == 0 || strcmp(k, "attach") == 0) {
                        bool objects = k[0] == 'o';
                        unsigned n = 0;

                        if (g_key_file_has_group(kf, objects ? "X-Seen-Objects" : "X-Seen-Attach"))
                                return fail(ret_error, -EINVAL, "'%s' is given twice.", k);
                        r = sd_bus_message_enter_container(m, 'v', "aa{sv}");
                        if (r < 0)
                                return fail(ret_error, -EINVAL, "'%s' must be of type 'aa{sv}'.", k);
                        r = sd_bus_message_enter_container(m, 'a', "a{sv}");
                        while (r >= 0 && (r = sd_bus_message_at_end(m, false)) == 0) {
                                if (++n > 256)
                                        return fail(ret_error, -EINVAL, "'%s' has too many entries.", k);
                                r = read_group(m, kf, objects ? "Object" : "Attach", objects ? object_keys : attach_keys,
                                               ret_error);
                        }
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                        add_group(kf, objects ? "X-Seen-Objects" : "X-Seen-Attach");
                } else {
                        const SpecKey *key = find_bus_key(spec_keys, k);
                        if (!key)
                                return fail(ret_error, -EINVAL,
                                            "Unknown spec key '%.*s' (description, objects, attach).", UTF8_CUT(k, 64));
                        r = read_value(m, kf, "Spec", key, ret_error);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        (void) g_key_file_remove_group(kf, "X-Seen-Objects", NULL);
        (void) g_key_file_remove_group(kf, "X-Seen-Attach", NULL);
        if (r < 0)
                return fail(ret_error, r, "The spec is not a valid a{sv} (%s).", strerror(-r));
        return 0;
}
