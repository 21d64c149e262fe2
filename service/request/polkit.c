/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>

#include "bus-util.h"
#include "errors.h"
#include "polkit.h"

typedef struct PolkitQuery {
        polkit_callback_t callback;
        void *userdata;
} PolkitQuery;

static int on_check_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized = 0, challenge = 0, r;

        assert(q && q->callback);

        if (e)
                q->callback(-EACCES, e, q->userdata);
        else {
                r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
                if (r < 0) {
                        sd_bus_error err = SD_BUS_ERROR_MAKE_CONST(bpfd_error_name(BPFD_ERR_FAILED), "Bad reply from polkit.");
                        q->callback(-EBADMSG, &err, q->userdata);
                } else
                        q->callback(authorized ? 1 : (challenge ? -EKEYREJECTED : 0), NULL, q->userdata);
        }
        return 0;
}

int polkit_check_async(sd_bus *bus, sd_bus_message *request, const char *action, char **details,
                       polkit_callback_t callback, void *userdata, sd_bus_slot **ret_slot) {
        _cleanup_(sd_bus_message_unrefp_wrap2) sd_bus_message *call = NULL;
        PolkitQuery *q;
        uint32_t flags = 0;
        int r;

        assert(bus && request && callback && ret_slot);
        assert(action && strncmp(action, "org.bpfd.", 9) == 0);
        assert(sd_bus_message_get_sender(request)); /* the subject polkit judges */

        r = sd_bus_message_new_method_call(bus, &call, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r < 0)
                return r;
        r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1, "name", "s",
                                  sd_bus_message_get_sender(request), action);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(call, 'a', "{ss}");
        if (r < 0)
                return r;
        for (char **d = details; d && d[0] && d[1]; d += 2) {
                r = sd_bus_message_append(call, "{ss}", d[0], d[1]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(call);
        if (r < 0)
                return r;
        /* Let polkit ask for a password only where the caller said a prompt is fine. */
        if (sd_bus_message_get_allow_interactive_authorization(request) > 0)
                flags |= 1;
        r = sd_bus_message_append(call, "us", flags, "");
        if (r < 0)
                return r;
        q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        q->callback = callback;
        q->userdata = userdata;
        /* Interactive authentication takes a person's time: wait longer than bpfctl waits for bpfd (5 minutes),
         * not sd-bus's default 25 s. */
        r = sd_bus_call_async(bus, ret_slot, call, on_check_reply, q, POLKIT_TIMEOUT_USEC);
        if (r < 0) {
                free(q);
                return r;
        }
        (void) sd_bus_slot_set_destroy_callback(*ret_slot, free);
        return 0;
}
