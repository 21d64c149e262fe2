/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* introspect-check [--interface NAME]... CONTRACT.xml LIVE.xml
 *
 * Compares the D-Bus interfaces of two introspection documents: the API contract (org.bpfd.Manager.xml) and
 * what a running bpfd introspects to. Every interface whose name starts with "org.bpfd." is compared (or only
 * the ones named with --interface, which must then be in both documents): methods with their arguments in
 * order (name, type, direction) and annotations, signals with their arguments, properties (type, access,
 * annotations) and the interface's own annotations. The order of members does not matter; the order of
 * arguments does. Comments, whitespace and the standard org.freedesktop.DBus.* interfaces are ignored, as are
 * child <node> elements.
 *
 * Prints the differences diff-like, per interface: "-" for what only the contract has, "+" for what only the
 * live document has. Exit status: 0 when they match, 1 when they differ, 2 on bad usage or unreadable XML. */
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#define BPFD_PREFIX "org.bpfd."

typedef struct Lines {
        char **v;
        size_t n, size;
} Lines;

static void *xalloc_check(void *p) {
        if (!p) {
                fputs("introspect-check: out of memory\n", stderr);
                exit(2);
        }
        return p;
}

static void lines_add(Lines *l, char *s) {
        if (l->n == l->size) {
                l->size = l->size ? l->size * 2 : 32;
                l->v = xalloc_check(realloc(l->v, l->size * sizeof(char *)));
        }
        l->v[l->n++] = xalloc_check(s);
}

static void lines_free(Lines *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        *l = (Lines) {};
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void lines_sort(Lines *l) {
        if (l->n > 0)
                qsort(l->v, l->n, sizeof(char *), cmp_str);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        return xalloc_check(s);
}

/* An attribute as a malloc'ed string; DEF (may be NULL) if absent. */
static char *attr(xmlNode *n, const char *name, const char *def) {
        xmlChar *v = xmlGetProp(n, (const xmlChar *) name);
        char *s;

        if (!v)
                return def ? xalloc_check(strdup(def)) : NULL;
        s = xalloc_check(strdup((const char *) v));
        xmlFree(v);
        return s;
}

static bool is_element(xmlNode *n, const char *name) {
        return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *) name) == 0;
}

/* The <annotation> children of N as lines "PREFIX @Name = Value". */
static void add_annotations(Lines *out, xmlNode *n, const char *prefix) {
        for (xmlNode *c = n->children; c; c = c->next) {
                char *name, *value;
                if (!is_element(c, "annotation"))
                        continue;
                name = attr(c, "name", "(unnamed)");
                value = attr(c, "value", "");
                lines_add(out, xasprintf("%s @%s = \"%s\"", prefix, name, value));
                free(name);
                free(value);
        }
}

/* "in h object, in a{sv} options, out ao programs" */
static char *arg_list(xmlNode *member, bool is_signal) {
        size_t size = 0;
        char *buf = NULL;
        FILE *f = open_memstream(&buf, &size);
        bool first = true;

        xalloc_check(f);
        for (xmlNode *c = member->children; c; c = c->next) {
                char *name, *type, *dir;
                if (!is_element(c, "arg"))
                        continue;
                name = attr(c, "name", "(unnamed)");
                type = attr(c, "type", "(no type)");
                /* Method arguments are "in" unless said otherwise; signal arguments are always "out". */
                dir = attr(c, "direction", is_signal ? "out" : "in");
                fprintf(f, "%s%s %s %s", first ? "" : ", ", dir, type, name);
                first = false;
                free(name);
                free(type);
                free(dir);
        }
        fclose(f);
        return xalloc_check(buf);
}

/* Every comparable fact about interface IFACE, one line each. */
static void describe_interface(Lines *out, xmlNode *iface) {
        add_annotations(out, iface, "interface");
        for (xmlNode *c = iface->children; c; c = c->next) {
                char *name, *prefix;
                if (c->type != XML_ELEMENT_NODE || is_element(c, "annotation"))
                        continue;
                name = attr(c, "name", "(unnamed)");
                if (is_element(c, "method") || is_element(c, "signal")) {
                        bool sig = is_element(c, "signal");
                        char *args = arg_list(c, sig);
                        prefix = xasprintf("%s %s", sig ? "signal" : "method", name);
                        lines_add(out, xasprintf("%s(%s)", prefix, args));
                        add_annotations(out, c, prefix);
                        free(args);
                } else if (is_element(c, "property")) {
                        char *type = attr(c, "type", "(no type)"), *access = attr(c, "access", "(no access)");
                        prefix = xasprintf("property %s", name);
                        lines_add(out, xasprintf("%s %s %s", prefix, type, access));
                        add_annotations(out, c, prefix);
                        free(type);
                        free(access);
                } else {
                        /* Not part of the introspection format; compared by name so it is not silently lost. */
                        prefix = xasprintf("<%s> %s", (const char *) c->name, name);
                        lines_add(out, strdup(prefix));
                }
                free(prefix);
                free(name);
        }
        lines_sort(out);
}

static xmlDoc *read_doc(const char *path) {
        xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOWARNING);
        xmlNode *root;

        if (!doc) {
                fprintf(stderr, "introspect-check: %s is not readable XML\n", path);
                return NULL;
        }
        root = xmlDocGetRootElement(doc);
        if (!root || !is_element(root, "node")) {
                fprintf(stderr, "introspect-check: the root element of %s is not <node>\n", path);
                xmlFreeDoc(doc);
                return NULL;
        }
        return doc;
}

static xmlNode *find_interface(xmlDoc *doc, const char *name) {
        for (xmlNode *c = xmlDocGetRootElement(doc)->children; c; c = c->next) {
                if (is_element(c, "interface")) {
                        char *n = attr(c, "name", "");
                        bool match = strcmp(n, name) == 0;
                        free(n);
                        if (match)
                                return c;
                }
        }
        return NULL;
}

/* Names of the org.bpfd.* interfaces of DOC, appended to NAMES. */
static void collect_interfaces(Lines *names, xmlDoc *doc) {
        for (xmlNode *c = xmlDocGetRootElement(doc)->children; c; c = c->next) {
                char *n;
                if (!is_element(c, "interface"))
                        continue;
                n = attr(c, "name", "");
                if (strncmp(n, BPFD_PREFIX, strlen(BPFD_PREFIX)) == 0)
                        lines_add(names, n);
                else
                        free(n);
        }
}

/* Prints the differences of one interface; returns the number of differing lines. */
static size_t compare_interface(const char *name, xmlDoc *contract, xmlDoc *live, const char *contract_path,
                                const char *live_path) {
        xmlNode *a = find_interface(contract, name), *b = find_interface(live, name);
        Lines la = {}, lb = {};
        size_t i = 0, j = 0, diffs = 0;

        if (!a || !b) {
                printf("interface %s:\n  %s interface %s (only in %s, missing from %s)\n", name, a ? "-" : "+", name,
                       a ? contract_path : live_path, a ? live_path : contract_path);
                return 1;
        }
        describe_interface(&la, a);
        describe_interface(&lb, b);
        while (i < la.n || j < lb.n) {
                int c = i >= la.n ? 1 : j >= lb.n ? -1 : strcmp(la.v[i], lb.v[j]);
                if (c == 0) {
                        i++;
                        j++;
                        continue;
                }
                if (diffs++ == 0)
                        printf("interface %s:\n", name);
                if (c < 0)
                        printf("  - %s\n", la.v[i++]);
                else
                        printf("  + %s\n", lb.v[j++]);
        }
        lines_free(&la);
        lines_free(&lb);
        return diffs;
}

static void usage(FILE *f) {
        fputs("Usage: introspect-check [--interface NAME]... CONTRACT.xml LIVE.xml\n"
              "Compare the org.bpfd.* interfaces (or only the named ones) of two D-Bus introspection\n"
              "documents. Differences are printed with - (only in CONTRACT) and + (only in LIVE).\n"
              "Exit status: 0 same, 1 different, 2 error.\n",
              f);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "interface", required_argument, NULL, 'i' },
                { "help",      no_argument,       NULL, 'h' },
                {}
        };
        Lines wanted = {}, names = {};
        xmlDoc *contract, *live;
        size_t diffs = 0;
        int c;

        while ((c = getopt_long(argc, argv, "i:h", options, NULL)) >= 0) {
                switch (c) {
                case 'i':
                        lines_add(&wanted, strdup(optarg));
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (argc - optind != 2) {
                usage(stderr);
                return 2;
        }
        LIBXML_TEST_VERSION;
        contract = read_doc(argv[optind]);
        live = read_doc(argv[optind + 1]);
        if (!contract || !live) {
                if (contract)
                        xmlFreeDoc(contract);
                if (live)
                        xmlFreeDoc(live);
                return 2;
        }

        if (wanted.n > 0) {
                for (size_t i = 0; i < wanted.n; i++)
                        lines_add(&names, strdup(wanted.v[i]));
        } else {
                collect_interfaces(&names, contract);
                collect_interfaces(&names, live);
        }
        lines_sort(&names);
        if (names.n == 0) {
                fprintf(stderr, "introspect-check: no %s* interface in %s or %s\n", BPFD_PREFIX, argv[optind],
                        argv[optind + 1]);
                return 2;
        }
        for (size_t i = 0; i < names.n; i++) {
                if (i > 0 && strcmp(names.v[i], names.v[i - 1]) == 0)
                        continue;
                diffs += compare_interface(names.v[i], contract, live, argv[optind], argv[optind + 1]);
        }
        if (diffs > 0)
                printf("%zu differing line%s between %s (-) and %s (+)\n", diffs, diffs == 1 ? "" : "s", argv[optind],
                       argv[optind + 1]);

        lines_free(&wanted);
        lines_free(&names);
        xmlFreeDoc(contract);
        xmlFreeDoc(live);
        xmlCleanupParser();
        return diffs > 0 ? 1 : 0;
}
