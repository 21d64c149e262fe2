/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>

#include "target-resolve.h"

bool attach_target_names_files(const AttachTarget *t) {
        assert(t);
        return t->target || t->cgroup || (t->netns && t->netns[0]);
}

int targets_open_as_caller(AttachTarget *targets, size_t n, const Caller *caller, EngineError *error) {
        int r;

        assert(targets || n == 0);
        assert(caller);
        for (size_t i = 0; i < n; i++) {
                assert(targets[i].kind >= 0); /* completed first (attach_target_complete()) */
                r = attach_target_resolve(&targets[i], caller, error);
                if (r < 0)
                        return r;
        }
        return 0;
}
