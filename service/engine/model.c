/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>

#include "model.h"

ProgramInfo *program_info_ref(ProgramInfo *p) {
        if (p)
                __atomic_add_fetch(&p->n_ref, 1, __ATOMIC_RELAXED);
        return p;
}

ProgramInfo *program_info_unref(ProgramInfo *p) {
        if (!p || __atomic_sub_fetch(&p->n_ref, 1, __ATOMIC_ACQ_REL) > 0)
                return NULL;
        free(p->name);
        free(p->kernel_type);
        free(p->section);
        free(p->tag);
        free(p->source);
        free(p->pin_path);
        free(p->attach_function);
        free(p->image_reference);
        free(p->image_digest);
        for (size_t i = 0; i < p->n_maps; i++) {
                free(p->maps[i].name);
                free(p->maps[i].pin_path);
        }
        free(p->maps);
        strv_free(p->metadata);
        for (size_t i = 0; i < p->n_globals; i++) {
                free(p->globals[i].name);
                free(p->globals[i].data);
        }
        free(p->globals);
        if (p->fd >= 0)
                close(p->fd);
        free(p);
        return NULL;
}

LinkInfo *link_info_ref(LinkInfo *l) {
        if (l)
                __atomic_add_fetch(&l->n_ref, 1, __ATOMIC_RELAXED);
        return l;
}

LinkInfo *link_info_unref(LinkInfo *l) {
        if (!l || __atomic_sub_fetch(&l->n_ref, 1, __ATOMIC_ACQ_REL) > 0)
                return NULL;
        attach_target_done(&l->target);
        free(l->attach_point);
        free(l->pin_path);
        free(l);
        return NULL;
}

InterfaceInfo *interface_info_unref(InterfaceInfo *i) {
        if (!i || __atomic_sub_fetch(&i->n_ref, 1, __ATOMIC_ACQ_REL) > 0)
                return NULL;
        free(i->object_name);
        free(i->name);
        free(i->netns);
        free(i->xdp_mode);
        free(i->xdp.entries);
        free(i->ingress.entries);
        free(i->egress.entries);
        free(i);
        return NULL;
}

static bool chain_equal(const Chain *a, const Chain *b) {
        return a->n == b->n && (a->n == 0 || memcmp(a->entries, b->entries, a->n * sizeof(ChainEntry)) == 0);
}

bool interface_info_chains_equal(const InterfaceInfo *a, const InterfaceInfo *b) {
        assert(a);
        assert(b);

        return streq(a->xdp_mode, b->xdp_mode) && chain_equal(&a->xdp, &b->xdp) &&
               chain_equal(&a->ingress, &b->ingress) && chain_equal(&a->egress, &b->egress);
}
