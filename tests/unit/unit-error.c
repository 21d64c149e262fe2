/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* common/bpfd-error.c: the one table of error codes, their org.bpfd.Error names, errnos and bpfctl exit
 * statuses, checked against itself and against bpfctl(1)'s EXIT STATUS section. */

#include <ctype.h>
#include <errno.h>

#include "bpfd-error.h"
#include "unit.h"
#include "util.h"

#define PREFIX "org.bpfd.Error."

TEST(every_code_has_a_name_of_ours) {
        for (int e = 0; e < _BPFD_ERR_MAX; e++) {
                const char *name = bpfd_error_name(e);

                CHECK_MSG(name, "code %d has no name", e);
                CHECK_MSG(strncmp(name, PREFIX, strlen(PREFIX)) == 0 && strlen(name) > strlen(PREFIX),
                          "code %d: '%s' is not an org.bpfd.Error name", e, name);
                /* a D-Bus error name's last element: letters and digits, starting with a capital */
                for (const char *p = name + strlen(PREFIX); *p; p++)
                        CHECK_MSG(isalnum((unsigned char) *p), "'%s' is no valid D-Bus error name", name);
                CHECK_MSG(isupper((unsigned char) name[strlen(PREFIX)]), "'%s' does not start with a capital", name);
        }
}

TEST(names_are_unique) {
        for (int a = 0; a < _BPFD_ERR_MAX; a++)
                for (int b = a + 1; b < _BPFD_ERR_MAX; b++)
                        CHECK_MSG(!streq(bpfd_error_name(a), bpfd_error_name(b)), "codes %d and %d share '%s'", a,
                                  b, bpfd_error_name(a));
}

TEST(name_code_name_round_trips) {
        for (int e = 0; e < _BPFD_ERR_MAX; e++) {
                BpfdError back = _BPFD_ERR_MAX;

                CHECK_MSG(bpfd_error_from_name(bpfd_error_name(e), &back), "'%s' is not found by its name",
                          bpfd_error_name(e));
                CHECK_INT(back, e);
                CHECK_STREQ(bpfd_error_name(back), bpfd_error_name(e));
        }
}

TEST(foreign_names_are_not_ours) {
        BpfdError e = BPFD_ERR_PERMISSION_DENIED;

        CHECK(!bpfd_error_from_name(NULL, &e));
        CHECK(!bpfd_error_from_name("", &e));
        CHECK(!bpfd_error_from_name("org.bpfd.Error.", &e));
        CHECK(!bpfd_error_from_name("org.bpfd.Error.NoSuchThing", &e));
        CHECK(!bpfd_error_from_name("org.bpfd.Error.failed", &e)); /* names are case-sensitive */
        CHECK(!bpfd_error_from_name("org.freedesktop.DBus.Error.AccessDenied", &e));
        CHECK_INT(e, BPFD_ERR_PERMISSION_DENIED); /* untouched */
}

TEST(out_of_range_codes_are_failed) {
        CHECK_STREQ(bpfd_error_name(_BPFD_ERR_MAX), PREFIX "Failed");
        CHECK_STREQ(bpfd_error_name((BpfdError) -1), PREFIX "Failed");
        CHECK_INT(bpfd_error_errno(_BPFD_ERR_MAX), EIO);
}

TEST(errnos_are_positive_and_by_family) {
        for (int e = 0; e < _BPFD_ERR_MAX; e++)
                CHECK_MSG(bpfd_error_errno(e) > 0, "code %d: errno %d", e, bpfd_error_errno(e));
        CHECK_INT(bpfd_error_errno(BPFD_ERR_PERMISSION_DENIED), EACCES);
        CHECK_INT(bpfd_error_errno(BPFD_ERR_INVALID_ARGUMENT), EINVAL);
        CHECK_INT(bpfd_error_errno(BPFD_ERR_NOT_SUPPORTED), EOPNOTSUPP);
        CHECK_INT(bpfd_error_errno(BPFD_ERR_FAILED), EIO);
        for (BpfdError e = 0; e < _BPFD_ERR_MAX; e++)
                if (strstr(bpfd_error_name(e), "NotFound") || strstr(bpfd_error_name(e), "NotCached"))
                        CHECK_MSG(bpfd_error_errno(e) == ENOENT, "%s: errno %d, not ENOENT", bpfd_error_name(e),
                                  bpfd_error_errno(e));
}

TEST(errno_classification) {
        CHECK_INT(bpfd_error_from_errno(EACCES), BPFD_ERR_PERMISSION_DENIED);
        CHECK_INT(bpfd_error_from_errno(-EPERM), BPFD_ERR_PERMISSION_DENIED);
        CHECK_INT(bpfd_error_from_errno(-EINVAL), BPFD_ERR_FAILED);
        CHECK_INT(bpfd_error_for_open_errno(-ENOENT), BPFD_ERR_FILE_NOT_FOUND);
        CHECK_INT(bpfd_error_for_open_errno(ENOTDIR), BPFD_ERR_FILE_NOT_FOUND);
        CHECK_INT(bpfd_error_for_open_errno(-ELOOP), BPFD_ERR_FILE_NOT_FOUND);
        CHECK_INT(bpfd_error_for_open_errno(-EACCES), BPFD_ERR_PERMISSION_DENIED);
        CHECK_INT(bpfd_error_for_open_errno(-EIO), BPFD_ERR_FAILED);
        CHECK_INT(bpfd_error_for_open_errno(-ETIMEDOUT), BPFD_ERR_INVALID_ARGUMENT);
        CHECK_INT(bpfd_error_for_open_errno(-ECONNABORTED), BPFD_ERR_INVALID_ARGUMENT);
}

/* What bpfctl(1) promises a script, code by code (the man page's EXIT STATUS). */
static const struct {
        BpfdError code;
        ExitStatus status;
} documented[] = {
        { BPFD_ERR_FAILED, 1 },
        { BPFD_ERR_LIMIT_EXCEEDED, 1 },
        { BPFD_ERR_HELPER_TIMED_OUT, 1 },
        { BPFD_ERR_PERMISSION_DENIED, 3 },
        { BPFD_ERR_AUTHENTICATION_FAILED, 3 },
        { BPFD_ERR_PROGRAM_NOT_FOUND, 4 },
        { BPFD_ERR_LINK_NOT_FOUND, 4 },
        { BPFD_ERR_MAP_NOT_FOUND, 4 },
        { BPFD_ERR_KEY_NOT_FOUND, 4 },
        { BPFD_ERR_SPEC_NOT_FOUND, 4 },
        { BPFD_ERR_IMAGE_NOT_FOUND, 4 },
        { BPFD_ERR_IMAGE_NOT_CACHED, 4 },
        { BPFD_ERR_INVALID_OBJECT, 5 },
        { BPFD_ERR_PROGRAM_NAME_NOT_FOUND, 5 },
        { BPFD_ERR_FILE_NOT_FOUND, 5 },
        { BPFD_ERR_INVALID_IMAGE, 5 },
        { BPFD_ERR_DIGEST_MISMATCH, 5 },
        { BPFD_ERR_NO_SIGNATURE, 5 },
        { BPFD_ERR_UNKNOWN_SIGNER, 5 },
        { BPFD_ERR_SIGNATURE_DIGEST_MISMATCH, 5 },
        { BPFD_ERR_VERIFIER_REJECTED, 6 },
        { BPFD_ERR_ATTACH_FAILED, 7 },
        { BPFD_ERR_ATTACH_TARGET_NOT_FOUND, 7 },
        { BPFD_ERR_REGISTRY_UNREACHABLE, 7 },
        { BPFD_ERR_NOT_SUPPORTED, 8 },
        { BPFD_ERR_INVALID_ARGUMENT, 9 },
};

TEST(exit_status_of_every_code) {
        bool seen[_BPFD_ERR_MAX] = {};

        for (size_t i = 0; i < ELEMENTSOF(documented); i++) {
                CHECK_MSG(exit_status_from_error_name(bpfd_error_name(documented[i].code)) == documented[i].status,
                          "%s: exit status %d, documented %d", bpfd_error_name(documented[i].code),
                          exit_status_from_error_name(bpfd_error_name(documented[i].code)), documented[i].status);
                seen[documented[i].code] = true;
        }
        for (int e = 0; e < _BPFD_ERR_MAX; e++)
                CHECK_MSG(seen[e], "%s has no documented exit status in this test", bpfd_error_name(e));
}

TEST(exit_status_of_bus_errors) {
        CHECK_INT(exit_status_from_error_name("org.freedesktop.DBus.Error.AccessDenied"), 3);
        CHECK_INT(exit_status_from_error_name("org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"), 3);
        CHECK_INT(exit_status_from_error_name("org.freedesktop.DBus.Error.InvalidArgs"), 9);
        CHECK_INT(exit_status_from_error_name("org.freedesktop.DBus.Error.ServiceUnknown"), 10);
        CHECK_INT(exit_status_from_error_name("org.freedesktop.DBus.Error.NoReply"), 10);
        CHECK_INT(exit_status_from_error_name("org.freedesktop.DBus.Error.Spawn.ExecFailed"), 10);
        CHECK_INT(exit_status_from_error_name("org.example.Error.Whatever"), 1);
        CHECK_INT(exit_status_from_error_name(NULL), 1);
}

/* The exit status of a word of the man page that names an error (ours or the bus's), or -1 for prose. */
static int named_status(const char *w, size_t n) {
        char name[256];

        if (n >= 128)
                return -1;
        if (strncmp(w, PREFIX, strlen(PREFIX)) == 0)
                snprintf(name, sizeof name, "%.*s", (int) n, w);
        else if (isupper((unsigned char) w[0]))
                snprintf(name, sizeof name, PREFIX "%.*s", (int) n, w);
        else
                return -1;
        if (bpfd_error_from_name(name, NULL))
                return exit_status_from_error_name(name);
        snprintf(name, sizeof name, "org.freedesktop.DBus.Error.%.*s", (int) n, w);
        if (exit_status_from_error_name(name) != EXIT_STATUS_FAILURE)
                return exit_status_from_error_name(name);
        return -1;
}

/* Every error name bpfctl(1) names under a status maps to that status. */
TEST(exit_status_as_the_man_page_says) {
        _cleanup_free_ char *text = NULL;
        size_t size, checked = 0;
        const char *p;
        int status = -1;

        CHECK_MSG(read_full_file(BPFCTL_MAN_PAGE, 1 << 20, &text, &size) >= 0 && size > 0, "cannot read %s",
                  BPFCTL_MAN_PAGE);
        text[size - 1] = '\0'; /* the page ends with a newline */
        p = strstr(text, "# EXIT STATUS");
        CHECK_MSG(p, "no EXIT STATUS section in %s", BPFCTL_MAN_PAGE);
        for (p = strchr(p, '\n'); p && p[1] && p[1] != '#'; p = strchr(p + 1, '\n')) {
                const char *line = p + 1, *end = line + strcspn(line, "\n");

                if (line[0] == '*' && isdigit((unsigned char) line[1])) {
                        status = atoi(line + 1);
                        continue;
                }
                if (line[0] != '\t' || status < 0)
                        continue;
                for (const char *w = line; w < end;) {
                        size_t n = strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.");
                        int got;

                        if (n == 0) {
                                w++;
                                continue;
                        }
                        while (n > 0 && w[n - 1] == '.')
                                n--;
                        got = named_status(w, n);
                        if (got >= 0) {
                                CHECK_MSG(got == status, "%.*s: exit status %d, the man page says %d", (int) n, w,
                                          got, status);
                                checked++;
                        }
                        w += n + 1;
                }
        }
        /* the page names 19 errors: a parser that finds none would check nothing */
        CHECK_MSG(checked >= 15, "only %zu error names found under EXIT STATUS", checked);
}
