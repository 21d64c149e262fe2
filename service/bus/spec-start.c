/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Specs at start and on change: the records after recovery, the spec directory (root's), SIGHUP, and the
 * retry of pending specs when what they wait for may have come (interfaces, the network, a pulled image). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "bus-spec-internal.h"
#include "spec-recover.h"
#include "errors.h"
#include "log.h"

static void view_destroy(void *v) {
        spec_view_free(v);
}

int spec_manager_new(Manager *m, const char *runtime_dir, const char *spec_dir, SpecManager **ret) {
        _cleanup_free_ char *dir = NULL;
        SpecManager *s = calloc(1, sizeof(SpecManager));
        int r;

        if (!s || asprintf(&dir, "%s/specs", runtime_dir) < 0 || !(s->spec_dir = strdup(strempty(spec_dir)))) {
                free(s);
                return -ENOMEM;
        }
        r = spec_store_new(dir, &s->store);
        if (r < 0) {
                free(s->spec_dir);
                free(s);
                return r;
        }
        s->m = m;
        s->views = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, view_destroy);
        s->retrying = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
        *ret = s;
        return 0;
}

SpecManager *spec_manager_free(SpecManager *s) {
        if (!s)
                return NULL;
        spec_store_free(s->store);
        g_hash_table_unref(s->views);
        g_hash_table_unref(s->retrying);
        for (size_t i = 0; i < s->n_recovered; i++)
                spec_view_free(s->recovered[i]);
        free(s->recovered);
        free(s->spec_dir);
        free(s);
        return NULL;
}

void manager_specs_recover(Manager *m, Engine *e) {
        if (spec_store_recover(m->specs->store, e, &m->specs->recovered, &m->specs->n_recovered) < 0)
                log_warning("Cannot read the spec records.");
}

/* Specs in the spec directory are root's: applied as root, so only root may write them. */
static void apply_spec_file(Manager *m, int dir_fd, const char *file) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) gerr = NULL;
        _cleanup_free_ char *name = strndup(file, strlen(file) - 5), *data = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        size_t size;
        SpecJob *j;
        Spec *spec = NULL;
        int r;

        if (!name || !spec_name_valid(name)) {
                log_warning("Ignoring %s/%s: not a spec name.", m->specs->spec_dir, file);
                return;
        }
        j = spec_job_new(m, NULL, SPEC_OP_PLAN_EXECUTE, name);
        if (!j)
                return;
        free(j->a->origin);
        if (asprintf(&j->a->origin, "%s/%s", m->specs->spec_dir, file) < 0)
                j->a->origin = NULL;
        fd = openat(dir_fd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0)
                r = engine_error_setf(&j->a->error, BPFD_ERR_FAILED, "Cannot open %s: %m", strempty(j->a->origin));
        else if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
                r = engine_error_setf(&j->a->error, BPFD_ERR_PERMISSION_DENIED,
                                      "%s is not root's: a spec there must be a regular file owned by root and "
                                      "writable by root only.", strempty(j->a->origin));
        else if ((r = read_full_fd(fd, 1024 * 1024, &data, &size)) < 0)
                r = engine_error_setf(&j->a->error, BPFD_ERR_FAILED, "Cannot read %s: %s", strempty(j->a->origin),
                                      strerror(-r));
        else if (!g_key_file_load_from_data(kf, data, size, G_KEY_FILE_NONE, &gerr))
                r = engine_error_setf(&j->a->error, BPFD_ERR_INVALID_ARGUMENT, "%s: %s", strempty(j->a->origin),
                                      gerr->message);
        else if (!(spec = calloc(1, sizeof(Spec))))
                r = -ENOMEM;
        else if ((r = spec_from_keyfile(kf, name, spec, &j->a->error)) < 0)
                spec = mfree(spec);
        if (r < 0 && !engine_error_is_set(&j->a->error))
                (void) engine_error_set_errnof(&j->a->error, r, "%m");
        /* The Spec object's Error is everybody's to read: what is wrong in a file only root may read stays
         * in the log, not quoted there (a GKeyFile error quotes the line; a bad value is quoted too). */
        if (!spec && data && !(st.st_mode & 0004) && j->a->error.code == BPFD_ERR_INVALID_ARGUMENT) {
                log_warning("Spec %s: %s", name, strempty(j->a->error.message));
                engine_error_done(&j->a->error);
                (void) engine_error_setf(&j->a->error, BPFD_ERR_INVALID_ARGUMENT,
                                         "%s is not a valid spec; bpfd's log says why (the file is readable by root "
                                         "only, so it is not quoted here).", strempty(j->a->origin));
        }
        j->a->spec = spec;
        if (!spec)
                j->op = SPEC_OP_FAIL;
        j->a->caller = (Caller) { .uid = 0, .gid = 0, .pid = 0, .pidfd = -1 };
        worker_submit(m->worker, &j->job);
}

/* The spec directory is the desired state: a spec whose file was removed while bpfd was away goes too. */
static void remove_vanished_specs(Manager *m) {
        SpecManager *s = m->specs;
        size_t n = strlen(s->spec_dir);
        GHashTableIter it;
        gpointer v;

        if (n == 0)
                return;
        g_hash_table_iter_init(&it, s->views);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                SpecView *view = v;
                SpecJob *j;

                if (strncmp(view->origin, s->spec_dir, n) != 0 || view->origin[n] != '/' ||
                    access(view->origin, F_OK) >= 0 || errno != ENOENT)
                        continue;
                j = spec_job_new(m, NULL, SPEC_OP_REMOVE, view->name);
                if (!j)
                        continue;
                j->a->owner_uid = view->owner_uid;
                j->a->generation = view->generation;
                log_info("%s is gone: removing spec %s.", view->origin, view->name);
                worker_submit(m->worker, &j->job);
        }
}

static int cmp_string(gconstpointer a, gconstpointer b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The spec directory: specs whose file went are removed, every *.conf is applied (unchanged ones change
 * nothing), in name order, like systemd's .d directories. */
static void apply_spec_dir(Manager *m) {
        SpecManager *s = m->specs;
        g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(free);
        _cleanup_close_ int dfd = -1;
        struct dirent *de;
        DIR *d;

        if (!*s->spec_dir)
                return;
        remove_vanished_specs(m);
        dfd = open(s->spec_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                if (errno != ENOENT)
                        log_warning("Cannot read the spec directory %s: %m", s->spec_dir);
                return;
        }
        d = fdopendir(fcntl(dfd, F_DUPFD_CLOEXEC, 3));
        while (d && (de = readdir(d))) {
                size_t n = strlen(de->d_name);
                if (n > 5 && streq(de->d_name + n - 5, ".conf") && de->d_name[0] != '.')
                        g_ptr_array_add(files, strdup(de->d_name));
        }
        if (d)
                closedir(d);
        g_ptr_array_sort(files, cmp_string);
        for (guint i = 0; i < files->len; i++)
                apply_spec_file(m, dfd, g_ptr_array_index(files, i));
        if (files->len)
                log_info("Applying %u spec(s) from %s.", files->len, s->spec_dir);
}

int manager_specs_start(Manager *m) {
        SpecManager *s = m->specs;
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, SPEC_PATH_PREFIX, "org.bpfd.Spec", spec_vtable, spec_find, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register spec objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, NULL, SPEC_PATH_PREFIX, spec_enumerate, m);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n_recovered; i++)
                g_hash_table_replace(s->views, s->recovered[i]->name, s->recovered[i]);
        s->recovered = mfree(s->recovered);
        s->n_recovered = 0;
        manager_specs_interfaces_changed(m); /* pending specs whose interface came while bpfd was away */
        apply_spec_dir(m);
        s->started = true;
        return 0;
}

/* A reload is never lost: SIGHUP is blocked from the start of main() on and read on this thread. One
 * handled before manager_specs_start() needs nothing more, since the start reads the directory after it, on
 * this same thread; from then on (still before the name is taken) every reload applies the directory. */
void manager_specs_reload(Manager *m) {
        if (!m->specs || !m->specs->started) {
                log_info("Reload while starting: the start applies the spec directory.");
                return;
        }
        log_info("Reloading: applying the spec directory %s again.", m->specs->spec_dir);
        apply_spec_dir(m);
}

/* Applies pending specs again whose wait the event may have ended. */
static void retry_pending(Manager *m, bool network_changed, bool image_pulled) {
        SpecManager *s = m->specs;
        GHashTableIter it;
        gpointer v;

        if (!s)
                return;
        g_hash_table_iter_init(&it, s->views);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                SpecView *view = v;
                bool ready;
                SpecJob *j;

                switch (view->waiting_kind) {
                case SPEC_WAIT_INTERFACE:
                        ready = network_changed && g_hash_table_contains(m->interfaces, view->waiting_for);
                        break;
                case SPEC_WAIT_NETWORK:
                        ready = network_changed;
                        break;
                case SPEC_WAIT_IMAGE:
                        ready = image_pulled;
                        break;
                default:
                        ready = false;
                }
                if (view->status != SPEC_PENDING || !ready || g_hash_table_contains(s->retrying, view->name))
                        continue;
                j = spec_job_new(m, NULL, SPEC_OP_RETRY, view->name);
                if (!j)
                        continue;
                g_hash_table_add(s->retrying, strdup(view->name));
                log_info("%s %s may be there: applying spec %s again.",
                         view->waiting_kind == SPEC_WAIT_INTERFACE ? "Interface"
                         : view->waiting_kind == SPEC_WAIT_NETWORK ? "Registry"
                                                                   : "Image",
                         view->waiting_for, view->name);
                worker_submit(m->worker, &j->job);
        }
}

void manager_specs_interfaces_changed(Manager *m) {
        retry_pending(m, true, false);
}

void manager_specs_image_pulled(Manager *m) {
        retry_pending(m, false, true);
}

bool manager_specs_waiting(Manager *m) {
        GHashTableIter it;
        gpointer v;

        if (!m->specs)
                return false;
        g_hash_table_iter_init(&it, m->specs->views);
        while (g_hash_table_iter_next(&it, NULL, &v))
                if (((SpecView *) v)->status == SPEC_PENDING)
                        return true;
        return false;
}
