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

static int targets_open_next_one(AttachTarget *targets, size_t n, const Caller *caller, CallerOpen **opening,
                                 EngineError *error) {
        int r;

        assert(targets || n == 0);
        assert(caller);
        assert(opening);

        if (*opening) {
                /* The last file's answer, waited for on the bus thread. */
                CallerOpen *o = *opening;
                char *canonical = NULL;
                int fd = -1;

                assert(o->answered && o->index < n);
                r = caller_open_take(o, &fd, &canonical);
                r = attach_target_file_opened(&targets[o->index], o->what, o->path, r, fd, canonical, error);
                *opening = caller_open_free(o);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL;
                TargetFile what;
                int flags;

                assert(targets[i].kind >= 0); /* completed first (attach_target_complete()) */
                r = attach_target_next_file(&targets[i], &what, &path, &flags, error);
                if (r < 0)
                        return r;
                if (what == TARGET_FILE_NONE)
                        continue;
                r = caller_open_start(caller, path, flags, true, opening);
                if (r < 0)
                        return engine_error_set_errnof(error, r, "Cannot open '%s' as the caller: %m", path);
                (*opening)->index = i;
                (*opening)->what = what;
                return 1;
        }
        return 0;
}

int targets_open_next(AttachTarget *targets, size_t n, const Caller *caller, CallerOpen **opening,
                      EngineError *error) {
        int r = targets_open_next_one(targets, n, caller, opening, error);

        /* Every failure says why: the request goes on only when nothing failed. */
        if (r < 0 && !engine_error_is_set(error))
                return engine_error_set_errnof(error, r, "Cannot open the attach targets' files as the caller: %m");
        return r;
}
