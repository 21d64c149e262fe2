/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "manager.h"
#include "bpfd-error.h"
#include "polkit-agent.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

/* The verifier can take a while on big programs, and a person may be
 * typing a password for polkit: sd-bus's default 25 s is too short. */
#define MUTATING_CALL_TIMEOUT_USEC (5ULL * 60 * 1000 * 1000)

/* Whether polkit may ask the user. Calls go out without the flag first: a polkit agent (a process of its
 * own, registered over the bus) is started only when an answer says that authentication is needed. */
static bool interactive_allowed;

int bpfd_connect(bool allow_interactive, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *address = getenv(BPFD_BUS_ADDRESS_ENV);
        int r;

        if (!isempty(address)) {
                r = sd_bus_new(&bus);
                if (r < 0)
                        return log_oom();

                r = sd_bus_set_address(bus, address);
                if (r < 0) {
                        log_error("invalid bus address in $" BPFD_BUS_ADDRESS_ENV " '%s': %s", address, strerror(-r));
                        return r;
                }

                r = sd_bus_set_bus_client(bus, true);
                if (r >= 0)
                        r = sd_bus_start(bus);
                if (r < 0) {
                        log_error("cannot connect to the bus at '%s' ($" BPFD_BUS_ADDRESS_ENV "): %s",
                                  address, strerror(-r));
                        return r;
                }
        } else {
                r = sd_bus_open_system(&bus);
                if (r < 0) {
                        log_error("cannot connect to the system bus: %s", strerror(-r));
                        return r;
                }
        }

        (void) sd_bus_set_description(bus, "bpfctl");

        interactive_allowed = allow_interactive;

        *ret = TAKE_PTR(bus);
        return 0;
}

int bpfd_new_method_call(sd_bus *bus, const char *member, sd_bus_message **ret) {
        return sd_bus_message_new_method_call(bus, ret, BPFD_BUS_NAME, BPFD_MANAGER_PATH,
                                              BPFD_MANAGER_INTERFACE, member);
}

/* polkit would have asked for a password, but the call did not allow it: the standard D-Bus error, or
 * bpfd's permission error that says so (in words common/bpfd-error.h fixes for both sides). */
static bool needs_interactive(const sd_bus_error *e) {
        return sd_bus_error_has_name(e, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED) ||
               (sd_bus_error_has_name(e, "org.bpfd.Error.PermissionDenied") && e->message &&
                strstr(e->message, BPFD_MESSAGE_INTERACTIVE_NOT_ALLOWED));
}

int bpfd_call(sd_bus *bus, sd_bus_message *m, bool mutating, sd_bus_error *error, sd_bus_message **reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *again = NULL;
        uint64_t timeout = mutating ? MUTATING_CALL_TIMEOUT_USEC : 0;
        int r;

        r = sd_bus_call(bus, m, timeout, error, reply);
        if (r >= 0 || !mutating || !interactive_allowed || !needs_interactive(error))
                return r;

        /* Nothing happened (bpfd changes nothing before polkit says yes): ask again, now with an agent that
         * can prompt, and the flag that lets polkit use it. */
        r = sd_bus_message_new_method_call(bus, &again, sd_bus_message_get_destination(m), sd_bus_message_get_path(m),
                                           sd_bus_message_get_interface(m), sd_bus_message_get_member(m));
        if (r >= 0)
                r = sd_bus_message_rewind(m, true);
        if (r >= 0)
                r = sd_bus_message_copy(again, m, true);
        if (r >= 0)
                r = sd_bus_message_set_allow_interactive_authorization(again, true);
        if (r < 0)
                return r; /* keep the first answer in error */
        sd_bus_error_free(error);
        polkit_agent_open();
        return sd_bus_call(bus, again, timeout, error, reply);
}

int bpfd_call_read_value(sd_bus *bus, sd_bus_message *m, sd_bus_error *error, BusValue **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = bpfd_call(bus, m, false, error, &reply);
        if (r < 0)
                return r;

        r = bus_value_read(reply, ret);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "cannot parse the reply of %s: %s",
                                               sd_bus_message_get_member(m), strerror(-r));
        return 0;
}

static int get_by_id(sd_bus *bus, const char *method, uint32_t id, sd_bus_error *error, BusValue **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = bpfd_new_method_call(bus, method, &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "u", id);
        if (r < 0)
                return r;

        return bpfd_call_read_value(bus, m, error, ret);
}

/* The calls of bpfd_get_objects() in flight, each answered into its place. */
typedef struct Pending {
        BusValue *value;
        sd_bus_error error;
        int r;
        bool done;
} Pending;

static int on_object_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Pending *p = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        p->done = true;
        if (e) {
                p->r = -sd_bus_error_get_errno(e) ?: -EIO;
                (void) sd_bus_error_copy(&p->error, e);
        } else
                p->r = bus_value_read(reply, &p->value);
        return 0;
}

/* GetLink (where is_link[i]) or GetProgram of ids[i], all calls sent before any answer is read: one round trip
 * for any number of objects. values[i] gets each dictionary. */
static int get_many(sd_bus *bus, const uint32_t *ids, const bool *is_link, size_t n, sd_bus_error *error,
                    BusValue **values) {
        _cleanup_free_ Pending *pending = calloc(n + 1, sizeof(Pending));
        _cleanup_free_ sd_bus_slot **slots = calloc(n + 1, sizeof(sd_bus_slot *));
        size_t left = n;
        int r = 0;

        if (!pending || !slots)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_call_method_async(bus, &slots[i], BPFD_BUS_NAME, BPFD_MANAGER_PATH, BPFD_MANAGER_INTERFACE,
                                             is_link[i] ? "GetLink" : "GetProgram", on_object_reply, &pending[i], "u",
                                             ids[i]);
        while (r >= 0 && left > 0) {
                r = sd_bus_process(bus, NULL);
                if (r == 0)
                        r = sd_bus_wait(bus, UINT64_MAX);
                left = 0;
                for (size_t i = 0; i < n; i++)
                        left += !pending[i].done;
        }
        for (size_t i = 0; i < n; i++) {
                if (r >= 0 && pending[i].r < 0) {
                        r = pending[i].r;
                        if (sd_bus_error_is_set(&pending[i].error))
                                (void) sd_bus_error_copy(error, &pending[i].error);
                }
                values[i] = TAKE_PTR(pending[i].value);
                sd_bus_error_free(&pending[i].error);
                sd_bus_slot_unref(slots[i]);
        }
        if (r < 0)
                for (size_t i = 0; i < n; i++)
                        values[i] = bus_value_free(values[i]);
        return r < 0 ? r : 0;
}

int bpfd_get_programs_and_links(sd_bus *bus, const uint32_t *program_ids, size_t n_programs, const uint32_t *link_ids,
                                size_t n_links, sd_bus_error *error, BusValue **ret_programs, BusValue **ret_links) {
        _cleanup_bus_value_ BusValue *programs = NULL, *links = NULL;
        size_t n = n_programs + n_links;
        _cleanup_free_ uint32_t *ids = calloc(n + 1, sizeof(uint32_t));
        _cleanup_free_ bool *is_link = calloc(n + 1, sizeof(bool));
        _cleanup_free_ BusValue **values = calloc(n + 1, sizeof(BusValue *));
        int r;

        if (!ids || !is_link || !values)
                return -ENOMEM;
        for (size_t i = 0; i < n_programs; i++)
                ids[i] = program_ids[i];
        for (size_t i = 0; i < n_links; i++) {
                ids[n_programs + i] = link_ids[i];
                is_link[n_programs + i] = true;
        }
        r = get_many(bus, ids, is_link, n, error, values);
        if (r < 0)
                return r;
        r = bus_value_new_container('a', "aa{sv}", &programs);
        if (r >= 0)
                r = bus_value_new_container('a', "aa{sv}", &links);
        for (size_t i = 0; i < n; i++) {
                if (r >= 0)
                        r = bus_value_append(i < n_programs ? programs : links, TAKE_PTR(values[i]));
                bus_value_free(values[i]);
        }
        if (r < 0)
                return r;
        *ret_programs = TAKE_PTR(programs);
        *ret_links = TAKE_PTR(links);
        return 0;
}

int bpfd_get_program(sd_bus *bus, uint32_t id, sd_bus_error *error, BusValue **ret) {
        return get_by_id(bus, "GetProgram", id, error, ret);
}

int bpfd_get_link(sd_bus *bus, uint32_t id, sd_bus_error *error, BusValue **ret) {
        return get_by_id(bus, "GetLink", id, error, ret);
}

int bpfd_list_interfaces(sd_bus *bus, sd_bus_error *error, BusValue **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = bpfd_new_method_call(bus, "ListInterfaces", &m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "a{sv}", 0); /* no filter keys yet */
        if (r < 0)
                return r;

        return bpfd_call_read_value(bus, m, error, ret);
}
