/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "bpfd-limits.h"
#include "engine-error.h"
#include "image-ref.h"
#include "spec-group.h"
#include "spec.h"
#include "utf8.h"

static void spec_object_done(SpecObject *o) {
        free(o->name);
        free(o->path);
        free(o->image);
        free(o->pull_policy);
        strv_free(o->programs);
        strv_free(o->metadata);
        for (size_t i = 0; i < o->n_globals; i++) {
                free(o->globals[i].name);
                free(o->globals[i].data);
        }
        free(o->globals);
        free(o->map_owner);
}

void spec_done(Spec *s) {
        if (!s)
                return;
        free(s->name);
        free(s->description);
        for (size_t i = 0; i < s->n_objects; i++)
                spec_object_done(&s->objects[i]);
        free(s->objects);
        for (size_t i = 0; i < s->n_attach; i++) {
                free(s->attach[i].name);
                free(s->attach[i].object);
                attach_target_done(&s->attach[i].target);
        }
        free(s->attach);
        *s = (Spec) {};
}

Spec *spec_free(Spec *s) {
        spec_done(s);
        free(s);
        return NULL;
}

static bool section_name_valid(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n > SPEC_NAME_MAX || name[0] == '.' || name[0] == '-')
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '_' || *p == '-' || *p == '.'))
                        return false;
        return true;
}

bool spec_name_valid(const char *name) {
        return section_name_valid(name);
}

static const char *const object_keys[] = { "Path", "Image", "ImagePullPolicy", "Programs", "Metadata", "GlobalData",
                                           "MapOwner", NULL };
static const char *const attach_keys[] = { "Object", "Program", "Kind", "Tracepoint", "Target", "Function", "Offset",
                                           "Pid", "ContainerPid", "Retprobe", "Cgroup", "AttachType", "Interface",
                                           "Netns", "Direction", "Mode", "Priority", "ProceedOn", NULL };

static int check_keys(GKeyFile *kf, const char *group, const char *const *known, EngineError *error) {
        g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);

        for (char **k = keys; k && *k; k++) {
                bool found = false;
                for (const char *const *i = known; *i && !found; i++)
                        found = streq(*i, *k);
                if (!found)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Unknown key '%s' in [%s].", *k,
                                                 group);
        }
        return 0;
}

static char *get_string(GKeyFile *kf, const char *group, const char *key, size_t max, EngineError *error, int *r) {
        g_autofree gchar *v = g_key_file_get_string(kf, group, key, NULL);

        if (!v || *r < 0)
                return NULL;
        if (strlen(v) > max || strchr(v, '\n')) {
                *r = engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "[%s] %s= is too long or has a newline.",
                                       group, key);
                return NULL;
        }
        return strdup(v);
}

static int get_list(GKeyFile *kf, const char *group, const char *key, char ***ret, EngineError *error) {
        g_auto(GStrv) l = NULL;
        gsize n = 0;

        *ret = NULL;
        if (!g_key_file_has_key(kf, group, key, NULL))
                return 0;
        l = g_key_file_get_string_list(kf, group, key, &n, NULL);
        if (n > BPFD_LIST_MAX)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "[%s] %s has too many entries.", group,
                                         key);
        for (gsize i = 0; i < n; i++)
                if (!*l[i] || strlen(l[i]) > BPFD_STRING_MAX)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "[%s] %s has an empty or too long entry.", group, key);
        *ret = strv_copy(l ?: (gchar *[]) { NULL });
        return *ret ? 0 : -ENOMEM;
}

static int hex_digit(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int hex_byte(const char *s) {
        int hi = hex_digit(s[0]), lo = hi >= 0 ? hex_digit(s[1]) : -1;
        return hi >= 0 && lo >= 0 ? hi << 4 | lo : -1;
}

static int read_object(GKeyFile *kf, const char *group, const char *name, SpecObject *o, EngineError *error) {
        _cleanup_strv_free_ char **pairs = NULL, **globals = NULL;
        int r = check_keys(kf, group, object_keys, error);

        if (r < 0)
                return r;
        if (!(o->name = strdup(name)))
                return -ENOMEM;
        o->path = get_string(kf, group, "Path", BPFD_STRING_MAX, error, &r);
        o->image = get_string(kf, group, "Image", BPFD_STRING_MAX, error, &r);
        o->pull_policy = get_string(kf, group, "ImagePullPolicy", BPFD_NAME_MAX, error, &r);
        o->map_owner = get_string(kf, group, "MapOwner", SPEC_NAME_MAX, error, &r);
        if (r < 0)
                return r;
        if (!o->path == !o->image)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "[%s] needs either Path= or Image=.",
                                         group);
        if (o->image) {
                _cleanup_image_ref_ ImageRef *ref = NULL;
                r = image_ref_parse(o->image, &ref);
                if (r == -EINVAL)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "[%s] Image= is not an image reference (registry[:port]/name[:tag] or "
                                                 "registry[:port]/name@sha256:digest).", group);
                if (r < 0)
                        return r;
        }
        if (o->path && o->path[0] != '/')
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "[%s] Path= must be absolute.", group);
        if (o->pull_policy && (!o->image || (!streq(o->pull_policy, "Always") && !streq(o->pull_policy, "IfNotPresent") &&
                                             !streq(o->pull_policy, "Never"))))
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "[%s] ImagePullPolicy= is Always, IfNotPresent or Never, with Image=.", group);
        if ((r = get_list(kf, group, "Programs", &o->programs, error)) < 0 ||
            (r = get_list(kf, group, "Metadata", &pairs, error)) < 0 ||
            (r = get_list(kf, group, "GlobalData", &globals, error)) < 0)
                return r;
        if (o->programs && !o->programs[0])
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "[%s] Programs= is empty.", group);
        for (char **p = o->programs; p && *p; p++)
                if (strlen(*p) > BPFD_NAME_MAX)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "[%s] Programs= has a long name.",
                                                 group);
        for (char **p = pairs; p && *p; p++) {
                char *eq = strchr(*p, '=');
                if (!eq || eq == *p || (size_t) (eq - *p) > BPFD_NAME_MAX)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "[%s] Metadata= entries are KEY=VALUE, not '%s'.", group, *p);
                if (strncmp(*p, "bpfd.", 5) == 0)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "[%s] Metadata= keys starting with 'bpfd.' are bpfd's own.", group);
                if (strv_push(&o->metadata, strndup(*p, eq - *p)) < 0 || strv_push(&o->metadata, strdup(eq + 1)) < 0)
                        return -ENOMEM;
        }
        for (char **p = globals; p && *p; p++) {
                char *eq = strchr(*p, '=');
                const char *hex = eq ? eq + 1 : NULL;
                size_t n;
                GlobalData *g;

                if (hex && strncmp(hex, "0x", 2) == 0)
                        hex += 2;
                n = hex ? strlen(hex) : 0;
                if (!eq || eq == *p || n == 0 || n % 2 || n / 2 > 65536 || (size_t) (eq - *p) > BPFD_NAME_MAX)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "[%s] GlobalData= entries are NAME=HEXBYTES, not '%s'.", group, *p);
                g = reallocarray(o->globals, o->n_globals + 1, sizeof(GlobalData));
                if (!g)
                        return -ENOMEM;
                o->globals = g;
                g = &o->globals[o->n_globals];
                *g = (GlobalData) { .name = strndup(*p, eq - *p), .data = malloc(n / 2), .size = n / 2 };
                o->n_globals++;
                if (!g->name || !g->data)
                        return -ENOMEM;
                for (size_t b = 0; b < n / 2; b++) {
                        int v = hex_byte(hex + 2 * b);
                        if (v < 0)
                                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                         "[%s] GlobalData= '%s' is not hex.", group, g->name);
                        g->data[b] = (uint8_t) v;
                }
                for (size_t k = 0; k + 1 < o->n_globals; k++)
                        if (streq(o->globals[k].name, g->name))
                                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                         "[%s] GlobalData= names '%s' twice.", group, g->name);
        }
        return 0;
}

static int read_attach(GKeyFile *kf, const char *group, const char *name, SpecAttach *a, EngineError *error) {
        AttachTarget *t = &a->target;
        g_autofree gchar *kind = NULL;
        int r = check_keys(kf, group, attach_keys, error);

        if (r < 0)
                return r;
        *t = (AttachTarget) { .kind = KIND_DEFAULT };
        if (!(a->name = strdup(name)))
                return -ENOMEM;
        a->object = get_string(kf, group, "Object", SPEC_NAME_MAX, error, &r);
        t->program = get_string(kf, group, "Program", BPFD_NAME_MAX, error, &r);
        t->tracepoint = get_string(kf, group, "Tracepoint", BPFD_NAME_MAX, error, &r);
        t->target = get_string(kf, group, "Target", BPFD_STRING_MAX, error, &r);
        t->function = get_string(kf, group, "Function", BPFD_NAME_MAX, error, &r);
        t->cgroup = get_string(kf, group, "Cgroup", BPFD_STRING_MAX, error, &r);
        t->attach_type = get_string(kf, group, "AttachType", BPFD_NAME_MAX, error, &r);
        t->interface = get_string(kf, group, "Interface", BPFD_NAME_MAX, error, &r);
        t->netns = get_string(kf, group, "Netns", BPFD_STRING_MAX, error, &r);
        t->direction = get_string(kf, group, "Direction", BPFD_NAME_MAX, error, &r);
        t->mode = get_string(kf, group, "Mode", BPFD_NAME_MAX, error, &r);
        if (r < 0)
                return r;
        kind = g_key_file_get_string(kf, group, "Kind", NULL);
        if (kind && (t->kind = kind_from_string(kind)) == KIND_INVALID)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "[%s] Kind=%s is not a program kind.",
                                         group, kind);
#define GET_NUMBER(key, field, has, getter)                                                                       \
        if (g_key_file_has_key(kf, group, key, NULL)) {                                                         \
                g_autoptr(GError) err = NULL;                                                                   \
                t->field = getter(kf, group, key, &err);                                                        \
                if (err)                                                                                        \
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "[%s] %s= is not a number.", \
                                                 group, key);                                                   \
                t->has = true;                                                                                  \
        }
        GET_NUMBER("Offset", offset, has_offset, g_key_file_get_uint64);
        GET_NUMBER("Pid", pid, has_pid, g_key_file_get_integer);
        GET_NUMBER("ContainerPid", container_pid, has_container_pid, g_key_file_get_integer);
        GET_NUMBER("Priority", priority, has_priority, g_key_file_get_integer);
#undef GET_NUMBER
        if ((t->has_pid && t->pid <= 0) || (t->has_container_pid && t->container_pid <= 0))
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "[%s] process ids are positive.", group);
        if (g_key_file_has_key(kf, group, "Retprobe", NULL)) {
                g_autoptr(GError) err = NULL;
                t->retprobe = g_key_file_get_boolean(kf, group, "Retprobe", &err);
                if (err)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "[%s] Retprobe= is yes or no.",
                                                 group);
                if (t->retprobe && t->kind == KIND_UPROBE)
                        t->kind = KIND_URETPROBE;
                else if (t->retprobe && t->kind == KIND_KPROBE)
                        t->kind = KIND_KRETPROBE;
                else if (t->retprobe && !IN_SET2(t->kind, KIND_URETPROBE, KIND_KRETPROBE))
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "[%s] Retprobe= is for uprobe and kprobe attachments.", group);
                t->retprobe = false; /* said by the kind now */
        }
        return get_list(kf, group, "ProceedOn", &t->proceed_on, error);
}

const SpecObject *spec_find_object(const Spec *s, const char *name) {
        for (size_t i = 0; name && i < s->n_objects; i++)
                if (streq(s->objects[i].name, name))
                        return &s->objects[i];
        return NULL;
}

const SpecAttach *spec_find_attach(const Spec *s, const char *name) {
        for (size_t i = 0; i < s->n_attach; i++)
                if (streq(s->attach[i].name, name))
                        return &s->attach[i];
        return NULL;
}

int spec_from_keyfile(GKeyFile *kf, const char *name, Spec *ret, EngineError *error) {
        g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
        Spec s = {};
        int r = 0;

        if (!spec_name_valid(name))
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "'%.*s' is not a spec name (1 to %u letters, digits, '_', '-', '.').", UTF8_CUT(name, 64),
                                         SPEC_NAME_MAX);
        s.name = strdup(name);
        if (!s.name)
                return -ENOMEM;
        for (char **g = groups; r >= 0 && *g; g++) {
                const char *n;

                if (streq(*g, "Spec")) {
                        static const char *const spec_keys[] = { "Description", NULL };
                        r = check_keys(kf, *g, spec_keys, error);
                        s.description = get_string(kf, *g, "Description", BPFD_STRING_MAX, error, &r);
                        continue;
                }
                n = spec_group_name(*g, "Object") ?: spec_group_name(*g, "Attach");
                if (!n) {
                        r = engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                              "Unknown section [%s] (known: [Spec], [Object NAME], [Attach NAME]).", *g);
                        break;
                }
                if (!*n)
                        n = "main";
                if (!section_name_valid(n)) {
                        r = engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                              "[%s]: section names are 1 to %u letters, digits, '_', '-', '.'.", *g,
                                              SPEC_NAME_MAX);
                        break;
                }
                if (spec_group_name(*g, "Object")) {
                        SpecObject *o;
                        if (spec_find_object(&s, n)) {
                                r = engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Two [Object %s].", n);
                                break;
                        }
                        if (s.n_objects >= 64) {
                                r = engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Too many [Object] sections.");
                                break;
                        }
                        o = reallocarray(s.objects, s.n_objects + 1, sizeof(SpecObject));
                        if (!o) {
                                r = -ENOMEM;
                                break;
                        }
                        s.objects = o;
                        s.objects[s.n_objects] = (SpecObject) {};
                        r = read_object(kf, *g, n, &s.objects[s.n_objects++], error);
                } else {
                        SpecAttach *a;
                        if (spec_find_attach(&s, n)) {
                                r = engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Two [Attach %s].", n);
                                break;
                        }
                        if (s.n_attach >= 256) {
                                r = engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Too many [Attach] sections.");
                                break;
                        }
                        a = reallocarray(s.attach, s.n_attach + 1, sizeof(SpecAttach));
                        if (!a) {
                                r = -ENOMEM;
                                break;
                        }
                        s.attach = a;
                        s.attach[s.n_attach] = (SpecAttach) { .target.kind = KIND_DEFAULT };
                        r = read_attach(kf, *g, n, &s.attach[s.n_attach++], error);
                }
        }
        for (size_t i = 0; r >= 0 && i < s.n_objects; i++) {
                const char *owner = s.objects[i].map_owner;
                bool earlier = false;
                for (size_t k = 0; owner && k < i; k++)
                        earlier = earlier || streq(s.objects[k].name, owner);
                if (owner && !earlier)
                        r = engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                              "[Object %s] MapOwner=%s must name an [Object] before it.",
                                              s.objects[i].name, owner);
        }
        for (size_t i = 0; r >= 0 && i < s.n_attach; i++) {
                SpecAttach *a = &s.attach[i];
                const SpecObject *o;

                if (!a->object && s.n_objects == 1 && !(a->object = strdup(s.objects[0].name)))
                        r = -ENOMEM;
                else if (!a->object)
                        r = engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                              "[Attach %s] needs Object= (the spec has %zu objects).", a->name,
                                              s.n_objects);
                else if (!(o = spec_find_object(&s, a->object)))
                        r = engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                              "[Attach %s] Object=%s names no [Object].", a->name, a->object);
                else if (a->target.program && o->programs && !strv_contains(o->programs, a->target.program))
                        r = engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                              "[Attach %s] Program=%s is not in Programs= of [Object %s].", a->name,
                                              a->target.program, o->name);
                else if (!a->target.program && o->programs && strv_length(o->programs) == 1 &&
                         !(a->target.program = strdup(o->programs[0])))
                        r = -ENOMEM;
        }
        if (r >= 0 && s.n_objects == 0)
                r = engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "The spec has no [Object] section.");
        if (r < 0) {
                spec_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

static void set_list(GKeyFile *kf, const char *group, const char *key, char **l) {
        if (l)
                g_key_file_set_string_list(kf, group, key, (const gchar *const *) l, strv_length(l));
}

static void object_to_keyfile(const SpecObject *o, GKeyFile *kf) {
        g_autofree gchar *group = g_strdup_printf("Object %s", o->name);
        g_autoptr(GPtrArray) l = g_ptr_array_new_with_free_func(g_free);

        if (o->path)
                g_key_file_set_string(kf, group, "Path", o->path);
        if (o->image)
                g_key_file_set_string(kf, group, "Image", o->image);
        if (o->pull_policy)
                g_key_file_set_string(kf, group, "ImagePullPolicy", o->pull_policy);
        set_list(kf, group, "Programs", o->programs);
        for (char **m = o->metadata; m && m[0] && m[1]; m += 2)
                g_ptr_array_add(l, g_strdup_printf("%s=%s", m[0], m[1]));
        if (l->len > 0) {
                g_ptr_array_add(l, NULL);
                g_key_file_set_string_list(kf, group, "Metadata", (const gchar *const *) l->pdata, l->len - 1);
        }
        g_ptr_array_set_size(l, 0);
        for (size_t i = 0; i < o->n_globals; i++) {
                GString *s = g_string_new(o->globals[i].name);
                g_string_append_c(s, '=');
                for (size_t b = 0; b < o->globals[i].size; b++)
                        g_string_append_printf(s, "%02x", o->globals[i].data[b]);
                g_ptr_array_add(l, g_string_free(s, false));
        }
        if (l->len > 0) {
                g_ptr_array_add(l, NULL);
                g_key_file_set_string_list(kf, group, "GlobalData", (const gchar *const *) l->pdata, l->len - 1);
        }
        if (o->map_owner)
                g_key_file_set_string(kf, group, "MapOwner", o->map_owner);
}

static void attach_to_keyfile(const SpecAttach *a, GKeyFile *kf) {
        g_autofree gchar *group = g_strdup_printf("Attach %s", a->name);
        const AttachTarget *t = &a->target;

#define SET(key, v)                                                                                               \
        if (v)                                                                                                  \
                g_key_file_set_string(kf, group, key, v);
        SET("Object", a->object);
        SET("Program", t->program);
        if (t->kind >= 0)
                g_key_file_set_string(kf, group, "Kind", kind_to_string(t->kind));
        SET("Tracepoint", t->tracepoint);
        SET("Target", t->target);
        SET("Function", t->function);
        SET("Cgroup", t->cgroup);
        SET("AttachType", t->attach_type);
        SET("Interface", t->interface);
        SET("Netns", t->netns);
        SET("Direction", t->direction);
        SET("Mode", t->mode);
#undef SET
        if (t->has_offset)
                g_key_file_set_uint64(kf, group, "Offset", t->offset);
        if (t->has_pid)
                g_key_file_set_integer(kf, group, "Pid", t->pid);
        if (t->has_container_pid)
                g_key_file_set_integer(kf, group, "ContainerPid", t->container_pid);
        if (t->has_priority)
                g_key_file_set_integer(kf, group, "Priority", t->priority);
        set_list(kf, group, "ProceedOn", t->proceed_on);
}

void spec_to_keyfile(const Spec *s, GKeyFile *kf) {
        if (s->description)
                g_key_file_set_string(kf, "Spec", "Description", s->description);
        for (size_t i = 0; i < s->n_objects; i++)
                object_to_keyfile(&s->objects[i], kf);
        for (size_t i = 0; i < s->n_attach; i++)
                attach_to_keyfile(&s->attach[i], kf);
}

char *spec_object_fingerprint(const SpecObject *o) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree gchar *data = NULL;

        object_to_keyfile(o, kf);
        data = g_key_file_to_data(kf, NULL, NULL);
        return data ? strdup(data) : NULL;
}

char *spec_attach_fingerprint(const SpecAttach *a) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree gchar *data = NULL;

        attach_to_keyfile(a, kf);
        data = g_key_file_to_data(kf, NULL, NULL);
        return data ? strdup(data) : NULL;
}

char **spec_interfaces(const Spec *s) {
        char **l = NULL;

        for (size_t i = 0; i < s->n_attach; i++) {
                const AttachTarget *t = &s->attach[i].target;
                if (t->interface && !t->netns && !strv_contains(l, t->interface) && strv_push(&l, strdup(t->interface)) < 0) {
                        strv_free(l);
                        return NULL;
                }
        }
        return l ?: calloc(1, sizeof(char *));
}
