/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ListPrograms and GetProgram: open to everybody. What bpfd loaded is answered from the view at once;
 * programs bpfd did not load can only be enumerated with privileges: the worker does it. */
#include <assert.h>

#include "bus-util.h"
#include "object-dict.h"
#include "request-internal.h"
#include "engine-kernel-programs.h"

void program_filter_done(ProgramFilter *f) {
        f->kind = mfree(f->kind);
}

static bool program_matches(const ProgramFilter *f, const ProgramInfo *p) {
        return (!f->kind || streq(f->kind, kind_to_string(p->kind))) && (!f->has_owner || p->owner_uid == f->owner);
}

static GPtrArray *hash_values(GHashTable *t) {
        GPtrArray *a = g_ptr_array_sized_new(g_hash_table_size(t));
        GHashTableIter it;
        gpointer v;

        g_hash_table_iter_init(&it, t);
        while (g_hash_table_iter_next(&it, NULL, &v))
                g_ptr_array_add(a, v);
        return a;
}

static int cmp_program_id(gconstpointer a, gconstpointer b) {
        const ProgramInfo *x = *(ProgramInfo *const *) a, *y = *(ProgramInfo *const *) b;
        return x->id < y->id ? -1 : x->id > y->id;
}

/* component id → the link whose dispatcher slot runs that kernel program (an extension loaded for a managed
 * program): such programs are bpfd's too. */
static GHashTable *component_links(Manager *m) {
        GHashTable *t = g_hash_table_new(NULL, NULL);
        GHashTableIter it;
        gpointer v;

        g_hash_table_iter_init(&it, m->links);
        while (g_hash_table_iter_next(&it, NULL, &v))
                if (((const LinkInfo *) v)->component_id)
                        g_hash_table_insert(t, GUINT_TO_POINTER(((const LinkInfo *) v)->component_id), v);
        return t;
}

/* Managed programs from the view; with the kernel's programs, every other one after them. */
int append_program_list(sd_bus_message *reply, Manager *m, const ProgramFilter *filter, const KernelProgram *kernel,
                        size_t n_kernel) {
        g_autoptr(GPtrArray) list = hash_values(m->programs);
        g_autoptr(GHashTable) components = component_links(m);
        int r;

        assert(filter);
        assert(kernel || n_kernel == 0);
        g_ptr_array_sort(list, cmp_program_id);
        r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (guint i = 0; r >= 0 && i < list->len; i++)
                if (program_matches(filter, g_ptr_array_index(list, i)))
                        r = append_program_dict(reply, m, g_ptr_array_index(list, i));
        for (size_t i = 0; r >= 0 && i < n_kernel; i++)
                if (!g_hash_table_contains(m->programs, GUINT_TO_POINTER(kernel[i].id)) && !filter->kind &&
                    !filter->has_owner) {
                        const LinkInfo *l = g_hash_table_lookup(components, GUINT_TO_POINTER(kernel[i].id));
                        r = l ? append_component_program_dict(reply, &kernel[i], l)
                              : append_kernel_program_dict(reply, &kernel[i]);
                }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static void list_kernel_commit(Request *req, Engine *e) {
        (void) engine_kernel_programs(e, &req->kernel, &req->n_kernel, &req->error);
}

static int list_kernel_reply(Request *req) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        int r = sd_bus_message_new_method_return(req->msg, &reply);

        if (r >= 0)
                r = append_program_list(reply, req->m, &req->filter, req->kernel, req->n_kernel);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

const OperationDesc op_list_kernel = {
        .name = "list-kernel",
        .commit = list_kernel_commit,
        .reply = list_kernel_reply,
};

static void get_kernel_commit(Request *req, Engine *e) {
        req->kernel = calloc(1, sizeof(KernelProgram));
        if (!req->kernel) {
                (void) engine_error_setf(&req->error, BPFD_ERR_FAILED, "Out of memory.");
                return;
        }
        if (engine_kernel_program(e, req->id, req->kernel, &req->error) >= 0)
                req->n_kernel = 1;
}

static int get_kernel_reply(Request *req) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        int r = sd_bus_message_new_method_return(req->msg, &reply);

        assert(req->n_kernel == 1);
        if (r >= 0)
                r = append_kernel_program_dict(reply, req->kernel);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

const OperationDesc op_get_kernel = {
        .name = "get-kernel",
        .commit = get_kernel_commit,
        .reply = get_kernel_reply,
};

int request_list_programs(Manager *m, sd_bus_message *msg, ProgramFilter *filter) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        Request *req;
        int r;

        assert(filter);
        if (filter->all) {
                req = request_new(m, msg, OP_LIST_KERNEL);
                if (!req) {
                        program_filter_done(filter);
                        return -ENOMEM;
                }
                req->filter = *filter;
                *filter = (ProgramFilter) {};
                return request_start(req);
        }
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_program_list(reply, m, filter, NULL, 0);
        program_filter_done(filter);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

int request_get_program(Manager *m, sd_bus_message *msg, uint32_t program_id) {
        _cleanup_(sd_bus_message_unrefp_wrap) sd_bus_message *reply = NULL;
        const ProgramInfo *p = g_hash_table_lookup(m->programs, GUINT_TO_POINTER(program_id));
        Request *req;
        int r;

        if (!p) {
                req = request_new(m, msg, OP_GET_KERNEL);
                if (!req)
                        return -ENOMEM;
                req->id = program_id;
                return request_start(req);
        }
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_program_dict(reply, m, p);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}
