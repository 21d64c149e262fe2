/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image-ref.h"
#include "util.h"

bool image_digest_valid(const char *digest) {
        if (!digest || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 7 + 64)
                return false;
        for (const char *p = digest + 7; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

static const char *const docker_hub_aliases[] = {
        "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com",
};

/* The port part: digits only, 1..65535; leading zeros allowed (they are dropped). */
static int parse_port(const char *s, unsigned *ret) {
        unsigned long v = 0;

        if (!*s || strlen(s) > 8)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                v = v * 10 + (unsigned) (*p - '0');
        }
        if (v < 1 || v > 65535)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

int image_registry_canonical(const char *name, char **ret) {
        _cleanup_free_ char *host = NULL;
        unsigned port = IMAGE_DEFAULT_PORT;
        const char *port_s = NULL;
        char *s = NULL;

        if (!name || !*name || strlen(name) > 255)
                return -EINVAL;
        if (*name == '[') {   /* [IPv6]:port */
                const char *end = strchr(name, ']');
                struct in6_addr a;
                char buf[INET6_ADDRSTRLEN], *h;

                if (!end || end == name + 1 || (end[1] && end[1] != ':'))
                        return -EINVAL;
                h = strndup(name + 1, end - name - 1);
                if (!h)
                        return -ENOMEM;
                if (inet_pton(AF_INET6, h, &a) != 1 || !inet_ntop(AF_INET6, &a, buf, sizeof buf)) {
                        free(h);
                        return -EINVAL;
                }
                free(h);
                if (asprintf(&host, "[%s]", buf) < 0)
                        return -ENOMEM;
                if (end[1] == ':')
                        port_s = end + 2;
        } else {
                size_t n = strcspn(name, ":");
                if (n == 0 || name[0] == '.' || name[0] == '-' || name[n - 1] == '.' || name[n - 1] == '-')
                        return -EINVAL;
                host = strndup(name, n);
                if (!host)
                        return -ENOMEM;
                for (char *p = host; *p; p++) {
                        if (!isalnum((unsigned char) *p) && *p != '.' && *p != '-')
                                return -EINVAL;
                        if (p[0] == '.' && p[1] == '.')
                                return -EINVAL;
                        *p = (char) tolower((unsigned char) *p);
                }
                if (name[n] == ':')
                        port_s = name + n + 1;
                /* a registry looks like a host: has a dot or a port, or is localhost */
                if (!strchr(host, '.') && !port_s && !streq(host, "localhost"))
                        return -EINVAL;
                for (size_t i = 0; i < ELEMENTSOF(docker_hub_aliases); i++)
                        if (streq(host, docker_hub_aliases[i]) && (!port_s || streq(port_s, "443"))) {
                                free(host);
                                host = strdup("docker.io");
                                if (!host)
                                        return -ENOMEM;
                        }
        }
        if (port_s && parse_port(port_s, &port) < 0)
                return -EINVAL;
        if (asprintf(&s, "%s:%u", host, port) < 0)
                return -ENOMEM;
        /* The limit holds for the canonical name too, so that what bpfd prints it parses back. */
        if (strlen(s) > 255) {
                free(s);
                return -EINVAL;
        }
        *ret = s;
        return 0;
}

/* Path components of lower-case letters and digits, joined by single '.', '_', '__' or '-'s. */
static bool repository_valid(const char *s) {
        size_t len = strlen(s);

        if (len == 0 || len > 255)
                return false;
        for (const char *c = s; *c; ) {
                const char *end = c + strcspn(c, "/");
                if (end == c || !isalnum((unsigned char) *c) || !isalnum((unsigned char) end[-1]))
                        return false;
                for (const char *p = c; p < end; p++)
                        if (!(islower((unsigned char) *p) || isdigit((unsigned char) *p) ||
                              *p == '.' || *p == '_' || *p == '-'))
                                return false;
                c = *end ? end + 1 : end;
                if (*end && !*c)
                        return false;
        }
        return true;
}

static bool tag_valid(const char *s) {
        size_t len = strlen(s);

        if (len == 0 || len > 128 || !(isalnum((unsigned char) *s) || *s == '_'))
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p) && *p != '_' && *p != '.' && *p != '-')
                        return false;
        return true;
}

void image_ref_free(ImageRef *ref) {
        if (!ref)
                return;
        free(ref->registry);
        free(ref->repository);
        free(ref->tag);
        free(ref->digest);
        free(ref);
}

int image_ref_parse(const char *s, ImageRef **ret) {
        _cleanup_image_ref_ ImageRef *ref = NULL;
        _cleanup_free_ char *copy = NULL;
        char *name, *at, *slash, *colon;
        int r;

        if (!s || !*s || strlen(s) > 1024)
                return -EINVAL;
        ref = calloc(1, sizeof(*ref));
        copy = strdup(s);
        if (!ref || !copy)
                return -ENOMEM;

        at = strchr(copy, '@');
        if (at) {
                *at = '\0';
                if (!image_digest_valid(at + 1))
                        return -EINVAL;
                ref->digest = strdup(at + 1);
                if (!ref->digest)
                        return -ENOMEM;
        }
        slash = strchr(copy, '/');
        if (!slash)
                return -EINVAL;   /* no registry: bpfd does not guess one */
        *slash = '\0';
        r = image_registry_canonical(copy, &ref->registry);
        if (r < 0)
                return r;
        name = slash + 1;
        colon = strrchr(name, ':');
        if (colon) {
                *colon = '\0';
                if (!tag_valid(colon + 1))
                        return -EINVAL;
                ref->tag = strdup(colon + 1);
                if (!ref->tag)
                        return -ENOMEM;
        } else if (!ref->digest && !(ref->tag = strdup("latest")))
                return -ENOMEM;
        if (!repository_valid(name))
                return -EINVAL;
        if (streq(ref->registry, "docker.io:443") && !strchr(name, '/')) {
                if (asprintf(&ref->repository, "library/%s", name) < 0)
                        ref->repository = NULL;
        } else
                ref->repository = strdup(name);
        if (!ref->repository)
                return -ENOMEM;
        /* Docker Hub's "library/" counts too, so that what bpfd prints it parses back. */
        if (strlen(ref->repository) > 255)
                return -EINVAL;
        *ret = TAKE_PTR(ref);
        return 0;
}

char *image_ref_to_string(const ImageRef *ref) {
        char *s = NULL;

        if (asprintf(&s, "%s/%s%s%s%s%s", ref->registry, ref->repository, ref->tag ? ":" : "", strempty(ref->tag),
                     ref->digest ? "@" : "", strempty(ref->digest)) < 0)
                return NULL;
        return s;
}
