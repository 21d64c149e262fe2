/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>

#include "engine-error.h"
#include "target-resolve.h"

int target_resolve(AttachTarget *t, const TargetProgram *p, const bool supported[_KIND_MAX], EngineError *error) {
        int r;

        assert(t && p && supported);
        assert(p->kind >= 0 && p->kind < _KIND_MAX);
        if (t->kind == KIND_DEFAULT)
                t->kind = p->kind;
        assert(t->kind >= 0 && t->kind < _KIND_MAX);
        if (!kind_attach_compatible(p->kind, t->kind)) {
                if (p->id)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "Program %" PRIu32 " is a %s program; it cannot be attached as %s.", p->id,
                                                 kind_to_string(p->kind), kind_to_string(t->kind));
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "Program '%s' is a %s program; it cannot be attached as %s.", p->name,
                                         kind_to_string(p->kind), kind_to_string(t->kind));
        }
        if (!supported[t->kind])
                return engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED,
                                         "Attaching as '%s' is not supported by bpfd on this kernel.",
                                         kind_to_string(t->kind));
        if (IN_SET2(t->kind, KIND_FENTRY, KIND_FEXIT) && !t->function && p->attach_function &&
            !(t->function = strdup(p->attach_function)))
                return -ENOMEM;
        r = attach_target_fill_from_section(t, p->section);
        if (r < 0)
                return r;
        return attach_target_validate(t, error);
}

bool attach_target_names_files(const AttachTarget *t) {
        return t->target || t->cgroup || (t->netns && t->netns[0]);
}

int targets_open_as_caller(AttachTarget *targets, size_t n, const Caller *caller, EngineError *error) {
        int r;

        assert(targets || n == 0);
        for (size_t i = 0; i < n; i++) {
                assert(targets[i].kind != KIND_DEFAULT); /* resolved first */
                r = attach_target_resolve(&targets[i], caller, error);
                if (r < 0)
                        return r;
        }
        return 0;
}
