/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine: before polkit: the object opened as the caller, bpfd-inspect started; for specs, the plan and
 * the attach targets opened as the caller too. */
#include <assert.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "caller-open.h"
#include "engine-internal.h"
#include "engine-steps.h"
#include "inspect.h"
#include "load-plan.h"
#include "target-resolve.h"
#include "engine-load.h"

char *object_name_of(const char *source) {
        _cleanup_free_ char *copy = strdup(strempty(source));
        const char *b;
        char *dot, *name;

        if (!copy)
                return NULL;
        b = strrchr(copy, '/') ? strrchr(copy, '/') + 1 : copy;
        name = strdup(*b ? b : "bpfd");
        if (name && (dot = strchr(name, '.')) && dot != name)
                *dot = 0;
        return name;
}

int engine_open_object_start(LoadRequest *req, CallerOpen **ret, EngineError *error) {
        int r;

        assert(req && req->path && req->object_fd < 0);
        r = caller_open_start(&req->caller, req->path, O_RDONLY, false, ret);
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot open '%s' as the caller: %m", req->path);
        return 0;
}

int engine_object_opened(LoadRequest *req, int r, int fd, EngineError *error) {
        assert(req && req->path && req->object_fd < 0);
        if (r == -ESTALE)
                return engine_error_setf(error, BPFD_ERR_PERMISSION_DENIED,
                                         "Cannot open '%s' as the caller: the calling process changed its "
                                         "identity since it connected to the bus.", req->path);
        if (r < 0)
                return engine_error_setf(error, bpfd_error_for_open_errno(r), "Cannot open '%s' as the caller: %s",
                                         req->path, open_as_caller_strerror(r));
        req->object_fd = fd;
        return 0;
}

int engine_prepare_load(Engine *e, LoadRequest *req, EngineError *error) {
        _cleanup_free_ char *objname = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        assert(e);
        assert(req);

        /* An image's object comes as object_fd too: the puller's sealed memfd (see image-puller.h). A path not
         * opened yet (engine_open_object_start() opens it without waiting on the worker) is opened here. */
        if (req->path && req->object_fd < 0) {
                r = open_as_caller(&req->caller, req->path, O_RDONLY, &fd, NULL);
                r = engine_object_opened(req, r, TAKE_FD(fd), error);
                if (r < 0)
                        return r;
        }
        fd = TAKE_FD(req->object_fd);

        /* A path or an image names a file; a descriptor may also be a pipe or a socket (bpfd-inspect reads
         * it, with a time limit). Nothing else: a device could block or never end. */
        if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || (!req->path && !req->image_ref &&
                                                            (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))))
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "The object must be a regular file (an ELF object from clang -target bpf).");
        if (S_ISREG(st.st_mode) && (uint64_t) st.st_size > OBJECT_SIZE_MAX)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "The object is larger than %u MiB.",
                                         OBJECT_SIZE_MAX >> 20);

        objname = object_name_of(req->source);
        r = inspect_spawn(fd, objname, &req->inspect_pid, &req->inspect_sock);
        if (r < 0)
                return engine_error_set_errnof(error, r, "Cannot start the object inspection helper: %m");
        return 0;
}

/* The whole inspection for callers already on the worker (specs): engine_prepare_load(), then waiting for
 * bpfd-inspect's answer (it reads with its own time limit), then the plan from it. Nothing of the object is
 * parsed here either. */
int engine_inspect(Engine *e, LoadRequest *req, EngineError *error) {
        _cleanup_(inspection_done) Inspection ins = { .memfd = -1 };
        int r;

        assert(e);
        assert(req);

        r = engine_prepare_load(e, req, error);
        if (r < 0)
                return r;
        r = inspect_read(req->inspect_sock, req->inspect_pid, &ins, error);
        req->inspect_pid = 0; /* reaped */
        close(req->inspect_sock);
        req->inspect_sock = -1;
        if (r < 0)
                return r;
        r = load_plan(req, &ins, e->supported, error);
        if (r < 0)
                return r;
        /* Targets are opened as the caller once completed (attach_target_complete()), as for Attach. */
        return targets_open_as_caller(req->targets, req->n_targets, &req->caller, error);
}
