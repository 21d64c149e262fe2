/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bpfd's state records (key files under /var/lib/bpfd) as read back after a restart: each group's attach
 * target is loaded, checked and described as bpfd does before it trusts a record. A damaged record must be
 * refused, never crash the daemon at start. */
#include <stdint.h>
#include <stdlib.h>

#include <glib.h>

#include "errors.h"
#include "target-record.h"
#include "target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_auto(GStrv) groups = NULL;

        if (!g_key_file_load_from_data(kf, (const char *) data, size, G_KEY_FILE_NONE, NULL))
                return 0;
        groups = g_key_file_get_groups(kf, NULL);
        for (char **g = groups; g && *g; g++) {
                _cleanup_(engine_error_done) EngineError e = ENGINE_ERROR_NULL;
                AttachTarget t = {};

                (void) g_key_file_get_uint64(kf, *g, "Program", NULL);
                (void) g_key_file_get_uint64(kf, *g, "Owner", NULL);
                (void) g_key_file_get_uint64(kf, *g, "ComponentId", NULL);
                g_free(g_key_file_get_string(kf, *g, "AttachPoint", NULL));
                if (attach_target_load(&t, kf, *g) >= 0) {
                        (void) attach_target_apply_defaults(&t);
                        (void) attach_target_validate(&t, &e);
                        free(attach_target_describe(&t));
                        free(attach_target_polkit_detail(&t));
                }
                attach_target_done(&t);
        }
        return 0;
}
