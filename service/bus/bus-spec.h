/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"
#include "spec-apply.h"

#define SPEC_PATH_PREFIX "/org/bpfd/Manager/spec"
#define BPFD_DEFAULT_SPEC_DIR "/etc/bpfd/programs.d"

/* Specs on the bus: ApplySpec, RemoveSpec, the org.bpfd.Spec objects, the spec directory at start and the
 * retry of pending specs when their interface appears. */
typedef struct SpecManager SpecManager;

int spec_manager_new(Manager *m, const char *runtime_dir, const char *spec_dir, SpecManager **ret);
SpecManager *spec_manager_free(SpecManager *s);
/* Worker, in the startup job: settle the records after the engine's recovery. */
void manager_specs_recover(Manager *m, Engine *e);
/* Bus thread, once the view exists: the objects, then the spec directory. */
int manager_specs_start(Manager *m);
/* Whether a spec is pending (bpfd must not exit when idle then). */
bool manager_specs_waiting(Manager *m);
/* Bus thread, on SIGHUP (systemctl reload bpfd): the spec directory again. */
void manager_specs_reload(Manager *m);
/* Bus thread, after each interface scan: retry specs waiting for an interface that is there now. */
void manager_specs_interfaces_changed(Manager *m);
/* Bus thread, after an image was pulled: retry specs waiting for an image. */
void manager_specs_image_pulled(Manager *m);

int method_apply_spec(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_remove_spec(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int method_list_specs(sd_bus_message *msg, void *userdata, sd_bus_error *error);
extern const sd_bus_vtable spec_vtable[];
