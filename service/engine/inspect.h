/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-event.h>

#include "engine-error.h"

/* What bpfd-inspect (an unprivileged process, see bpfd-inspect.c) found in an object. */
typedef struct InspectedProgram {
        char *name;
        char *section;
        char *type_name;
        int prog_type;
        int expected_attach_type;
} InspectedProgram;

typedef struct Inspection {
        InspectedProgram *programs;
        size_t n_programs;
        size_t size;
        int memfd; /* the object's bytes, sealed: what the worker loads */
} Inspection;

void inspection_done(Inspection *i);

/* Worker: starts a bpfd-inspect of its own on object_fd (forked by the sandboxed zygote, inspect-zygote.h).
 * Returns at once with the helper's pid and the socket its answer comes on. */
int inspect_spawn(int object_fd, const char *object_name, pid_t *ret_pid, int *ret_sock);

/* Worker: the file offset of function in the ELF binary on fd, found by bpfd-inspect (the binary is a
 * caller's: not parsed with privileges). Waits for it (at most its 60 s). -ENOEXEC: not ELF; -ENOENT: no such
 * function. */
int inspect_function_offset(int fd, const char *function, uint64_t *ret);

/* Worker: waits for the answer of the helper inspect_spawn() started (it reads with a time limit of its own);
 * 0 with ret filled, or an error. Closes nothing: the caller owns sock. */
int inspect_read(int sock, pid_t pid, Inspection *ret, EngineError *error);

/* Bus thread: waits for the answer without blocking the event loop; callback(inspection or NULL, error,
 * userdata) runs once. The reader owns sock and the helper; freeing it early kills the helper. */
typedef struct InspectReader InspectReader;
typedef void (*inspect_callback_t)(Inspection *inspection, const EngineError *error, void *userdata);
int inspect_read_async(sd_event *event, int sock, pid_t pid, inspect_callback_t callback, void *userdata,
                       InspectReader **ret);
InspectReader *inspect_reader_free(InspectReader *r);
