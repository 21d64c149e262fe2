/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <glib.h>
#include <stdio.h>

#include "engine-error.h"
#include "load-plan.h"

static char *program_list(const Inspection *ins) {
        GString *s = g_string_new(NULL);
        for (size_t i = 0; i < ins->n_programs; i++)
                g_string_append_printf(s, "%s%s", s->len ? ", " : "", ins->programs[i].name);
        return g_string_free(s, FALSE);
}

static const InspectedProgram *find(const Inspection *ins, const char *name) {
        for (size_t i = 0; i < ins->n_programs; i++)
                if (streq(ins->programs[i].name, name))
                        return &ins->programs[i];
        return NULL;
}

static int select_programs(LoadRequest *req, const Inspection *ins, EngineError *error) {
        assert(req);
        assert(ins);

        if (ins->n_programs == 0)
                return engine_error_setf(error, BPFD_ERR_INVALID_OBJECT, "The object contains no BPF programs.");
        if (req->programs) {
                for (char **n = req->programs; *n; n++) {
                        if (!find(ins, *n)) {
                                g_autofree char *list = program_list(ins);
                                return engine_error_setf(error, BPFD_ERR_PROGRAM_NAME_NOT_FOUND,
                                                         "The object has no program '%s' (it has: %s).", *n, list);
                        }
                        for (char **m = req->programs; m < n; m++)
                                if (streq(*m, *n))
                                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                                 "Program '%s' is named twice.", *n);
                }
                req->selected = strv_copy(req->programs);
        } else if (ins->n_programs == 1) {
                if (strv_push(&req->selected, strdup(ins->programs[0].name)) < 0)
                        return -ENOMEM;
        } else {
                g_autofree char *list = program_list(ins);
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "The object has %zu programs (%s); name the ones to load in 'programs'.",
                                         ins->n_programs, list);
        }
        return req->selected ? 0 : -ENOMEM;
}

static int plan_target(LoadRequest *req, const Inspection *ins, AttachTarget *target, const bool supported[_KIND_MAX],
                       EngineError *error) {
        _cleanup_free_ char *label = NULL;
        const InspectedProgram *prog;
        size_t i;

        if (!target->program) {
                if (strv_length(req->selected) != 1)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "Several programs are loaded: name the one each attach target is "
                                                 "for with 'program'.");
                target->program = strdup(req->selected[0]);
                if (!target->program)
                        return -ENOMEM;
        }
        for (i = 0; req->selected[i]; i++)
                if (streq(req->selected[i], target->program))
                        break;
        if (!req->selected[i])
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "The attach target names program '%s', which is not being loaded.",
                                         target->program);
        prog = find(ins, target->program);
        assert(prog); /* selected programs are the inspection's */
        if (asprintf(&label, "Program '%s'", target->program) < 0) {
                label = NULL; /* undefined after a failure */
                return -ENOMEM;
        }
        return attach_target_complete(target, label, req->kinds[i], prog->section, NULL, supported, error);
}

int load_plan(LoadRequest *req, Inspection *ins, const bool supported[_KIND_MAX], EngineError *error) {
        size_t n;
        int r;

        assert(req);
        assert(ins);
        assert(supported);

        r = select_programs(req, ins, error);
        if (r < 0)
                return r;
        n = strv_length(req->selected);
        req->kinds = calloc(n, sizeof(Kind));
        req->expected_attach_types = calloc(n, sizeof(int));
        req->attach_functions = calloc(n + 1, sizeof(char *));
        if (!req->kinds || !req->expected_attach_types || !req->attach_functions)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const InspectedProgram *p = find(ins, req->selected[i]);
                req->kinds[i] = kind_of_parts(p->prog_type, p->section, p->expected_attach_type);
                req->expected_attach_types[i] = p->expected_attach_type;
                if (req->kinds[i] == KIND_INVALID)
                        return engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED,
                                                 "Program '%s' (section '%s', type %s) is of a kind bpfd does not "
                                                 "support.",
                                                 p->name, p->section, p->type_name);
                if (!kind_loadable(supported, req->kinds[i]))
                        return engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED,
                                                 "Program '%s' is a %s program; that kind is not supported by bpfd "
                                                 "on this kernel (SupportedKinds, 'bpfctl status', lists what is).",
                                                 p->name, kind_to_string(req->kinds[i]));
        }
        for (size_t t = 0; t < req->n_targets; t++) {
                r = plan_target(req, ins, &req->targets[t], supported, error);
                if (r < 0)
                        return r;
        }
        req->object_memfd = TAKE_FD(ins->memfd);
        req->object_size = ins->size;
        return 0;
}
