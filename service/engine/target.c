/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>
#include <stdio.h>

#include "engine-error.h"
#include "target.h"
#include "utf8.h"

void attach_target_done(AttachTarget *t) {
        assert(t);

        free(t->program);
        free(t->tracepoint);
        free(t->target);
        free(t->function);
        free(t->cgroup);
        free(t->attach_type);
        free(t->interface);
        free(t->netns);
        free(t->direction);
        free(t->mode);
        strv_free(t->proceed_on);
        if (t->resolved) {
                if (t->resolved->fd >= 0)
                        close(t->resolved->fd);
                if (t->resolved->netns_fd >= 0)
                        close(t->resolved->netns_fd);
                if (t->resolved->container_pidfd >= 0)
                        close(t->resolved->container_pidfd);
                free(t->resolved->path);
                free(t->resolved->netns_path);
                free(t->resolved);
        }
        *t = (AttachTarget) { .kind = KIND_DEFAULT };
}

static int dup_str(char **dst, const char *src) {
        *dst = NULL;
        if (!src)
                return 0;
        *dst = strdup(src);
        return *dst ? 0 : -ENOMEM;
}

int attach_target_copy(AttachTarget *dst, const AttachTarget *src) {
        *dst = *src;
        assert(dst);
        assert(src);

        dst->proceed_on = NULL;
        dst->resolved = NULL;
        if (dup_str(&dst->program, src->program) < 0 || dup_str(&dst->tracepoint, src->tracepoint) < 0 ||
            dup_str(&dst->target, src->target) < 0 || dup_str(&dst->function, src->function) < 0 ||
            dup_str(&dst->cgroup, src->cgroup) < 0 || dup_str(&dst->attach_type, src->attach_type) < 0 ||
            dup_str(&dst->interface, src->interface) < 0 || dup_str(&dst->netns, src->netns) < 0 ||
            dup_str(&dst->direction, src->direction) < 0 || dup_str(&dst->mode, src->mode) < 0) {
                attach_target_done(dst);
                return -ENOMEM;
        }
        if (src->proceed_on && !(dst->proceed_on = strv_copy(src->proceed_on))) {
                attach_target_done(dst);
                return -ENOMEM;
        }
        if (src->resolved) {
                dst->resolved = calloc(1, sizeof(ResolvedTarget));
                if (!dst->resolved) {
                        attach_target_done(dst);
                        return -ENOMEM;
                }
                const ResolvedTarget *s = src->resolved;
                *dst->resolved = (ResolvedTarget) { .fd = -1, .netns_fd = -1, .container_pidfd = -1 };
                if ((s->fd >= 0 && (dst->resolved->fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 3)) < 0) ||
                    (s->netns_fd >= 0 && (dst->resolved->netns_fd = fcntl(s->netns_fd, F_DUPFD_CLOEXEC, 3)) < 0) ||
                    dup_str(&dst->resolved->path, s->path) < 0 || dup_str(&dst->resolved->netns_path, s->netns_path) < 0) {
                        attach_target_done(dst);
                        return -ENOMEM;
                }
        }
        return 0;
}

static bool tracepoint_valid(const char *s) {
        const char *slash = strchr(s, '/');

        if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/'))
                return false;
        for (const char *p = s; *p; p++)
                if (p != slash && !(*p == '_' || *p == '-' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                                    (*p >= '0' && *p <= '9')))
                        return false;
        return true;
}

static const char *after_prefix(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 && s[n] == '/' && s[n + 1] ? s + n + 1 : NULL;
}

int attach_target_fill_from_section(AttachTarget *t, const char *section) {
        const char *rest;

        assert(t);
        assert(section);

        switch (t->kind) {
        case KIND_TRACEPOINT:
                if (!t->tracepoint && ((rest = after_prefix(section, "tracepoint")) || (rest = after_prefix(section, "tp"))))
                        return (t->tracepoint = strdup(rest)) ? 0 : -ENOMEM;
                return 0;
        case KIND_KPROBE:
        case KIND_KRETPROBE:
        case KIND_FENTRY:
        case KIND_FEXIT: {
                static const char *const prefixes[] = { "kprobe", "kretprobe", "fentry", "fexit" };
                if (t->function)
                        return 0;
                for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                        if ((rest = after_prefix(section, prefixes[i]))) {
                                /* "kprobe/func+0x10": the offset stays with the section */
                                size_t n = strcspn(rest, "+");
                                if (rest[n] == '+' && !t->has_offset) {
                                        t->offset = strtoull(rest + n + 1, NULL, 0);
                                        t->has_offset = true;
                                }
                                return (t->function = strndup(rest, n)) ? 0 : -ENOMEM;
                        }
                return 0;
        }
        default:
                return 0;
        }
}

static const char *const xdp_actions[] = { "aborted", "drop", "pass", "tx", "redirect", "dispatcher_return", NULL };
static const char *const tc_actions[] = { "unspec", "ok", "reclassify", "shot", "pipe", "stolen", "queued",
                                          "repeat", "redirect", "trap", "dispatcher_return", NULL };

static bool name_in(const char *const *names, const char *s) {
        for (; *names; names++)
                if (streq(*names, s))
                        return true;
        return false;
}

static int validate_net_target(const AttachTarget *t, EngineError *error) {
        const char *kind = kind_to_string(t->kind);

        assert(t);

        if (!t->interface)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "A %s target needs 'interface'.", kind);
        if (strlen(t->interface) >= 16 || strchr(t->interface, '/') || strspn(t->interface, " \t\n") > 0)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "'%s' is not an interface name.",
                                         t->interface);
        if (t->netns && t->netns[0] != '/')
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "'netns' must be an absolute path (e.g. /run/netns/NAME or /proc/PID/ns/net).");
        if (t->has_priority && (t->priority < 1 || t->priority > 1000))
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "The priority must be from 1 (runs first) to 1000, not %" PRIi32 ".", t->priority);
        if (t->kind == KIND_XDP) {
                if (t->direction)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "XDP has no 'direction'.");
                if (t->mode && !streq(t->mode, "native") && !streq(t->mode, "skb") && !streq(t->mode, "hw"))
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "Unknown XDP mode '%s' (native, skb or hw).", t->mode);
        } else {
                if (!t->direction)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "A %s target needs 'direction' (ingress or egress).", kind);
                if (!streq(t->direction, "ingress") && !streq(t->direction, "egress"))
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "Unknown direction '%s' (ingress or egress).", t->direction);
                if (t->mode)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT, "'mode' is for XDP only.");
        }
        if (t->proceed_on && t->kind == KIND_TCX)
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "TCX programs continue the chain by returning TCX_NEXT; 'proceed_on' is "
                                         "for xdp and tc.");
        for (char **a = t->proceed_on; a && *a; a++)
                if (!name_in(t->kind == KIND_XDP ? xdp_actions : tc_actions, *a))
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "Unknown %s action '%s' in 'proceed_on'.", kind, *a);
        return 0;
}

int attach_target_apply_defaults(AttachTarget *t) {
        assert(t);

        if (!IN_SET2(t->kind, KIND_XDP, KIND_TC) && t->kind != KIND_TCX)
                return 0;
        if (!t->has_priority) {
                t->priority = 50;
                t->has_priority = true;
        }
        if (!t->proceed_on && t->kind != KIND_TCX) {
                t->proceed_on = strv_copy(t->kind == KIND_XDP ? (char *[]) { (char *) "pass", (char *) "dispatcher_return", NULL }
                                                              : (char *[]) { (char *) "ok", (char *) "pipe",
                                                                             (char *) "dispatcher_return", NULL });
                if (!t->proceed_on)
                        return -ENOMEM;
        }
        return 0;
}

int attach_target_validate(const AttachTarget *t, EngineError *error) {
        assert(t);

        switch (t->kind) {
        case KIND_TRACEPOINT:
                if (!t->tracepoint)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "A tracepoint target needs 'tracepoint' (\"category/name\").");
                if (!tracepoint_valid(t->tracepoint))
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "'%s' is not a tracepoint name of the form \"category/name\".",
                                                 t->tracepoint);
                break;
        case KIND_UPROBE:
        case KIND_URETPROBE:
                if (!t->target)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "A uprobe target needs 'target', the path of a binary or library.");
                if (t->target[0] != '/')
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "The uprobe 'target' must be an absolute path, not '%s'.", t->target);
                if (!t->function && !t->has_offset)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "A uprobe target needs 'function' or 'offset'.");
                break;
        case KIND_KPROBE:
        case KIND_KRETPROBE:
                if (!t->function)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "A kprobe target needs 'function', the kernel function to probe.");
                if (t->kind == KIND_KRETPROBE && t->has_offset && t->offset != 0)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "A kretprobe fires on return; it takes no 'offset'.");
                break;
        case KIND_FENTRY:
        case KIND_FEXIT:
                if (!t->function)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "An %s target needs 'function', the kernel function to trace.",
                                                 kind_to_string(t->kind));
                if (t->has_offset)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "%s targets take no 'offset'.", kind_to_string(t->kind));
                break;
        case KIND_CGROUP:
                if (!t->cgroup)
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "A cgroup target needs 'cgroup', the path of a cgroup v2 directory.");
                if (t->cgroup[0] != '/')
                        return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                                 "The 'cgroup' must be an absolute path, not '%s'.", t->cgroup);
                break;
        case KIND_XDP:
        case KIND_TC:
        case KIND_TCX:
                return validate_net_target(t, error);
        default:
                break;
        }
        return 0;
}

char *attach_target_polkit_detail(const AttachTarget *t) {
        char *s = NULL;

        assert(t);

        switch (t->kind) {
        case KIND_TRACEPOINT:
                return strdup(strempty(t->tracepoint));
        case KIND_UPROBE:
        case KIND_URETPROBE:
                if (t->function)
                        (void) asprintf(&s, "%s:%s", t->resolved ? t->resolved->path : strempty(t->target), t->function);
                else
                        (void) asprintf(&s, "%s:0x%" PRIx64, t->resolved ? t->resolved->path : strempty(t->target), t->offset);
                return s;
        case KIND_CGROUP:
                return strdup(t->resolved ? t->resolved->path : strempty(t->cgroup));
        case KIND_KPROBE:
        case KIND_KRETPROBE:
        case KIND_FENTRY:
        case KIND_FEXIT:
                return strdup(strempty(t->function));
        default:
                return strdup(strempty(t->interface));
        }
}

char *attach_target_describe(const AttachTarget *t) {
        _cleanup_free_ char *detail = attach_target_polkit_detail(t);
        char *s = NULL;

        assert(t);

        if (!detail)
                return NULL;
        if ((IN_SET2(t->kind, KIND_UPROBE, KIND_URETPROBE) && t->function && t->has_offset) ||
            (IN_SET2(t->kind, KIND_KPROBE, KIND_KRETPROBE) && t->has_offset && t->offset))
                (void) asprintf(&s, "%s %s+0x%" PRIx64, kind_to_string(t->kind), detail, t->offset);
        else if (t->kind == KIND_CGROUP)
                (void) asprintf(&s, "cgroup %s %s", detail, t->attach_type ?: "default");
        else if (IN_SET2(t->kind, KIND_TC, KIND_TCX) || t->kind == KIND_XDP)
                (void) asprintf(&s, "%s %s%s%s priority %" PRIi32 "%s%s", kind_to_string(t->kind), detail,
                                t->direction ? " " : "", strempty(t->direction), t->priority,
                                t->netns ? " netns " : "",
                                t->resolved && t->resolved->netns_path ? t->resolved->netns_path : strempty(t->netns));
        else
                (void) asprintf(&s, "%s %s", kind_to_string(t->kind), detail);
        if (s && t->has_pid) {
                char *p = NULL;
                (void) asprintf(&p, "%s pid %" PRIi32, s, t->pid);
                free(s);
                s = p;
        }
        if (s && t->has_container_pid) {
                char *p = NULL;
                (void) asprintf(&p, "%s in container of pid %" PRIi32, s, t->container_pid);
                free(s);
                s = p;
        }
        return s;
}

int attach_target_complete(AttachTarget *t, const char *label, Kind program_kind, const char *section,
                           const char *attach_function, const bool supported[_KIND_MAX], EngineError *error) {
        assert(t);
        assert(label);
        assert(section);
        assert(program_kind >= 0 && program_kind < _KIND_MAX);

        if (t->kind == KIND_DEFAULT)
                t->kind = program_kind;
        if (IN_SET2(t->kind, KIND_FENTRY, KIND_FEXIT) && !t->function && attach_function &&
            !(t->function = strdup(attach_function)))
                return -ENOMEM;
        if (attach_target_fill_from_section(t, section) < 0)
                return -ENOMEM;
        if (!kind_attach_compatible(program_kind, t->kind))
                return engine_error_setf(error, BPFD_ERR_INVALID_ARGUMENT,
                                         "%s is a %s program; it cannot be attached as %s.", label,
                                         kind_to_string(program_kind), kind_to_string(t->kind));
        if (supported && !supported[t->kind])
                return engine_error_setf(error, BPFD_ERR_NOT_SUPPORTED,
                                         "Attaching as '%s' is not supported by bpfd on this kernel (SupportedKinds, "
                                         "'bpfctl status', lists what is)%s.",
                                         kind_to_string(t->kind),
                                         /* the same programs run on either hook */
                                         t->kind == KIND_TC && supported[KIND_TCX] ? "; attach it as 'tcx' instead" : "");
        return attach_target_validate(t, error);
}
