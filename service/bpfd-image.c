/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bpfd-image: pulls OCI bytecode images (service/image*.c) for bpfd, in a process of its own so that the
 * network-facing registry client, its TLS and JSON parsing and its libraries stay out of the daemon; bpfd
 * starts "serve" once, as its image user without capabilities (image-puller.h). The tests drive the other
 * verbs directly too.
 *
 *     bpfd-image pull REF [--policy Always|IfNotPresent|Never] [--cache DIR] [--cache-max BYTES] [--config FILE]
 *                          [--auth FILE] [--user USER --password PASS]
 *     bpfd-image parse REF
 *     bpfd-image list [--cache DIR]          one line "image REFERENCE DIGEST" per cached reference
 *     bpfd-image rm REF [--cache DIR]        forget a cached reference (10 if it was not cached)
 *     bpfd-image serve [--cache DIR] [--cache-max BYTES] [--config FILE]
 *                                            bpfd's long-lived puller, requests on fd 3 (see image-serve.h)
 *
 * pull prints one "key value" line each: "reference", "digest" (manifest digest), "object" (path of the
 * cached object file), "filename", "source" (cache or registry), "signed KEY" or "unsigned", then
 * "program NAME TYPE" and "map NAME TYPE" per label entry. parse prints registry, repository, tag,
 * digest and the canonical form. Errors: "error: CLASS: message" on stderr and an exit status per
 * class:
 *     2 BadReference (also usage)   3 RegistryUnreachable   4 ImageNotFound   5 AuthenticationFailed
 *     6 DigestMismatch   7 NoSignature   8 UnknownSigner   9 SignatureDigestMismatch   10 NotCached
 *     11 InvalidImage   1 anything else */

#include <errno.h>
#include <getopt.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "image-serve.h"
#include "image.h"
#include "util.h"

static int usage(void) {
        fprintf(stderr, "usage: bpfd-image pull REF [--policy P] [--cache DIR] [--config FILE] [--auth FILE]\n"
                        "                        [--user USER --password PASS]\n"
                        "       bpfd-image parse REF\n");
        return 2;
}

static int do_parse(const char *s) {
        _cleanup_image_ref_ ImageRef *ref = NULL;
        _cleanup_free_ char *canon = NULL;
        int r = image_ref_parse(s, &ref);

        if (r < 0) {
                fprintf(stderr, "error: %s: bad image reference \"%s\"\n", image_error_class(r), s);
                return image_exit_status(r);
        }
        canon = image_ref_to_string(ref);
        printf("registry %s\nrepository %s\ntag %s\ndigest %s\ncanonical %s\n", ref->registry, ref->repository,
               ref->tag ?: "-", ref->digest ?: "-", strempty(canon));
        return 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "policy", required_argument, NULL, 'p' },
                { "cache", required_argument, NULL, 'c' },
                { "cache-max", required_argument, NULL, 'm' },
                { "config", required_argument, NULL, 'f' },
                { "auth", required_argument, NULL, 'a' },
                { "user", required_argument, NULL, 'u' },
                { "password", required_argument, NULL, 'w' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        ImagePullOptions opts = { .policy = IMAGE_PULL_IF_NOT_PRESENT };
        _cleanup_image_result_ ImageResult *res = NULL;
        _cleanup_free_ char *err = NULL;
        int c, r;

        /* Run as nobody (or its own user) after exec, which made it dumpable again: no other process of that uid
         * may write its memory or trace it (it verifies what it hands bpfd). */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
                fprintf(stderr, "error: Failed: cannot make bpfd-image non-dumpable: %s\n", strerror(errno));
                return 1;
        }
        libbpf_set_print(NULL);   /* its messages would be taken for ours */
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'p':
                        if (image_pull_policy_from_string(optarg, &opts.policy) < 0) {
                                fprintf(stderr, "error: BadReference: unknown pull policy \"%s\"\n", optarg);
                                return 2;
                        }
                        break;
                case 'c':
                        opts.cache_dir = optarg;
                        break;
                case 'm': {
                        char *end = NULL;
                        errno = 0;
                        opts.cache_max = strtoull(optarg, &end, 10);
                        if (errno || !end || *end || *optarg == '-') {
                                fprintf(stderr, "error: BadReference: bad --cache-max \"%s\" (bytes)\n", optarg);
                                return 2;
                        }
                        break;
                }
                case 'f':
                        opts.config_path = optarg;
                        break;
                case 'a':
                        opts.auth_path = optarg;
                        break;
                case 'u':
                        opts.username = optarg;
                        break;
                case 'w':
                        opts.password = optarg;
                        break;
                default:
                        return usage();
                }
        if (argc - optind == 1 && streq(argv[optind], "list")) {
                _cleanup_strv_free_ char **refs = NULL;
                r = image_cache_list(opts.cache_dir, &refs);
                if (r < 0) {
                        fprintf(stderr, "error: Failed: cannot read the cache: %s\n", strerror(-r));
                        return 1;
                }
                for (char **i = refs; i && i[0] && i[1]; i += 2)
                        printf("image %s %s\n", i[0], i[1]);
                return 0;
        }
        if (argc - optind == 1 && streq(argv[optind], "serve"))
                return image_serve(3, &opts) < 0 ? 1 : 0;
        if (argc - optind != 2)
                return usage();
        if (streq(argv[optind], "parse"))
                return do_parse(argv[optind + 1]);
        if (streq(argv[optind], "rm")) {
                r = image_cache_remove(opts.cache_dir, argv[optind + 1]);
                if (r < 0)
                        fprintf(stderr, "error: %s: %s is not cached\n", r == -ENOENT ? "NotCached" : image_error_class(r),
                                argv[optind + 1]);
                return r == -ENOENT ? 10 : r < 0 ? image_exit_status(r) : 0;
        }
        if (!streq(argv[optind], "pull"))
                return usage();

        r = image_pull(argv[optind + 1], &opts, &res, &err);
        if (r < 0) {
                fprintf(stderr, "error: %s: %s\n", image_error_class(r), err ?: strerror(-r));
                return image_exit_status(r);
        }
        printf("reference %s\n", res->reference);
        printf("digest %s\n", res->manifest_digest);
        printf("object %s\n", res->object_path);
        printf("filename %s\n", res->object_filename);
        printf("source %s\n", res->from_cache ? "cache" : "registry");
        if (res->signed_)
                printf("signed %s\n", res->signer_key);
        else
                printf("unsigned\n");
        for (size_t i = 0; i < res->n_programs; i++)
                printf("program %s %s\n", res->programs[i].name, res->programs[i].type);
        for (size_t i = 0; i < res->n_maps; i++)
                printf("map %s %s\n", res->maps[i].name, res->maps[i].type);
        return 0;
}
