/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "model.h"
#include "target.h"

/* A spec: the programs that should run and where, under one name (bpfd.spec(5)). Built from its key file
 * (spec-file.c turns ApplySpec's a{sv} into one) and checked here; what the kernel makes of it is decided when
 * it is applied (spec-apply.c). */

#define SPEC_NAME_MAX 64U
#define SPEC_METADATA_NAME "bpfd.spec"          /* metadata on every program a spec loaded: the spec's name */
#define SPEC_METADATA_OBJECT "bpfd.spec.object" /* ... and its [Object] section */

typedef struct SpecObject {
        char *name;
        char *path;        /* an ELF object, absolute, or */
        char *image;       /* an OCI bytecode image reference */
        char *pull_policy; /* Always, IfNotPresent (default) or Never */
        char **programs;   /* NULL: every program of the object */
        char **metadata;   /* key, value, ... */
        GlobalData *globals;
        size_t n_globals;
        char *map_owner;   /* the [Object] whose maps this one shares (an earlier one) */
} SpecObject;

typedef struct SpecAttach {
        char *name;
        char *object;        /* its [Object]; filled in when the spec has only one */
        AttachTarget target; /* target.program: which program of the object (may be left out with one) */
} SpecAttach;

typedef struct Spec {
        char *name;
        char *description;
        SpecObject *objects;
        size_t n_objects;
        SpecAttach *attach;
        size_t n_attach;
} Spec;

void spec_done(Spec *s);
Spec *spec_free(Spec *s);
bool spec_name_valid(const char *name);
/* Reads and checks the spec in kf; errors are org.bpfd.Error.InvalidArgument naming the section and key. */
int spec_from_keyfile(GKeyFile *kf, const char *name, Spec *ret, EngineError *error);
/* Writes the spec back in its canonical form (keys in a fixed order, defaults left out). */
void spec_to_keyfile(const Spec *s, GKeyFile *kf);
/* One section in canonical form: two sections are the same exactly when these are equal. */
char *spec_object_fingerprint(const SpecObject *o);
char *spec_attach_fingerprint(const SpecAttach *a);
const SpecObject *spec_find_object(const Spec *s, const char *name);
const SpecAttach *spec_find_attach(const Spec *s, const char *name);
/* The interfaces in bpfd's own namespace that its network attachments name. */
char **spec_interfaces(const Spec *s);
