/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bpfd-exporter: serves bpfd's state as Prometheus metrics on /metrics. It runs without privileges (systemd
 * gives it a dynamic user), reads org.bpfd over the system bus like any client, and takes its listening
 * socket from systemd (bpfd-exporter.socket) or from --listen. HTTP is libmicrohttpd's. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "config.h"
#include "metrics.h"

static const char *arg_listen = NULL;

static void help(void) {
        printf("Usage: bpfd-exporter [OPTIONS]\n\n"
               "Serves the BPF programs of this machine, as bpfd shows them on the system bus, as Prometheus\n"
               "metrics on http://ADDRESS/metrics.\n\n"
               "Options:\n"
               "  -h --help            Show this help\n"
               "     --version         Show the version\n"
               "     --listen=HOST:PORT Listen there (e.g. 127.0.0.1:9435, [::1]:9435) instead of on the\n"
               "                       socket systemd passes (bpfd-exporter.socket)\n");
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_LISTEN };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "listen", required_argument, NULL, ARG_LISTEN },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        puts("bpfd-exporter " BPFD_VERSION);
                        return 0;
                case ARG_LISTEN:
                        arg_listen = optarg;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                fprintf(stderr, "bpfd-exporter: takes no arguments.\n");
                return -EINVAL;
        }
        return 1;
}

/* HOST:PORT, with HOST in brackets for IPv6; numeric only (no name lookups). */
static int listen_on(const char *spec) {
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE },
                        *ai = NULL;
        char host[128];
        const char *colon = strrchr(spec, ':'), *h = spec;
        size_t len;
        int fd, one = 1, r;

        if (!colon || colon == spec || !colon[1])
                return -EINVAL;
        len = (size_t) (colon - spec);
        if (spec[0] == '[' && colon[-1] == ']') {
                h = spec + 1;
                len -= 2;
        }
        if (len >= sizeof host)
                return -EINVAL;
        memcpy(host, h, len);
        host[len] = 0;
        r = getaddrinfo(host, colon + 1, &hints, &ai);
        if (r != 0)
                return -EINVAL;
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                r = -errno;
                freeaddrinfo(ai);
                return r;
        }
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
                r = -errno;
                close(fd);
                freeaddrinfo(ai);
                return r;
        }
        freeaddrinfo(ai);
        return fd;
}

static enum MHD_Result respond(struct MHD_Connection *connection, unsigned status, const char *type, char *body,
                               size_t size) {
        struct MHD_Response *response = MHD_create_response_from_buffer_with_free_callback(size, body, free);
        enum MHD_Result ret;

        if (!response) {
                free(body);
                return MHD_NO;
        }
        (void) MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
                (void) MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        ret = MHD_queue_response(connection, status, response);
        MHD_destroy_response(response);
        return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *connection, unsigned status, const char *text) {
        char *body = strdup(text);
        return body ? respond(connection, status, "text/plain; charset=utf-8", body, strlen(body)) : MHD_NO;
}

static enum MHD_Result serve_metrics(struct MHD_Connection *connection) {
        sd_bus *bus = NULL;
        char *body = NULL;
        size_t size = 0;
        FILE *out;
        int r;

        out = open_memstream(&body, &size);
        if (!out)
                return respond_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory.\n");
        /* A connection per scrape: nothing goes stale when the bus or bpfd restarts between scrapes. */
        if (sd_bus_open_system(&bus) < 0)
                bus = NULL;
        else
                (void) sd_bus_set_method_call_timeout(bus, 10 * 1000000ULL);
        r = metrics_write(bus, out);
        sd_bus_flush_close_unref(bus);
        if (fclose(out) != 0 || r < 0) {
                free(body);
                return respond_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "Cannot write the metrics.\n");
        }
        return respond(connection, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, size);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls) {
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
                return respond_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "Only GET and HEAD.\n");
        if (strcmp(url, "/metrics") == 0)
                return serve_metrics(connection);
        if (strcmp(url, "/") == 0) {
                static const char page[] = "<!DOCTYPE html>\n<html><head><title>bpfd exporter</title></head>"
                                           "<body><h1>bpfd exporter</h1><p><a href=\"/metrics\">Metrics</a></p>"
                                           "</body></html>\n";
                char *body = strdup(page);
                return body ? respond(connection, MHD_HTTP_OK, "text/html; charset=utf-8", body, strlen(body))
                            : MHD_NO;
        }
        return respond_text(connection, MHD_HTTP_NOT_FOUND, "Not found; metrics are on /metrics.\n");
}

int main(int argc, char *argv[]) {
        struct MHD_Daemon *httpd;
        sigset_t mask;
        int r, fd, sig;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        if (arg_listen) {
                fd = listen_on(arg_listen);
                if (fd < 0) {
                        fprintf(stderr, "bpfd-exporter: cannot listen on %s: %s\n", arg_listen, strerror(-fd));
                        return 1;
                }
        } else {
                r = sd_listen_fds(true);
                if (r != 1) {
                        fprintf(stderr, "bpfd-exporter: expected one socket from systemd (got %d); "
                                        "use --listen=HOST:PORT to run without socket activation.\n", r < 0 ? 0 : r);
                        return 1;
                }
                fd = SD_LISTEN_FDS_START;
        }

        /* Signals are taken by sigwait below; block them before libmicrohttpd starts its thread. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        pthread_sigmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        /* One polling thread: scrapes are answered one after the other, each with its own bus connection. */
        httpd = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
                                 NULL, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                                 MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_END);
        if (!httpd) {
                fprintf(stderr, "bpfd-exporter: cannot start the HTTP server.\n");
                return 1;
        }
        (void) sd_notify(false, "READY=1\nSTATUS=Serving /metrics.");
        fprintf(stderr, "bpfd-exporter %s serving /metrics%s%s.\n", BPFD_VERSION, arg_listen ? " on " : "",
                arg_listen ?: "");
        while (sigwait(&mask, &sig) == 0 && sig != SIGTERM && sig != SIGINT)
                ;
        (void) sd_notify(false, "STOPPING=1");
        MHD_stop_daemon(httpd);
        return 0;
}
