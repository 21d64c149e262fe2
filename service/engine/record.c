/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine's records, the format alone: a program's and a link's group of a load group's key file, written and
 * read back. Nothing here touches the kernel or the Engine, so the round trip can be tested on its own. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>

#include "record.h"
#include "target-record.h"

static char *hex_encode(const uint8_t *d, size_t n) {
        char *s = malloc(n * 2 + 1);
        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i++)
                snprintf(s + 2 * i, 3, "%02x", d[i]);
        s[n * 2] = 0;
        return s;
}

static int hex_decode(const char *s, uint8_t **ret, size_t *ret_n) {
        size_t n;
        uint8_t *d;

        assert(s);
        assert(ret);
        assert(ret_n);
        n = strlen(s);
        if (n % 2)
                return -EINVAL;
        d = malloc(n / 2 + 1);
        if (!d)
                return -ENOMEM;
        for (size_t i = 0; i < n / 2; i++) {
                unsigned v;
                if (sscanf(s + 2 * i, "%2x", &v) != 1) {
                        free(d);
                        return -EINVAL;
                }
                d[i] = (uint8_t) v;
        }
        *ret = d;
        *ret_n = n / 2;
        return 0;
}

static void keyfile_set_strv(GKeyFile *kf, const char *group, const char *key, char **l) {
        g_key_file_set_string_list(kf, group, key, (const char *const *) (l ?: (char *[]) { NULL }), strv_length(l));
}

static int strv_from_keyfile(GKeyFile *kf, const char *sec, const char *key, char ***ret) {
        gchar **l = g_key_file_get_string_list(kf, sec, key, NULL, NULL);
        *ret = strv_copy(l ?: (gchar *[]) { NULL });
        g_strfreev(l);
        return *ret ? 0 : -ENOMEM;
}

/* A program's [Program N] group. -ENOMEM or 0. */
int record_write_program(GKeyFile *kf, const ProgramInfo *p) {
        g_autofree gchar *sec = g_strdup_printf("Program %" PRIu32, p->id);
        _cleanup_strv_free_ char **names = NULL, **pins = NULL, **globals = NULL;
        g_autofree gint *ids = g_new0(gint, p->n_maps + 1);

        assert(kf);
        assert(p);

        g_key_file_set_string(kf, sec, "Name", p->name);
        g_key_file_set_string(kf, sec, "Kind", kind_to_string(p->kind));
        g_key_file_set_string(kf, sec, "KernelType", p->kernel_type);
        g_key_file_set_string(kf, sec, "Section", p->section);
        g_key_file_set_string(kf, sec, "Tag", p->tag);
        g_key_file_set_uint64(kf, sec, "LoadTime", p->load_time_usec);
        g_key_file_set_integer(kf, sec, "ExpectedAttachType", p->expected_attach_type);
        if (p->attach_function)
                g_key_file_set_string(kf, sec, "AttachFunction", p->attach_function);
        if (p->map_group)
                g_key_file_set_uint64(kf, sec, "MapGroup", p->map_group);
        if (p->image_digest && *p->image_digest) {
                g_key_file_set_string(kf, sec, "Image", p->image_reference);
                g_key_file_set_string(kf, sec, "ImageDigest", p->image_digest);
        }
        for (size_t m = 0; m < p->n_maps; m++) {
                ids[m] = (gint) p->maps[m].id;
                if (strv_push(&names, strdup(p->maps[m].name)) < 0 ||
                    strv_push(&pins, strdup(p->maps[m].pin_path)) < 0)
                        return -ENOMEM;
        }
        g_key_file_set_integer_list(kf, sec, "MapIds", ids, p->n_maps);
        keyfile_set_strv(kf, sec, "MapNames", names);
        keyfile_set_strv(kf, sec, "MapPins", pins);
        keyfile_set_strv(kf, sec, "Metadata", p->metadata);
        for (size_t m = 0; m < p->n_globals; m++)
                if (strv_push(&globals, strdup(p->globals[m].name)) < 0 ||
                    strv_push(&globals, hex_encode(p->globals[m].data, p->globals[m].size)) < 0)
                        return -ENOMEM;
        keyfile_set_strv(kf, sec, "GlobalData", globals);
        return 0;
}

/* A link's [Link N] group. */
void record_write_link(GKeyFile *kf, const LinkInfo *l) {
        g_autofree gchar *sec = g_strdup_printf("Link %" PRIu32, l->id);

        assert(kf);
        assert(l);

        g_key_file_set_uint64(kf, sec, "Program", l->program_id);
        g_key_file_set_uint64(kf, sec, "Owner", l->owner_uid);
        g_key_file_set_uint64(kf, sec, "AttachTime", l->attach_time_usec);
        g_key_file_set_string(kf, sec, "AttachPoint", l->attach_point);
        g_key_file_set_uint64(kf, sec, "Seq", l->seq);
        if (l->ifindex) {
                g_key_file_set_uint64(kf, sec, "NetnsInode", l->netns_ino);
                g_key_file_set_uint64(kf, sec, "Ifindex", l->ifindex);
        }
        if (l->component_id)
                g_key_file_set_uint64(kf, sec, "ComponentId", l->component_id);
        if (l->tc_priority)
                g_key_file_set_uint64(kf, sec, "TcPriority", l->tc_priority);
        attach_target_save(&l->target, kf, sec);
}

/* The keys of a [Program N] group: everything but what the kernel and the group tell (id, fd, pin, load
 * group, owner, source). -EBADMSG for a record without what a program needs. */
int record_read_program(GKeyFile *kf, const char *sec, ProgramInfo *p) {
        _cleanup_strv_free_ char **names = NULL, **pins = NULL, **globals = NULL;
        g_autofree gint *ids = NULL;
        g_autofree gchar *kind = NULL;
        gsize n_ids = 0;

        assert(kf);
        assert(sec);
        assert(p);
        p->name = g_key_file_get_string(kf, sec, "Name", NULL);
        kind = g_key_file_get_string(kf, sec, "Kind", NULL);
        p->kind = kind ? kind_from_string(kind) : KIND_INVALID;
        p->kernel_type = g_key_file_get_string(kf, sec, "KernelType", NULL);
        p->section = g_key_file_get_string(kf, sec, "Section", NULL);
        p->tag = g_key_file_get_string(kf, sec, "Tag", NULL);
        p->load_time_usec = g_key_file_get_uint64(kf, sec, "LoadTime", NULL);
        p->expected_attach_type = g_key_file_get_integer(kf, sec, "ExpectedAttachType", NULL);
        p->attach_function = g_key_file_get_string(kf, sec, "AttachFunction", NULL);
        p->map_group = (uint32_t) g_key_file_get_uint64(kf, sec, "MapGroup", NULL);
        p->image_reference = g_key_file_get_string(kf, sec, "Image", NULL) ?: strdup("");
        p->image_digest = g_key_file_get_string(kf, sec, "ImageDigest", NULL) ?: strdup("");
        if (!p->name || p->kind < 0 || !p->kernel_type || !p->section || !p->tag)
                return -EBADMSG;
        ids = g_key_file_get_integer_list(kf, sec, "MapIds", &n_ids, NULL);
        if (strv_from_keyfile(kf, sec, "MapNames", &names) < 0 || strv_from_keyfile(kf, sec, "MapPins", &pins) < 0 ||
            strv_from_keyfile(kf, sec, "Metadata", &p->metadata) < 0 ||
            strv_from_keyfile(kf, sec, "GlobalData", &globals) < 0)
                return -ENOMEM;
        if (strv_length(names) != n_ids || strv_length(pins) != n_ids)
                return -EBADMSG;
        p->maps = calloc(n_ids + 1, sizeof(MapInfo));
        p->globals = calloc(strv_length(globals) / 2 + 1, sizeof(GlobalData));
        if (!p->maps || !p->globals)
                return -ENOMEM;
        /* Counted before they are filled: what a failure leaves half done is freed with p. */
        for (gsize i = 0; i < n_ids; i++) {
                MapInfo *m = &p->maps[p->n_maps++];

                *m = (MapInfo) { .id = (uint32_t) ids[i], .name = strdup(names[i]), .pin_path = strdup(pins[i]) };
                if (!m->name || !m->pin_path)
                        return -ENOMEM;
        }
        for (size_t i = 0; globals[i] && globals[i + 1]; i += 2) {
                GlobalData *gd = &p->globals[p->n_globals++];

                gd->name = strdup(globals[i]);
                if (!gd->name)
                        return -ENOMEM;
                if (hex_decode(globals[i + 1], &gd->data, &gd->size) < 0)
                        return -EBADMSG;
        }
        return 0;
}

/* The keys of a [Link N] group (its id is in the group's name). -EBADMSG for a record without an attach point
 * or a valid target. */
int record_read_link(GKeyFile *kf, const char *sec, LinkInfo *l) {
        assert(kf);
        assert(sec);
        assert(l);
        l->program_id = (uint32_t) g_key_file_get_uint64(kf, sec, "Program", NULL);
        l->owner_uid = (uid_t) g_key_file_get_uint64(kf, sec, "Owner", NULL);
        l->attach_time_usec = g_key_file_get_uint64(kf, sec, "AttachTime", NULL);
        l->attach_point = g_key_file_get_string(kf, sec, "AttachPoint", NULL);
        l->seq = g_key_file_get_uint64(kf, sec, "Seq", NULL);
        l->netns_ino = g_key_file_get_uint64(kf, sec, "NetnsInode", NULL);
        l->ifindex = (uint32_t) g_key_file_get_uint64(kf, sec, "Ifindex", NULL);
        l->component_id = (uint32_t) g_key_file_get_uint64(kf, sec, "ComponentId", NULL);
        l->tc_priority = (uint32_t) g_key_file_get_uint64(kf, sec, "TcPriority", NULL);
        if (!l->attach_point || attach_target_load(&l->target, kf, sec) < 0)
                return -EBADMSG;
        return 0;
}
