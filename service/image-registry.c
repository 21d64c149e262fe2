/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <strings.h>

#include <curl/curl.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "image-registry.h"
#include "image-util.h"

#define MANIFEST_ACCEPT "Accept: application/vnd.oci.image.manifest.v1+json, " \
        "application/vnd.oci.image.index.v1+json, " \
        "application/vnd.docker.distribution.manifest.v2+json, " \
        "application/vnd.docker.distribution.manifest.list.v2+json"

/* ---- registries.conf ---- */

static const char * const policy_keys[] = { "insecure", "require_signature", "keys", "ca", NULL };

void registry_policy_done(RegistryPolicy *p) {
        strv_free(p->keys);
        free(p->ca);
        *p = (RegistryPolicy) {};
}

int registry_policy_load(const char *path, const char *registry, RegistryPolicy *ret, char **err) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) e = NULL;
        g_auto(GStrv) group_keys = NULL;
        RegistryPolicy p = {};
        const char *group;

        g_auto(GStrv) groups = NULL;
        _cleanup_free_ char *match = NULL;

        /* Without a file or a group for it, a registry falls under the built-in default section. */
        p.require_signature = REGISTRY_DEFAULT_REQUIRE_SIGNATURE;
        p.default_section = true;
        *ret = p;
        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &e)) {
                if (g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                        return 0;
                return image_error(err, -EINVAL, "%s: %s", path, e->message);
        }
        /* Groups are compared by their canonical names: [127.0.0.1:05443] is [127.0.0.1:5443], [quay.io] is
         * [quay.io:443]; two groups naming one registry are an error, not a guess. */
        groups = g_key_file_get_groups(kf, NULL);
        for (char **g = groups; g && *g; g++) {
                _cleanup_free_ char *canonical = NULL;
                if (streq(*g, "*"))
                        continue;
                if (image_registry_canonical(*g, &canonical) < 0)
                        return image_error(err, -EINVAL, "%s: [%s] is not a registry name (host, host:port or *)",
                                           path, *g);
                if (!streq(canonical, registry))
                        continue;
                if (match)
                        return image_error(err, -EINVAL, "%s: [%s] and [%s] name the same registry %s", path, match,
                                           *g, registry);
                match = strdup(*g);
                if (!match)
                        return -ENOMEM;
        }
        group = match ?: g_key_file_has_group(kf, "*") ? "*" : NULL;
        if (!group)
                return 0;
        /* A group says everything about its registries: what it leaves out is off. */
        p.default_section = !match;
        p.require_signature = false;

        group_keys = g_key_file_get_keys(kf, group, NULL, NULL);
        for (char **k = group_keys; k && *k; k++)
                if (!g_strv_contains(policy_keys, *k))
                        return image_error(err, -EINVAL, "%s: unknown key \"%s\" in [%s]", path, *k, group);

        if (g_key_file_has_key(kf, group, "insecure", NULL)) {
                p.insecure = g_key_file_get_boolean(kf, group, "insecure", &e);
                if (e)
                        goto bad;
        }
        if (g_key_file_has_key(kf, group, "require_signature", NULL)) {
                p.require_signature = g_key_file_get_boolean(kf, group, "require_signature", &e);
                if (e)
                        goto bad;
        }
        if (g_key_file_has_key(kf, group, "ca", NULL)) {
                g_autofree char *ca = g_key_file_get_string(kf, group, "ca", &e);
                if (e)
                        goto bad;
                if (*ca && !(p.ca = strdup(ca)))
                        return -ENOMEM;
        }
        if (g_key_file_has_key(kf, group, "keys", NULL)) {
                g_auto(GStrv) keys = g_key_file_get_string_list(kf, group, "keys", NULL, &e);
                if (e) {
                        registry_policy_done(&p);
                        goto bad;
                }
                for (char **k = keys; k && *k; k++) {
                        g_strstrip(*k);
                        if (**k == '\0')
                                continue;
                        if (**k != '/') {
                                registry_policy_done(&p);
                                return image_error(err, -EINVAL, "%s: [%s] keys: \"%s\" is not an absolute path",
                                                   path, group, *k);
                        }
                        if (strv_push(&p.keys, strdup(*k)) < 0) {
                                registry_policy_done(&p);
                                return -ENOMEM;
                        }
                }
        }
        if (p.require_signature && !p.keys && !p.default_section) {
                registry_policy_done(&p);
                return image_error(err, -EINVAL, "%s: [%s] requires signatures but names no keys", path, group);
        }
        *ret = p;
        return 0;
bad:
        registry_policy_done(&p);
        return image_error(err, -EINVAL, "%s: [%s]: %s", path, group, e->message);
}

/* ---- auth file ---- */

/* "https://host:port/v1/" → "host:port", as docker login writes keys. */
static char *auth_key_host(const char *key) {
        const char *s = strstr(key, "://");
        s = s ? s + 3 : key;
        return strndup(s, strcspn(s, "/"));
}

int registry_credentials_load(const char *path, const char *data, const char *registry, char **ret_user,
                              char **ret_password, char **err) {
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) e = NULL;
        g_autoptr(GList) members = NULL;
        JsonNode *root;
        JsonObject *auths;

        *ret_user = *ret_password = NULL;
        if (!data && access(path, F_OK) < 0 && errno == ENOENT)
                return 0;
        if (data ? !json_parser_load_from_data(parser, data, -1, &e) : !json_parser_load_from_file(parser, path, &e))
                return image_error(err, -EINVAL, "credentials file %s: %s", path, e->message);
        root = json_parser_get_root(parser);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root))
                return image_error(err, -EINVAL, "credentials file %s: not a JSON object", path);
        if (!json_object_has_member(json_node_get_object(root), "auths"))
                return 0;
        auths = json_object_get_object_member(json_node_get_object(root), "auths");
        if (!auths)
                return image_error(err, -EINVAL, "credentials file %s: \"auths\" is not an object", path);

        members = json_object_get_members(auths);
        for (GList *l = members; l; l = l->next) {
                _cleanup_free_ char *host = auth_key_host(l->data);
                JsonNode *n = json_object_get_member(auths, l->data);
                JsonObject *o;
                const char *auth, *user, *pass;

                _cleanup_free_ char *canonical = NULL;
                if (!host)
                        return -ENOMEM;
                if (image_registry_canonical(host, &canonical) < 0 || !streq(canonical, registry))
                        continue;
                if (!JSON_NODE_HOLDS_OBJECT(n))
                        return image_error(err, -EINVAL, "credentials file %s: entry %s is not an object",
                                           path, (char *) l->data);
                o = json_node_get_object(n);
                auth = json_object_get_string_member_with_default(o, "auth", NULL);
                user = json_object_get_string_member_with_default(o, "username", NULL);
                pass = json_object_get_string_member_with_default(o, "password", NULL);
                if (auth && *auth) {
                        gsize len = 0;
                        g_autofree guchar *dec = g_base64_decode(auth, &len);
                        _cleanup_free_ char *s = dec ? strndup((char *) dec, len) : NULL;
                        char *colon = s ? strchr(s, ':') : NULL;

                        if (!colon || strlen(s) != len)
                                return image_error(err, -EINVAL, "credentials file %s: entry %s: \"auth\" is not "
                                                   "base64 of user:password", path, (char *) l->data);
                        *colon = '\0';
                        *ret_user = strdup(s);
                        *ret_password = strdup(colon + 1);
                } else if (user && pass) {
                        *ret_user = strdup(user);
                        *ret_password = strdup(pass);
                } else
                        continue;
                if (!*ret_user || !*ret_password) {
                        free(*ret_user);
                        free(*ret_password);
                        *ret_user = *ret_password = NULL;
                        return -ENOMEM;
                }
                return 1;
        }
        return 0;
}

/* ---- HTTP ---- */

struct RegistryClient {
        char *registry;
        char *repository;
        char *base;             /* "https://host:port" */
        RegistryPolicy policy;  /* insecure and ca copied */
        char *user, *password;
        char *authorization;    /* "Authorization: ..." header that worked, reused for later requests */
        long timeout;
        CURL *curl;
};

typedef struct Response {
        char *body;
        size_t size, alloc, max;
        bool too_big;
        char *challenge;        /* WWW-Authenticate of the last response */
} Response;

static void response_done(Response *r) {
        free(r->body);
        free(r->challenge);
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        Response *r = userdata;
        size_t n = size * nmemb;

        if (r->size + n > r->max) {
                r->too_big = true;
                return 0;
        }
        if (r->size + n + 1 > r->alloc) {
                size_t want = MAX(r->alloc * 2, r->size + n + 1);
                char *b = realloc(r->body, want);
                if (!b)
                        return 0;
                r->body = b;
                r->alloc = want;
        }
        memcpy(r->body + r->size, data, n);
        r->size += n;
        r->body[r->size] = '\0';
        return n;
}

static size_t header_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        Response *r = userdata;
        size_t n = size * nmemb;

        /* A new status line (redirects, 100-continue): forget the previous response's headers. */
        if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
                free(r->challenge);
                r->challenge = NULL;
        } else if (n > 17 && strncasecmp(data, "WWW-Authenticate:", 17) == 0) {
                size_t len = n - 17;
                const char *v = data + 17;
                while (len && isspace((unsigned char) *v))
                        v++, len--;
                while (len && isspace((unsigned char) v[len - 1]))
                        len--;
                free(r->challenge);
                r->challenge = strndup(v, len);
        }
        return n;
}

static CURL *client_curl(RegistryClient *c) {
        if (!c->curl)
                c->curl = curl_easy_init();
        else
                curl_easy_reset(c->curl);
        if (!c->curl)
                return NULL;
        curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c->curl, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, c->policy.insecure ? "http,https" : "https");
        curl_easy_setopt(c->curl, CURLOPT_REDIR_PROTOCOLS_STR, c->policy.insecure ? "http,https" : "https");
        curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, c->timeout);
        curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "bpfd");
        if (c->policy.ca)
                curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->policy.ca);
        return c->curl;
}

static int curl_failure(RegistryClient *c, CURLcode cr, const char *url, const char *errbuf, char **err) {
        const char *why = *errbuf ? errbuf : curl_easy_strerror(cr);

        switch (cr) {
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
                return image_error(err, -EHOSTUNREACH, "registry %s: TLS failed (%s)%s", c->registry, why,
                                   c->policy.insecure ? "" : "; set ca= for its CA, or insecure=true for plain HTTP");
        case CURLE_UNSUPPORTED_PROTOCOL:
                return image_error(err, -EHOSTUNREACH, "registry %s: %s (redirect to plain HTTP from an HTTPS "
                                   "registry?)", c->registry, why);
        default:
                return image_error(err, -EHOSTUNREACH, "registry %s unreachable: %s (%s)", c->registry, why, url);
        }
}

/* Splits an auth challenge's parameters: realm="...",service="...",scope="...". */
static char *challenge_param(const char *params, const char *name) {
        const char *p = params;
        size_t nlen = strlen(name);

        while (*p) {
                while (*p == ' ' || *p == ',')
                        p++;
                const char *key = p;
                while (*p && *p != '=' && *p != ',')
                        p++;
                if (*p != '=')
                        continue;
                bool match = (size_t) (p - key) == nlen && strncasecmp(key, name, nlen) == 0;
                GString *v = g_string_new(NULL);
                p++;
                if (*p == '"') {
                        for (p++; *p && *p != '"'; p++) {
                                if (*p == '\\' && p[1])
                                        p++;
                                g_string_append_c(v, *p);
                        }
                        if (*p == '"')
                                p++;
                } else
                        for (; *p && *p != ','; p++)
                                g_string_append_c(v, *p);
                if (match) {
                        char *s = strdup(v->str);
                        g_string_free(v, TRUE);
                        return s;
                }
                g_string_free(v, TRUE);
        }
        return NULL;
}

static char *basic_header(const char *prefix, const char *user, const char *password) {
        g_autofree char *up = g_strdup_printf("%s:%s", user, password);
        g_autofree char *b64 = g_base64_encode((const guchar *) up, strlen(up));
        char *h = NULL;

        if (asprintf(&h, "%sBasic %s", prefix, b64) < 0)
                return NULL;
        return h;
}

/* The Bearer flow: ask the challenge's realm for a token for this repository (with the basic
 * credentials if there are any) and remember "Authorization: Bearer <token>". */
static int fetch_token(RegistryClient *c, const char *params, char **err) {
        _cleanup_free_ char *realm = challenge_param(params, "realm"), *service = challenge_param(params, "service"),
                            *scope = challenge_param(params, "scope"), *url = NULL, *basic = NULL;
        _cleanup_free_ char *default_scope = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        struct curl_slist *headers = NULL;
        g_autoptr(JsonParser) parser = NULL;
        Response resp = { .max = 1024 * 1024 };
        CURL *curl;
        CURLcode cr;
        JsonNode *root;
        const char *token = NULL;
        long status = 0;
        int r;

        if (!realm || strncmp(realm, "http", 4) != 0)
                return image_error(err, -EPROTO, "registry %s: Bearer challenge without a usable realm", c->registry);
        if (!scope && asprintf(&default_scope, "repository:%s:pull", c->repository) < 0)
                return -ENOMEM;
        curl = client_curl(c);
        if (!curl)
                return -ENOMEM;
        {
                char *es = curl_easy_escape(curl, scope ?: default_scope, 0);
                char *ss = service ? curl_easy_escape(curl, service, 0) : NULL;
                r = asprintf(&url, "%s%sscope=%s%s%s", realm, strchr(realm, '?') ? "&" : "?", es,
                             ss ? "&service=" : "", ss ?: "");
                curl_free(es);
                curl_free(ss);
                if (r < 0)
                        return -ENOMEM;
        }
        if (c->user) {
                basic = basic_header("Authorization: ", c->user, c->password);
                if (!basic)
                        return -ENOMEM;
                headers = curl_slist_append(headers, basic);
        }
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
        cr = curl_easy_perform(curl);
        curl_slist_free_all(headers);
        if (cr != CURLE_OK) {
                r = curl_failure(c, cr, realm, errbuf, err);
                goto finish;
        }
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (status == 401 || status == 403) {
                r = image_error(err, -EACCES, "registry %s: token service refused %s", c->registry,
                                c->user ? "the credentials" : "anonymous access (no credentials for this registry)");
                goto finish;
        }
        if (status != 200) {
                r = image_error(err, -EPROTO, "registry %s: token service answered HTTP %ld", c->registry, status);
                goto finish;
        }
        parser = json_parser_new();
        if (!json_parser_load_from_data(parser, resp.body ?: "", (gssize) resp.size, NULL) ||
            !(root = json_parser_get_root(parser)) || !JSON_NODE_HOLDS_OBJECT(root)) {
                r = image_error(err, -EPROTO, "registry %s: token service sent no JSON object", c->registry);
                goto finish;
        }
        token = json_object_get_string_member_with_default(json_node_get_object(root), "token", NULL);
        if (!token || !*token)
                token = json_object_get_string_member_with_default(json_node_get_object(root), "access_token", NULL);
        if (!token || !*token) {
                r = image_error(err, -EPROTO, "registry %s: token service sent no token", c->registry);
                goto finish;
        }
        free(c->authorization);
        c->authorization = NULL;
        r = asprintf(&c->authorization, "Authorization: Bearer %s", token) < 0 ? -ENOMEM : 0;
finish:
        response_done(&resp);
        return r;
}

/* GET PATH with the current authorization; on a 401 answer the challenge once and retry. */
static int client_get(RegistryClient *c, const char *path, const char *accept, size_t max_size, const char *what,
                      char **ret, size_t *ret_size, char **err) {
        _cleanup_free_ char *url = NULL;

        if (asprintf(&url, "%s/v2/%s/%s", c->base, c->repository, path) < 0)
                return -ENOMEM;

        for (unsigned attempt = 0;; attempt++) {
                char errbuf[CURL_ERROR_SIZE] = "";
                struct curl_slist *headers = NULL;
                Response resp = { .max = max_size };
                CURL *curl = client_curl(c);
                CURLcode cr;
                long status = 0;
                int r;

                if (!curl)
                        return -ENOMEM;
                if (accept)
                        headers = curl_slist_append(headers, accept);
                if (c->authorization)
                        headers = curl_slist_append(headers, c->authorization);
                curl_easy_setopt(curl, CURLOPT_URL, url);
                curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
                curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
                curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
                curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_cb);
                curl_easy_setopt(curl, CURLOPT_HEADERDATA, &resp);
                curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
                cr = curl_easy_perform(curl);
                curl_slist_free_all(headers);
                if (cr != CURLE_OK) {
                        if (resp.too_big)
                                r = image_error(err, -EPROTO, "%s is larger than %zu bytes; not a bytecode image",
                                                what, max_size);
                        else
                                r = curl_failure(c, cr, url, errbuf, err);
                        response_done(&resp);
                        return r;
                }
                curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);

                if (status == 200) {
                        *ret = resp.body ?: strdup("");
                        *ret_size = resp.size;
                        free(resp.challenge);
                        return *ret ? 0 : -ENOMEM;
                }
                if (status == 401 && attempt == 0 && resp.challenge) {
                        _cleanup_free_ char *challenge = TAKE_PTR(resp.challenge);
                        response_done(&resp);
                        if (strncasecmp(challenge, "Bearer ", 7) == 0) {
                                r = fetch_token(c, challenge + 7, err);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if (strncasecmp(challenge, "Basic", 5) == 0) {
                                if (!c->user)
                                        return image_error(err, -EACCES, "registry %s requires credentials and "
                                                           "there are none for it", c->registry);
                                free(c->authorization);
                                c->authorization = basic_header("Authorization: ", c->user, c->password);
                                if (!c->authorization)
                                        return -ENOMEM;
                                continue;
                        }
                        return image_error(err, -EACCES, "registry %s: unsupported authentication \"%.40s\"",
                                           c->registry, challenge);
                }
                response_done(&resp);
                if (status == 401 || status == 403)
                        return image_error(err, -EACCES, "registry %s refused %s (HTTP %ld)", c->registry,
                                           c->user ? "the credentials" : "access without credentials", status);
                if (status == 404)
                        return image_error(err, -ENOENT, "%s not found in %s/%s", what, c->registry, c->repository);
                return image_error(err, -EPROTO, "registry %s answered HTTP %ld for %s", c->registry, status, what);
        }
}

int registry_get_manifest(RegistryClient *c, const char *reference, size_t max_size,
                          char **ret, size_t *ret_size, char **err) {
        _cleanup_free_ char *path = NULL, *what = NULL;

        if (asprintf(&path, "manifests/%s", reference) < 0 ||
            asprintf(&what, "manifest %s", reference) < 0)
                return -ENOMEM;
        return client_get(c, path, MANIFEST_ACCEPT, max_size, what, ret, ret_size, err);
}

int registry_get_blob(RegistryClient *c, const char *digest, size_t max_size,
                      char **ret, size_t *ret_size, char **err) {
        _cleanup_free_ char *path = NULL, *what = NULL;

        if (asprintf(&path, "blobs/%s", digest) < 0 || asprintf(&what, "blob %s", digest) < 0)
                return -ENOMEM;
        return client_get(c, path, NULL, max_size, what, ret, ret_size, err);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

int registry_client_new(const char *registry, const char *repository, const RegistryPolicy *policy,
                        const char *user, const char *password, long timeout_sec, RegistryClient **ret) {
        RegistryClient *c;

        pthread_once(&curl_once, curl_init_once);
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->registry = strdup(registry);
        c->repository = strdup(repository);
        c->policy.insecure = policy->insecure;
        c->policy.ca = policy->ca ? strdup(policy->ca) : NULL;
        c->user = user ? strdup(user) : NULL;
        c->password = password ? strdup(password) : NULL;
        c->timeout = timeout_sec > 0 ? timeout_sec : 30;
        if (!c->registry || !c->repository || (policy->ca && !c->policy.ca) || (user && !c->user) ||
            (password && !c->password) ||
            asprintf(&c->base, "%s://%s", policy->insecure ? "http" : "https",
                     streq(registry, "docker.io:443") ? "registry-1.docker.io" : registry) < 0) {
                c->base = NULL;
                registry_client_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

void registry_client_free(RegistryClient *c) {
        if (!c)
                return;
        if (c->curl)
                curl_easy_cleanup(c->curl);
        free(c->registry);
        free(c->repository);
        free(c->base);
        registry_policy_done(&c->policy);
        free(c->user);
        if (c->password)
                explicit_bzero(c->password, strlen(c->password));
        free(c->password);
        if (c->authorization)
                explicit_bzero(c->authorization, strlen(c->authorization));
        free(c->authorization);
        free(c);
}
