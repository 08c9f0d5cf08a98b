// SPDX-License-Identifier: LGPL-2.1-or-later
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "log.h"
#include "macro.h"

struct HttpClient {
        CURL *curl;
        HttpOptions options;
        long connections;
        /* libcurl's own words for the last failure: "SSL certificate problem: unable to get
         * local issuer certificate" says more than curl_easy_strerror()'s generic text. */
        char error[CURL_ERROR_SIZE];
        long deadline_ms; /* the options' deadline, before http_client_limit_deadline() */
};

void http_options_init(HttpOptions *o) {
        *o = (HttpOptions){
                .connect_timeout_ms = 5000,
                .response_timeout_ms = 30000,
                .deadline_ms = 60000,
                .retries = 4,
                .backoff_initial_ms = 100,
                .backoff_max_ms = 5000,
                .response_size_max = 4 * 1024 * 1024,
        };
}

void http_response_done(HttpResponse *r) {
        free(r->body);
        *r = (HttpResponse){};
}

int http_client_new(const HttpOptions *o, HttpClient **ret) {
        HttpClient *c;

        if (!o->ca_file)
                return -EINVAL; /* the system store is never trusted for attestation */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->options = *o;
        c->deadline_ms = o->deadline_ms;
        c->curl = curl_easy_init();
        if (!c->curl) {
                free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

HttpClient *http_client_free(HttpClient *c) {
        if (!c)
                return NULL;
        curl_easy_cleanup(c->curl);
        free(c);
        return NULL;
}

void http_client_limit_deadline(HttpClient *c, long remaining_ms) {
        if (remaining_ms < c->deadline_ms)
                c->options.deadline_ms = remaining_ms > 0 ? remaining_ms : 0;
        else
                c->options.deadline_ms = c->deadline_ms;
}

long http_client_connections(HttpClient *c) {
        return c->connections;
}

typedef struct Sink {
        HttpResponse *response;
        size_t max;
        bool overflow;
} Sink;

static size_t write_body(char *data, size_t size, size_t n, void *userdata) {
        Sink *sink = userdata;
        HttpResponse *r = sink->response;
        size_t len = size * n;

        /* Stop the transfer, not the program, on a response larger than allowed: the size
         * is checked before the buffer grows. */
        if (len > sink->max - r->size) {
                sink->overflow = true;
                return 0;
        }
        char *grown = realloc(r->body, r->size + len + 1);
        if (!grown)
                return 0;
        memcpy(grown + r->size, data, len);
        r->size += len;
        grown[r->size] = '\0';
        r->body = grown;
        return len;
}

static long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int errno_of(CURLcode code) {
        switch (code) {
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_CONNECT_ERROR:
                return -EKEYREJECTED;
        case CURLE_WRITE_ERROR:
                return -EFBIG;
        default:
                return -EPROTO;
        }
}

/* Network trouble is worth another attempt; a certificate that does not match is not. */
static bool retryable(CURLcode code) {
        return code == CURLE_COULDNT_CONNECT || code == CURLE_OPERATION_TIMEDOUT ||
               code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR || code == CURLE_GOT_NOTHING ||
               code == CURLE_PARTIAL_FILE || code == CURLE_COULDNT_RESOLVE_HOST;
}

/* RFC 7807: {"type": ".../errors/<Name>", "detail": "..."}; shown as "Name: detail". */
static void read_problem(HttpResponse *r) {
        json_object *o, *type, *detail;
        const char *name = NULL;

        if (r->size == 0 || r->size > 65536)
                return;
        o = json_tokener_parse(r->body);
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return;
        }
        if (json_object_object_get_ex(o, "type", &type) &&
            json_object_is_type(type, json_type_string)) {
                name = strrchr(json_object_get_string(type), '/');
                name = name ? name + 1 : json_object_get_string(type);
        }
        if (json_object_object_get_ex(o, "detail", &detail) &&
            json_object_is_type(detail, json_type_string))
                snprintf(r->problem, sizeof r->problem, "%s%s%s", name ?: "", name ? ": " : "",
                         json_object_get_string(detail));
        else if (name)
                snprintf(r->problem, sizeof r->problem, "%s", name);
        json_object_put(o);
}

static CURLcode perform(HttpClient *c, const char *url, const char *json_body, long remaining_ms,
                        Sink *sink, struct curl_slist *headers) {
        CURL *h = c->curl;
        long timeout = c->options.response_timeout_ms < remaining_ms
                               ? c->options.response_timeout_ms
                               : remaining_ms;

        c->error[0] = '\0';
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->error);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h, CURLOPT_CAINFO, c->options.ca_file);
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(h, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
        if (c->options.pinned_pubkey)
                curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, c->options.pinned_pubkey);
        /* The proxy is configuration, measured with the initramfs; the environment is not. */
        curl_easy_setopt(h, CURLOPT_PROXY, c->options.proxy ?: "");
        curl_easy_setopt(h, CURLOPT_COOKIEFILE, ""); /* enables the cookie engine */
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->options.connect_timeout_ms);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout > 0 ? timeout : 1);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        if (json_body) {
                curl_easy_setopt(h, CURLOPT_POST, 1L);
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_body);
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long) strlen(json_body));
        } else
                curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        return curl_easy_perform(h);
}

int http_request(HttpClient *c, const char *url, const char *json_body, HttpResponse *ret,
                 char *reason, size_t reason_size) {
        struct curl_slist *headers = NULL;
        long start = now_ms(), backoff = c->options.backoff_initial_ms;
        HttpResponse r = {};
        CURLcode code = CURLE_OK;
        int result = -EPROTO;

        headers = curl_slist_append(headers, "Accept: application/json");
        if (json_body)
                headers = curl_slist_append(headers, "Content-Type: application/json");
        if (!headers)
                return -ENOMEM;

        for (unsigned attempt = 0;; attempt++) {
                long remaining = c->options.deadline_ms - (now_ms() - start);
                Sink sink = { .response = &r, .max = c->options.response_size_max };
                long new_connections = 0;
                char *content_type = NULL;

                http_response_done(&r);
                if (remaining <= 0) {
                        snprintf(reason, reason_size, "%s: no answer within the deadline of %ld ms",
                                 url, c->options.deadline_ms);
                        result = -ETIMEDOUT;
                        break;
                }

                code = perform(c, url, json_body, remaining, &sink, headers);
                curl_easy_getinfo(c->curl, CURLINFO_NUM_CONNECTS, &new_connections);
                c->connections += new_connections;

                if (sink.overflow) {
                        snprintf(reason, reason_size, "%s: response larger than %zu bytes", url,
                                 c->options.response_size_max);
                        result = -EFBIG;
                        break;
                }
                if (code == CURLE_OK) {
                        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r.status);
                        if (curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &content_type) ==
                                    CURLE_OK &&
                            content_type)
                                snprintf(r.content_type, sizeof r.content_type, "%s", content_type);
                        if (!r.body) {
                                r.body = calloc(1, 1);
                                if (!r.body) {
                                        result = -ENOMEM;
                                        break;
                                }
                        }
                        read_problem(&r);
                        if (r.status < 500 || attempt >= c->options.retries) {
                                result = 0;
                                break;
                        }
                        log_debug("%s: HTTP %ld, retrying.", url, r.status);
                } else if (!retryable(code) || attempt >= c->options.retries) {
                        snprintf(reason, reason_size, "%s: %s", url,
                                 c->error[0] ? c->error : curl_easy_strerror(code));
                        result = errno_of(code);
                        break;
                } else
                        log_debug("%s: %s, retrying.", url, curl_easy_strerror(code));

                /* Capped exponential backoff, never past the deadline. */
                remaining = c->options.deadline_ms - (now_ms() - start);
                long wait = backoff < remaining ? backoff : remaining;
                if (wait > 0) {
                        struct timespec ts = { wait / 1000, (wait % 1000) * 1000000 };
                        nanosleep(&ts, NULL);
                }
                backoff = backoff * 2 < c->options.backoff_max_ms ? backoff * 2
                                                                  : c->options.backoff_max_ms;
        }

        curl_slist_free_all(headers);
        if (result < 0) {
                http_response_done(&r);
                return result;
        }
        *ret = r;
        return 0;
}
