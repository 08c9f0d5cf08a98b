// SPDX-License-Identifier: LGPL-2.1-or-later
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kbs-http.h"
#include "log.h"
#include "macro.h"

/* A connection, for the request deadline: libmicrohttpd only times out connections that make
 * no progress, so a client sending one byte every few seconds would hold one for ever. */
typedef struct Conn Conn;
struct Conn {
        int fd;
        uint64_t deadline_usec; /* CLOCK_MONOTONIC */
        bool cut;               /* shut down by the watchdog, logged */
        char client[INET6_ADDRSTRLEN + 1];
        Conn *prev, *next;
};

struct KbsHttp {
        struct MHD_Daemon *daemon;
        KbsServer *server;
        uint64_t request_timeout_usec; /* 0: no deadline, no watchdog */
        /* The watchdog: one thread that shuts down the sockets of connections past their
         * deadline. Conns are added and removed by libmicrohttpd's connection notifications
         * under this lock, and libmicrohttpd closes a socket only after its "closed"
         * notification has returned: the watchdog never shuts down a descriptor that was
         * closed, let alone reused. */
        pthread_mutex_t lock;
        pthread_cond_t wake;
        pthread_t watchdog;
        bool watchdog_started, stopping;
        uint64_t watchdog_wakes_usec; /* when it looks next; UINT64_MAX: when woken */
        Conn *conns;
};

/* What one request has sent so far. */
typedef struct Request {
        char *body;
        size_t size;
        bool started;
        bool answered; /* a response is queued: whatever else comes is dropped */
        /* The request target as libmicrohttpd first saw it, for the NUL check below. */
        const char *target;
        size_t target_len;
} Request;

/* Until the daemon runs, libmicrohttpd's messages say why it could not start: errors. Then
 * they are about single clients (a failed TLS handshake, a reset), which the request log or
 * nothing covers: debug. */
static atomic_bool daemon_running;

static void mhd_logger(void *cls, const char *format, va_list ap) _printf_(2, 0);
static void mhd_logger(void *cls, const char *format, va_list ap) {
        char message[512];
        size_t n;

        vsnprintf(message, sizeof message, format, ap);
        n = strlen(message);
        while (n > 0 && (message[n - 1] == '\n' || message[n - 1] == '\r'))
                message[--n] = '\0';
        if (daemon_running)
                log_debug("libmicrohttpd: %s", message);
        else
                log_error("libmicrohttpd: %s", message);
}

/* The path is not decoded: resource names are checked as they came (see kbs-resource.h), and
 * "%2e%2e" must not turn into ".." on the way. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s) {
        return strlen(s);
}

/* Called with the request target before libmicrohttpd splits or decodes it; what it returns
 * becomes the request's context. */
static void *on_target(void *cls, const char *uri, struct MHD_Connection *c) {
        Request *r = calloc(1, sizeof *r);
        if (r && uri) {
                r->target = uri;
                r->target_len = strlen(uri);
        }
        return r;
}

/* A raw NUL byte in the request line cuts the path short for everything that reads it as a
 * string: "/a/b/c<NUL>/../x" would reach us as "/a/b/c", while a proxy in front saw another
 * path. libmicrohttpd 0.9.75 neither refuses nor reports it, but it parses the line in place,
 * NUL-terminating each part: the target starts where on_target() saw it and ends right before
 * the HTTP version, so a target string that ends earlier hid a NUL. Pointers are compared,
 * never followed. Where the layout is not that one (the version elsewhere), the check cannot
 * tell and lets the request through. */
static bool target_has_nul(const Request *r, const char *version) {
        uintptr_t target = (uintptr_t) r->target, v = (uintptr_t) version;

        if (!r->target || !version || v <= target || v - target > 64U * 1024U)
                return false;
        return target + r->target_len + 1 != v;
}

static void client_address(struct MHD_Connection *c, char *buf, size_t size) {
        const union MHD_ConnectionInfo *info =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = info ? info->client_addr : NULL;

        snprintf(buf, size, "?");
        if (!sa)
                return;
        if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *) (const void *) sa)->sin_addr, buf,
                          (socklen_t) size);
        else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) (const void *) sa)->sin6_addr,
                          buf, (socklen_t) size);
}

/* Appends s, cut at max bytes, with anything that could break the line, forge a field or
 * reach a terminal escaped as \xNN; in_quotes also escapes '"' and '\'. */
static size_t append_escaped(char *buf, size_t pos, size_t size, const char *s, size_t max,
                             bool in_quotes) {
        size_t i;
        for (i = 0; s[i] && i < max && pos + 5 < size; i++) {
                unsigned char ch = (unsigned char) s[i];
                bool plain = ch > 0x20 && ch < 0x7f && ch != '\\' && ch != '"';
                if (in_quotes && ch == ' ')
                        plain = true;
                if (plain)
                        buf[pos++] = (char) ch;
                else
                        pos += (size_t) snprintf(buf + pos, size - pos, "\\x%02x", ch);
        }
        if (s[i] && pos + 4 < size) {
                memcpy(buf + pos, "...", 3);
                pos += 3;
        }
        buf[pos] = '\0';
        return pos;
}

/* One line per request, written with one write() so that threads do not interleave. */
static void log_line(const char *client, const char *method, const char *url,
                     const KbsReply *reply) {
        char line[1400];
        size_t pos;

        pos = (size_t) snprintf(line, sizeof line, "devgate-kbs: client=%s method=", client);
        pos = append_escaped(line, pos, sizeof line, method, 16, false);
        pos += (size_t) snprintf(line + pos, sizeof line - pos, " path=");
        pos = append_escaped(line, pos, sizeof line, url, 256, false);
        pos += (size_t) snprintf(
                line + pos, sizeof line - pos, " session=%s status=%u verdict=%s reason=\"",
                reply->session[0] ? reply->session : "-", reply->status, reply->verdict ?: "-");
        pos = append_escaped(line, pos, sizeof line, reply->reason, 600, true);
        if (pos + 2 < sizeof line) {
                line[pos++] = '"';
                line[pos++] = '\n';
        }
        (void) !write(STDERR_FILENO, line, pos);
}

static void log_request(struct MHD_Connection *c, const char *method, const char *url,
                        const KbsReply *reply) {
        char client[INET6_ADDRSTRLEN + 1];

        client_address(c, client, sizeof client);
        log_line(client, method, url, reply);
}

static enum MHD_Result send_reply(struct MHD_Connection *c, Request *r, const char *method,
                                  const char *url, KbsReply *reply) {
        struct MHD_Response *response;
        enum MHD_Result ok;

        log_request(c, method, url, reply);
        r->answered = true;

        response = MHD_create_response_from_buffer(reply->body_size, reply->body,
                                                   MHD_RESPMEM_MUST_FREE);
        if (!response)
                return MHD_NO;
        reply->body = NULL; /* the response owns it now */
        if (reply->content_type)
                MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                        reply->content_type);
        if (reply->set_cookie[0])
                MHD_add_response_header(response, MHD_HTTP_HEADER_SET_COOKIE, reply->set_cookie);
        if (reply->allow)
                MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, reply->allow);
        MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        ok = MHD_queue_response(c, reply->status, response);
        MHD_destroy_response(response);
        return ok;
}

static enum MHD_Result refuse_too_large(struct MHD_Connection *c, Request *r, const char *method,
                                        const char *url, const char *what) {
        KbsReply reply = {};
        enum MHD_Result ok;

        (void) kbs_reply_problem(&reply, KBS_PROBLEM_PAYLOAD_TOO_LARGE, "too-large",
                                 "request body %s is larger than %u bytes", what,
                                 KBS_BODY_SIZE_MAX);
        ok = send_reply(c, r, method, url, &reply);
        kbs_reply_done(&reply);
        return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
        KbsHttp *h = cls;
        Request *r = *con_cls;
        KbsReply reply;
        enum MHD_Result ok;

        if (!r || !r->started) {
                const char *length;
                if (!r) {
                        r = calloc(1, sizeof *r);
                        if (!r)
                                return MHD_NO;
                        *con_cls = r;
                }
                r->started = true;

                if (target_has_nul(r, version)) {
                        reply = (KbsReply){};
                        (void) kbs_reply_problem(&reply, KBS_PROBLEM_INVALID_PATH, "bad-path",
                                                 "Request path is invalid: it contains a NUL "
                                                 "byte");
                        ok = send_reply(c, r, method, url, &reply);
                        kbs_reply_done(&reply);
                        return ok;
                }

                /* Refused before a byte of it is read, let alone buffered. */
                length = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
                if (length) {
                        char *end;
                        errno = 0;
                        unsigned long long n = strtoull(length, &end, 10);
                        if (errno != 0 || end == length || *end || n > KBS_BODY_SIZE_MAX)
                                return refuse_too_large(c, r, method, url, "(Content-Length)");
                }
                return MHD_YES;
        }

        if (*upload_data_size > 0) {
                size_t n = *upload_data_size;
                *upload_data_size = 0;
                if (r->answered)
                        return MHD_YES;
                /* Chunked bodies announce no length: counted as they come. libmicrohttpd
                 * cannot answer in the middle of a body, so the connection is closed. */
                if (n > KBS_BODY_SIZE_MAX - r->size) {
                        KbsReply closed = { .status = 413, .verdict = "too-large" };
                        snprintf(closed.reason, sizeof closed.reason,
                                 "request body larger than %u bytes, connection closed",
                                 KBS_BODY_SIZE_MAX);
                        log_request(c, method, url, &closed);
                        r->answered = true;
                        return MHD_NO;
                }
                char *p = realloc(r->body, r->size + n + 1);
                if (!p)
                        return MHD_NO;
                r->body = p;
                memcpy(r->body + r->size, upload_data, n);
                r->size += n;
                r->body[r->size] = '\0';
                return MHD_YES;
        }

        if (r->answered)
                return MHD_YES;

        kbs_handle(h->server,
                   &(KbsRequest){
                           .method = method,
                           .path = url,
                           .session_id = MHD_lookup_connection_value(c, MHD_COOKIE_KIND,
                                                                     KBS_SESSION_COOKIE),
                           .authorization = MHD_lookup_connection_value(
                                   c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
                           .body = r->body ?: "",
                           .body_size = r->size,
                   },
                   &reply);
        ok = send_reply(c, r, method, url, &reply);
        kbs_reply_done(&reply);
        return ok;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

/* The deadline runs from the connection's start, then from the end of each request: a client
 * that keeps a connection alive is no slower for it, and the time it waits before its next
 * request counts towards that one. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
        KbsHttp *h = cls;
        Conn *conn = *socket_context;

        if (h->request_timeout_usec == 0)
                return; /* no deadline, nothing to track */
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *info =
                        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
                /* Without memory for it, the connection is served with the idle timeout
                 * only. */
                conn = info ? calloc(1, sizeof *conn) : NULL;
                if (!conn)
                        return;
                conn->fd = info->connect_fd;
                client_address(c, conn->client, sizeof conn->client);
                pthread_mutex_lock(&h->lock);
                conn->deadline_usec = now_usec() + h->request_timeout_usec;
                conn->next = h->conns;
                if (h->conns)
                        h->conns->prev = conn;
                h->conns = conn;
                /* Deadlines only move later otherwise: this is the one thing that can come
                 * before the watchdog's next look. */
                if (conn->deadline_usec < h->watchdog_wakes_usec)
                        pthread_cond_signal(&h->wake);
                pthread_mutex_unlock(&h->lock);
                *socket_context = conn;
                return;
        }

        if (!conn)
                return;
        pthread_mutex_lock(&h->lock);
        if (conn->prev)
                conn->prev->next = conn->next;
        else
                h->conns = conn->next;
        if (conn->next)
                conn->next->prev = conn->prev;
        pthread_mutex_unlock(&h->lock);
        free(conn);
        *socket_context = NULL;
}

static void *watchdog_main(void *p) {
        KbsHttp *h = p;

        pthread_mutex_lock(&h->lock);
        while (!h->stopping) {
                uint64_t now = now_usec(), next = UINT64_MAX;

                for (Conn *conn = h->conns; conn; conn = conn->next) {
                        if (conn->cut)
                                continue;
                        if (conn->deadline_usec > now) {
                                next = conn->deadline_usec < next ? conn->deadline_usec : next;
                                continue;
                        }
                        /* libmicrohttpd sees the connection end on its next read or write and
                         * closes it in its own thread, as if the client had gone. */
                        conn->cut = true;
                        (void) shutdown(conn->fd, SHUT_RDWR);
                        KbsReply timeout = { .status = 408, .verdict = "timeout" };
                        snprintf(timeout.reason, sizeof timeout.reason,
                                 "no complete request within %u s, connection closed",
                                 (unsigned) (h->request_timeout_usec / 1000000U));
                        log_line(conn->client, "-", "-", &timeout);
                }

                h->watchdog_wakes_usec = next;
                if (next == UINT64_MAX)
                        pthread_cond_wait(&h->wake, &h->lock);
                else {
                        struct timespec ts = {
                                .tv_sec = (time_t) (next / 1000000U),
                                .tv_nsec = (long) (next % 1000000U) * 1000L,
                        };
                        pthread_cond_timedwait(&h->wake, &h->lock, &ts);
                }
        }
        pthread_mutex_unlock(&h->lock);
        return NULL;
}

static int watchdog_start(KbsHttp *h) {
        pthread_condattr_t attr;
        int r;

        if (pthread_mutex_init(&h->lock, NULL) != 0)
                return -ENOMEM;
        /* The deadlines are on the monotonic clock, so is the wait for them. */
        r = pthread_condattr_init(&attr);
        if (r == 0)
                r = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        if (r == 0)
                r = pthread_cond_init(&h->wake, &attr);
        pthread_condattr_destroy(&attr);
        if (r != 0) {
                pthread_mutex_destroy(&h->lock);
                return -r;
        }
        if (h->request_timeout_usec == 0)
                return 0;
        r = pthread_create(&h->watchdog, NULL, watchdog_main, h);
        if (r != 0) {
                pthread_cond_destroy(&h->wake);
                pthread_mutex_destroy(&h->lock);
                return -r;
        }
        h->watchdog_started = true;
        return 0;
}

/* After the daemon stopped: every connection is closed and its Conn freed by then. */
static void watchdog_stop(KbsHttp *h) {
        if (h->watchdog_started) {
                pthread_mutex_lock(&h->lock);
                h->stopping = true;
                pthread_cond_signal(&h->wake);
                pthread_mutex_unlock(&h->lock);
                pthread_join(h->watchdog, NULL);
        }
        pthread_cond_destroy(&h->wake);
        pthread_mutex_destroy(&h->lock);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        KbsHttp *h = cls;
        const union MHD_ConnectionInfo *info;
        Request *r = *con_cls;

        info = h->request_timeout_usec > 0
                       ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT)
                       : NULL;
        if (info && info->socket_context) {
                Conn *conn = info->socket_context;
                pthread_mutex_lock(&h->lock);
                conn->deadline_usec = now_usec() + h->request_timeout_usec;
                pthread_mutex_unlock(&h->lock);
        }

        if (!r)
                return;
        free(r->body);
        free(r);
        *con_cls = NULL;
}

static int parse_listen(const char *listen, uint16_t port, struct sockaddr_storage *ret,
                        unsigned *ret_flags) {
        struct sockaddr_in *in = (struct sockaddr_in *) ret;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ret;

        *ret = (struct sockaddr_storage){};
        *ret_flags = 0;
        if (inet_pton(AF_INET, listen, &in->sin_addr) == 1) {
                in->sin_family = AF_INET;
                in->sin_port = htons(port);
                return 0;
        }
        if (inet_pton(AF_INET6, listen, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(port);
                *ret_flags = IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) ? MHD_USE_DUAL_STACK
                                                                      : MHD_USE_IPv6;
                return 0;
        }
        return -EINVAL;
}

int kbs_http_start(KbsServer *server, const KbsHttpOptions *o, KbsHttp **ret, uint16_t *ret_port) {
        _cleanup_free_ KbsHttp *h = NULL;
        struct sockaddr_storage address;
        const union MHD_DaemonInfo *info;
        unsigned flags;
        int r;

        r = parse_listen(o->listen, o->port, &address, &flags);
        if (r < 0)
                return log_error_errno(r, "Listen address '%s' is not an IPv4 or IPv6 address.",
                                       o->listen);
        if (o->cert_pem && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
                return log_error_errno(-EOPNOTSUPP, "libmicrohttpd was built without TLS support.");

        h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;
        h->server = server;
        h->request_timeout_usec = (uint64_t) o->request_timeout * 1000000U;
        h->watchdog_wakes_usec = UINT64_MAX;
        r = watchdog_start(h);
        if (r < 0)
                return log_error_errno(r, "Failed to start the request watchdog: %m");

        flags |= MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
        if (o->cert_pem)
                flags |= MHD_USE_TLS;

        struct MHD_OptionItem options[] = {
                /* First, or libmicrohttpd prints what comes before it itself. Callbacks go
                 * in "value", their closure in "ptr_value". */
                { MHD_OPTION_EXTERNAL_LOGGER, (intptr_t) (uintptr_t) mhd_logger, NULL },
                { MHD_OPTION_SOCK_ADDR, 0, &address },
                { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) (uintptr_t) on_completed, h },
                { MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t) (uintptr_t) no_unescape, NULL },
                { MHD_OPTION_URI_LOG_CALLBACK, (intptr_t) (uintptr_t) on_target, NULL },
                { MHD_OPTION_CONNECTION_LIMIT, (intptr_t) o->connection_max, NULL },
                { MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t) o->per_ip_connection_max, NULL },
                { MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t) o->connection_timeout, NULL },
                { MHD_OPTION_THREAD_POOL_SIZE, (intptr_t) o->threads, NULL },
                /* Strict parsing of requests (no bare LF, no whitespace before colons...). */
                { MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL },
                { MHD_OPTION_NOTIFY_CONNECTION, (intptr_t) (uintptr_t) on_connection, h },
                /* The TLS options last: without TLS, the array ends here. */
                { o->cert_pem ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, (void *) o->key_pem },
                { MHD_OPTION_HTTPS_MEM_CERT, 0, (void *) o->cert_pem },
                { MHD_OPTION_HTTPS_PRIORITIES, 0,
                  (void *) "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" },
                { MHD_OPTION_END, 0, NULL },
        };

        daemon_running = false;
        h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_ARRAY, options,
                                     MHD_OPTION_END);
        if (!h->daemon) {
                watchdog_stop(h);
                return log_error_errno(-EIO,
                                       "Failed to start the HTTP%s server on %s port %u (see the "
                                       "libmicrohttpd message above).",
                                       o->cert_pem ? "S" : "", o->listen, o->port);
        }
        daemon_running = true;

        info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
        *ret_port = info && info->port ? info->port : o->port;
        *ret = TAKE_PTR(h);
        return 0;
}

KbsHttp *kbs_http_stop(KbsHttp *h) {
        if (!h)
                return NULL;
        MHD_stop_daemon(h->daemon);
        watchdog_stop(h);
        free(h);
        return NULL;
}
