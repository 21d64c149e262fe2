/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LoadFromFd, LoadFromPath, LoadFromImage: the object and the options a{sv} read into a LoadRequest and
 * checked for form; the request layer does the rest (request/op-load.c). */
#include <assert.h>
#include <fcntl.h>
#include <stdio.h>

#include "bus-util.h"
#include "errors.h"
#include "manager-methods.h"
#include "op-images.h"
#include "op-load.h"
#include "target-bus.h"
#include "utf8.h"

static int read_programs(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        LoadRequest *load = userdata;
        int r = bus_read_strv_checked(m, key, &load->programs, error);
        load->programs_given = true;
        if (r >= 0 && strv_length(load->programs) == 0)
                return bpfd_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "'programs' is empty.");
        return r;
}

static int read_metadata(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        LoadRequest *load = userdata;
        const char *k, *v;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{ss}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "{ss}", &k, &v)) > 0) {
                if (strv_length(load->metadata) / 2 >= BPFD_LIST_MAX)
                        return bpfd_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Too many metadata entries.");
                if (!*k || strlen(k) > BPFD_NAME_MAX || strlen(v) > BPFD_STRING_MAX)
                        return bpfd_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "Metadata keys must be 1 to %u bytes, values at most %u bytes.",
                                                 BPFD_NAME_MAX, BPFD_STRING_MAX);
                /* bpfd.spec and bpfd.spec.object say which spec a program belongs to (crash recovery unloads
                 * by them, bpfctl list shows them): nobody's load may claim them. */
                if (strncmp(k, "bpfd.", 5) == 0)
                        return bpfd_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                               "Metadata keys starting with 'bpfd.' are bpfd's own ('%.*s').",
                                               UTF8_CUT(k, 64));
                if (strv_push(&load->metadata, strdup(k)) < 0 || strv_push(&load->metadata, strdup(v)) < 0)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_global_data(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        LoadRequest *load = userdata;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{say}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "say")) > 0) {
                const char *name;
                const void *data;
                size_t size;
                GlobalData *g;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                r = sd_bus_message_read_array(m, 'y', &data, &size);
                if (r < 0)
                        return r;
                if (!*name || strlen(name) > BPFD_NAME_MAX || size == 0 || size > 65536 ||
                    load->n_globals >= BPFD_LIST_MAX)
                        return bpfd_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "Global data entries need a name of 1 to %u bytes and 1 to 65536 "
                                                 "bytes of value.",
                                                 BPFD_NAME_MAX);
                for (size_t i = 0; i < load->n_globals; i++)
                        if (streq(load->globals[i].name, name))
                                return bpfd_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                         "The global '%s' is given twice.", name);
                g = reallocarray(load->globals, load->n_globals + 1, sizeof(GlobalData));
                if (!g)
                        return -ENOMEM;
                load->globals = g;
                g[load->n_globals] = (GlobalData) { .name = strdup(name), .data = malloc(size), .size = size };
                if (!g[load->n_globals].name || !g[load->n_globals].data) {
                        free(g[load->n_globals].name);
                        free(g[load->n_globals].data);
                        return -ENOMEM;
                }
                memcpy(g[load->n_globals].data, data, size);
                load->n_globals++;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_attach(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        LoadRequest *load = userdata;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "a{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_at_end(m, false)) == 0) {
                AttachTarget *t;

                if (load->n_targets >= 64)
                        return bpfd_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "Too many attach targets.");
                t = reallocarray(load->targets, load->n_targets + 1, sizeof(AttachTarget));
                if (!t)
                        return -ENOMEM;
                load->targets = t;
                r = attach_target_read(m, true, &t[load->n_targets], error);
                if (r < 0)
                        return r;
                load->n_targets++;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_map_owner(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        LoadRequest *load = userdata;
        int r = sd_bus_message_read_basic(m, 'u', &load->map_owner_id);
        if (r >= 0 && load->map_owner_id == 0)
                return bpfd_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "'map_owner_id' must name a program.");
        return r;
}

int pull_policy_from_string(const char *s) {
        static const char *const names[] = { "Always", "IfNotPresent", "Never" };
        for (int i = 0; i < (int) ELEMENTSOF(names); i++)
                if (streq(names[i], s))
                        return i;
        return -EINVAL;
}

static int read_pull_policy(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        LoadRequest *load = userdata;
        int policy;
        const char *s;
        int r = sd_bus_message_read_basic(m, 's', &s);

        if (r < 0)
                return r;
        if (!load->image_ref)
                return bpfd_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "'pull_policy' is for LoadFromImage only.");
        policy = pull_policy_from_string(s);
        if (policy < 0)
                return bpfd_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "Unknown pull policy '%.*s' (Always, IfNotPresent or Never).", UTF8_CUT(s, 32));
        load->pull_policy = policy;
        return 0;
}

static const BusOption load_options[] = {
        { "programs", "as", read_programs },
        { "pull_policy", "s", read_pull_policy },
        { "map_owner_id", "u", read_map_owner },
        { "metadata", "a{ss}", read_metadata },
        { "global_data", "a{say}", read_global_data },
        { "attach", "aa{sv}", read_attach },
        {}
};

static int read_image(sd_bus_message *msg, LoadRequest *load, sd_bus_error *error) {
        const char *s;
        int r = sd_bus_message_read(msg, "s", &s);

        if (r < 0)
                return r;
        r = image_reference_canonical(s, &load->image_ref, &load->image_registry, error);
        if (r < 0)
                return r;
        if (asprintf(&load->source, "image:%s", load->image_ref) < 0) {
                load->source = NULL;
                return -ENOMEM;
        }
        return 0;
}

static int read_path(sd_bus_message *msg, LoadRequest *load, sd_bus_error *error) {
        const char *path;
        int r = sd_bus_message_read(msg, "s", &path);

        if (r < 0)
                return r;
        if (path[0] != '/' || strlen(path) > BPFD_STRING_MAX)
                return bpfd_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "The object path must be absolute and at most %u bytes.", BPFD_STRING_MAX);
        load->path = strdup(path);
        load->source = strdup(path);
        return load->path && load->source ? 0 : -ENOMEM;
}

static int read_fd(sd_bus_message *msg, LoadRequest *load, sd_bus_error *error) {
        char proc[64], target[1024];
        ssize_t n;
        int fd, r = sd_bus_message_read(msg, "h", &fd);

        if (r < 0)
                return r;
        /* The message owns fd; keep our own copy for the worker. */
        load->object_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (load->object_fd < 0)
                return -errno;
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", load->object_fd);
        n = readlink(proc, target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
        if (asprintf(&load->source, "fd:%s", n > 0 ? target : "?") < 0) {
                load->source = NULL;
                return -ENOMEM;
        }
        return 0;
}

static int method_load(sd_bus_message *msg, void *userdata,
                       int (*read_object)(sd_bus_message *msg, LoadRequest *load, sd_bus_error *error),
                       sd_bus_error *error) {
        LoadRequest *load = load_request_new();
        int r;

        if (!load)
                return -ENOMEM;
        r = read_object(msg, load, error);
        if (r >= 0)
                r = bus_read_options(msg, "load", load_options, load, error);
        if (r < 0) {
                load_request_free(load);
                return r;
        }
        assert(load->source);
        return request_load(userdata, msg, load);
}

int method_load_from_fd(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_load(msg, userdata, read_fd, error);
}

int method_load_from_path(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_load(msg, userdata, read_path, error);
}

int method_load_from_image(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_load(msg, userdata, read_image, error);
}
