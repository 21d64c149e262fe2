/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* service/image-ref.c: image references and registry names, parsed into their one canonical form (what
 * polkit's "registry" detail, registries.conf and the cache compare), which parses back to itself. */

#include "image-ref.h"
#include "unit.h"
#include "util.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void check_ref(const char *s, const char *registry, const char *repository, const char *tag,
                      const char *digest, const char *canonical) {
        _cleanup_image_ref_ ImageRef *ref = NULL, *again = NULL;
        _cleanup_free_ char *text = NULL, *text_again = NULL;
        int r;

        r = image_ref_parse(s, &ref);
        CHECK_MSG(r == 0, "'%s' refused: %s", s, strerror(-r));
        CHECK_STREQ(ref->registry, registry);
        CHECK_STREQ(ref->repository, repository);
        CHECK_STREQ(ref->tag, tag);
        CHECK_STREQ(ref->digest, digest);
        text = image_ref_to_string(ref);
        CHECK_STREQ(text, canonical);
        /* the canonical form is a fixed point */
        CHECK_INT(image_ref_parse(text, &again), 0);
        text_again = image_ref_to_string(again);
        CHECK_STREQ(text_again, text);
}

TEST(references) {
        check_ref("quay.io/bpfd/xdp-pass:v1", "quay.io:443", "bpfd/xdp-pass", "v1", NULL, "quay.io:443/bpfd/xdp-pass:v1");
        check_ref("Quay.IO/bpfd/xdp", "quay.io:443", "bpfd/xdp", "latest", NULL, "quay.io:443/bpfd/xdp:latest");
        check_ref("localhost:05000/a/b/c:1.0_x-y", "localhost:5000", "a/b/c", "1.0_x-y", NULL, "localhost:5000/a/b/c:1.0_x-y");
        check_ref("localhost/x", "localhost:443", "x", "latest", NULL, "localhost:443/x:latest");
        check_ref("127.0.0.1:5000/x@" DIGEST, "127.0.0.1:5000", "x", NULL, DIGEST, "127.0.0.1:5000/x@" DIGEST);
        check_ref("r.example:1/x:t@" DIGEST, "r.example:1", "x", "t", DIGEST, "r.example:1/x:t@" DIGEST);
        check_ref("[::1]:5000/x", "[::1]:5000", "x", "latest", NULL, "[::1]:5000/x:latest");
        check_ref("[0:0::0:1]/x", "[::1]:443", "x", "latest", NULL, "[::1]:443/x:latest");
        check_ref("a.b/x__y.z-w", "a.b:443", "x__y.z-w", "latest", NULL, "a.b:443/x__y.z-w:latest");
}

TEST(docker_hub_aliases) {
        check_ref("docker.io/busybox", "docker.io:443", "library/busybox", "latest", NULL, "docker.io:443/library/busybox:latest");
        check_ref("index.docker.io/busybox:1", "docker.io:443", "library/busybox", "1", NULL, "docker.io:443/library/busybox:1");
        check_ref("registry-1.docker.io:443/org/x", "docker.io:443", "org/x", "latest", NULL, "docker.io:443/org/x:latest");
        check_ref("registry.hub.docker.com/x", "docker.io:443", "library/x", "latest", NULL, "docker.io:443/library/x:latest");
        /* another port is another registry */
        check_ref("docker.io:5000/x", "docker.io:5000", "x", "latest", NULL, "docker.io:5000/x:latest");
}

TEST(refused_references) {
        static const char *const bad[] = {
                "", "busybox", "busybox:latest", "library/busybox",    /* no registry: bpfd does not guess */
                "quay.io/", "quay.io//x", "quay.io/x/", "quay.io/X", "quay.io/-x", "quay.io/x-",
                "quay.io/x:", "quay.io/x:-t", "quay.io/x:t/y", "quay.io/x@sha256:00", "quay.io/x@" DIGEST "0",
                "quay.io/x@sha512:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "quay.io/x@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
                "quay.io:0/x", "quay.io:65536/x", "quay.io:http/x", "quay..io/x", ".quay.io/x", "quay.io-/x",
                "qu_ay.io/x", "[::1/x", "[]:5/x", "[zz::1]/x", "[::1]x/x", "quay.io/x y",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ImageRef *ref = NULL;

                CHECK_MSG(image_ref_parse(bad[i], &ref) == -EINVAL, "'%s' accepted", bad[i]);
                CHECK(!ref);
        }
        CHECK_INT(image_ref_parse(NULL, &(ImageRef *) { NULL }), -EINVAL);
}

TEST(length_limits) {
        char name[2048];

        /* a tag of 128 characters is fine, 129 is not */
        snprintf(name, sizeof name, "quay.io/x:%0128d", 0);
        name[10] = 't';
        CHECK_INT(image_ref_parse(name, &(ImageRef *) { NULL }), 0);
        snprintf(name, sizeof name, "quay.io/x:t%0128d", 0);
        CHECK_INT(image_ref_parse(name, &(ImageRef *) { NULL }), -EINVAL);
        /* longer than 1024 bytes in all */
        memset(name, 'a', sizeof name);
        memcpy(name, "quay.io/", 8);
        name[1025] = '\0';
        CHECK_INT(image_ref_parse(name, &(ImageRef *) { NULL }), -EINVAL);
}

static void check_registry(const char *name, const char *canonical) {
        _cleanup_free_ char *s = NULL, *again = NULL;

        if (!canonical) {
                CHECK_MSG(image_registry_canonical(name, &s) == -EINVAL, "'%s' accepted as '%s'", name, strempty(s));
                return;
        }
        CHECK_MSG(image_registry_canonical(name, &s) == 0, "'%s' refused", name);
        CHECK_STREQ(s, canonical);
        CHECK_INT(image_registry_canonical(s, &again), 0);
        CHECK_STREQ(again, canonical);
}

TEST(registry_names) {
        check_registry("Quay.IO", "quay.io:443");
        check_registry("quay.io:443", "quay.io:443");
        check_registry("127.0.0.1:05443", "127.0.0.1:5443");
        check_registry("index.docker.io", "docker.io:443");
        check_registry("localhost", "localhost:443");
        check_registry("myhost:8080", "myhost:8080");
        check_registry("[2001:DB8:0:0::1]:80", "[2001:db8::1]:80");
        check_registry("myhost", NULL);     /* no dot, no port: a repository, not a registry */
        check_registry("", NULL);
        check_registry("a:", NULL);
        check_registry("a.b:99999", NULL);
        check_registry("a.b:123456789", NULL);
        check_registry("a..b", NULL);
        check_registry("-a.b", NULL);
        check_registry("a.b-", NULL);
}

TEST(canonical_registry_fits_the_limit) {
        char name[300], canonical[310];

        /* 251 characters: the canonical form adds ":443" and is 255 long, still a name ... */
        memset(name, 'a', 251);
        name[1] = '.';
        name[251] = '\0';
        snprintf(canonical, sizeof canonical, "%s:443", name);
        check_registry(name, canonical);
        /* ... at 252, what bpfd would print could not be parsed back (found by fuzz-image-ref) */
        memset(name, 'a', 252);
        name[1] = '.';
        name[252] = '\0';
        check_registry(name, NULL);
}

TEST(digests) {
        CHECK(image_digest_valid(DIGEST));
        CHECK(!image_digest_valid(NULL));
        CHECK(!image_digest_valid("sha256:"));
        CHECK(!image_digest_valid("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg"));
        CHECK(!image_digest_valid("SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
}
