/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <bpf/bpf.h>

#include "dict-macros.h"
#include "bus-paths.h"
#include "target-bus.h"
#include "object-dict.h"
#include "view.h"

/* ---- property appenders, shared by the getters and the dictionaries ---- */

/* The program's links in id order, from the index: what the program has, whatever else is loaded. */
int append_program_links(sd_bus_message *reply, Manager *m, uint32_t program_id, bool as_paths) {
        GPtrArray *links = view_links_of(m, program_id);
        int r;

        assert(reply && m);

        r = sd_bus_message_open_container(reply, 'a', as_paths ? "o" : "s");
        if (r < 0)
                return r;
        for (guint i = 0; links && i < links->len; i++) {
                LinkInfo *l = g_ptr_array_index(links, i);
                /* The index holds the program's links in id order. */
                assert(l->program_id == program_id);
                assert(i == 0 || ((LinkInfo *) g_ptr_array_index(links, i - 1))->id < l->id);
                if (as_paths) {
                        _cleanup_free_ char *path = link_object_path(l->id);
                        r = path ? sd_bus_message_append_basic(reply, 'o', path) : -ENOMEM;
                } else
                        r = sd_bus_message_append_basic(reply, 's', l->attach_point);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

int append_program_map_ids(sd_bus_message *reply, const ProgramInfo *p) {
        int r = sd_bus_message_open_container(reply, 'a', "u");
        for (size_t i = 0; r >= 0 && i < p->n_maps; i++)
                r = sd_bus_message_append_basic(reply, 'u', &p->maps[i].id);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

int append_program_maps(sd_bus_message *reply, const ProgramInfo *p) {
        int r = sd_bus_message_open_container(reply, 'a', "(uss)");
        for (size_t i = 0; r >= 0 && i < p->n_maps; i++)
                r = sd_bus_message_append(reply, "(uss)", p->maps[i].id, p->maps[i].name, p->maps[i].pin_path);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

int append_program_metadata(sd_bus_message *reply, const ProgramInfo *p) {
        int r = sd_bus_message_open_container(reply, 'a', "{ss}");
        for (char **i = p->metadata; r >= 0 && i && i[0] && i[1]; i += 2)
                r = sd_bus_message_append(reply, "{ss}", i[0], i[1]);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* The names only: every user reads these dictionaries (properties, lists, signals), while the values are the
 * starting contents of the program's data maps, which other users may read only with org.bpfd.map-others. */
int append_program_globals(sd_bus_message *reply, const ProgramInfo *p) {
        int r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < p->n_globals; i++)
                r = sd_bus_message_append_basic(reply, 's', p->globals[i].name);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

void program_stats(const ProgramInfo *p, uint64_t *cnt, uint64_t *ns) {
        struct bpf_prog_info info = {};
        uint32_t len = sizeof info;

        assert(p && cnt && ns);
        assert(p->fd >= 0); /* bpfd holds every managed program's fd */

        *cnt = *ns = 0;
        /* Querying an fd we hold needs no capability (kernels >= 6.5 check unprivileged use at load only). */
        if (bpf_obj_get_info_by_fd(p->fd, &info, &len) == 0) {
                *cnt = info.run_cnt;
                *ns = info.run_time_ns;
        }
}

int append_program_map_used_by(sd_bus_message *reply, Manager *m, const ProgramInfo *p) {
        GArray *ids = view_map_users(m, program_map_group(p));

        return sd_bus_message_append_array(reply, 'u', ids ? ids->data : NULL, ids ? ids->len * sizeof(uint32_t) : 0);
}

/* ---- dictionaries ---- */

int append_program_dict(sd_bus_message *reply, Manager *m, const ProgramInfo *p) {
        _cleanup_free_ char *path = NULL;
        uint64_t cnt, ns;
        int r;

        assert(reply && m && p);

        path = program_object_path(p->id);
        if (!path)
                return -ENOMEM;
        program_stats(p, &cnt, &ns);
        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        DICT("id", "u", p->id);
        DICT("name", "s", p->name);
        DICT("kind", "s", kind_to_string(p->kind));
        DICT("kernel_type", "s", p->kernel_type);
        DICT("section", "s", p->section);
        DICT("tag", "s", p->tag);
        DICT("owner_uid", "u", (uint32_t) p->owner_uid);
        DICT("load_time", "t", p->load_time_usec);
        DICT("source", "s", p->source);
        DICT("load_group", "u", p->load_group);
        DICT("pin_path", "s", p->pin_path);
        DICT_WITH("links", "ao", append_program_links(reply, m, p->id, true));
        DICT_WITH("attach_points", "as", append_program_links(reply, m, p->id, false));
        DICT_WITH("map_ids", "au", append_program_map_ids(reply, p));
        DICT_WITH("maps", "a(uss)", append_program_maps(reply, p));
        DICT_WITH("metadata", "a{ss}", append_program_metadata(reply, p));
        DICT("image_reference", "s", strempty(p->image_reference));
        DICT("image_digest", "s", strempty(p->image_digest));
        DICT("map_group", "u", program_map_group(p));
        DICT_WITH("map_used_by", "au", append_program_map_used_by(reply, m, p));
        DICT_WITH("global_data", "as", append_program_globals(reply, p));
        DICT("run_count", "t", cnt);
        DICT("run_time_ns", "t", ns);
        DICT("managed", "b", 1);
        DICT("object_path", "o", path);
        return sd_bus_message_close_container(reply);
}

/* Opens a program's a{sv} with what the kernel says of any program, bpfd's or not. */
static int open_kernel_program_dict(sd_bus_message *reply, const KernelProgram *k) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        DICT("id", "u", k->id);
        DICT("name", "s", k->name);
        DICT("kind", "s", strempty(kind_to_string(k->kind)));
        DICT("kernel_type", "s", k->kernel_type);
        DICT("tag", "s", k->tag);
        DICT("load_time", "t", k->load_time_usec);
        DICT_WITH("map_ids", "au", sd_bus_message_append_array(reply, 'u', k->map_ids, k->n_map_ids * sizeof(uint32_t)));
        return 0;
}

int append_kernel_program_dict(sd_bus_message *reply, const KernelProgram *k) {
        int r;

        r = open_kernel_program_dict(reply, k);
        if (r < 0)
                return r;
        DICT("run_count", "t", k->run_count);
        DICT("run_time_ns", "t", k->run_time_ns);
        DICT("managed", "b", 0);
        return sd_bus_message_close_container(reply);
}

int append_component_program_dict(sd_bus_message *reply, const KernelProgram *k, const LinkInfo *l) {
        _cleanup_free_ char *prog = NULL, *link = NULL;
        int r;

        assert(reply && k && l);
        assert(l->component_id == k->id); /* k is the extension that runs in l's dispatcher slot */

        prog = program_object_path(l->program_id);
        link = link_object_path(l->id);
        if (!prog || !link)
                return -ENOMEM;
        r = open_kernel_program_dict(reply, k);
        if (r < 0)
                return r;
        DICT("owner_uid", "u", (uint32_t) l->owner_uid);
        DICT("managed", "b", 1);
        DICT("component_of", "u", l->program_id);
        DICT("component_of_path", "o", prog);
        DICT("link", "o", link);
        return sd_bus_message_close_container(reply);
}

int append_link_dict(sd_bus_message *reply, const LinkInfo *l) {
        _cleanup_free_ char *path = NULL, *prog = NULL;
        int r;

        assert(reply && l);
        assert(l->program_id != 0); /* a link always belongs to a program */

        path = link_object_path(l->id);
        prog = program_object_path(l->program_id);
        if (!path || !prog)
                return -ENOMEM;
        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        DICT("id", "u", l->id);
        DICT("program", "o", prog);
        DICT("program_id", "u", l->program_id);
        DICT("kind", "s", kind_to_string(l->target.kind));
        DICT("attach_point", "s", l->attach_point);
        DICT_WITH("target", "a{sv}", attach_target_append(reply, &l->target));
        DICT("owner_uid", "u", (uint32_t) l->owner_uid);
        DICT("attach_time", "t", l->attach_time_usec);
        DICT("pin_path", "s", l->pin_path);
        DICT("managed", "b", 1);
        DICT("object_path", "o", path);
        return sd_bus_message_close_container(reply);
}
