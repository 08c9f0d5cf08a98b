/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* HTTPS to the attestation server: one libcurl handle reused for every request, so that an
 * attestation is one TLS connection; the server's certificate is checked against a pinned
 * CA only, never the system store; the session cookie is kept between requests. */

typedef struct HttpOptions {
        const char *ca_file;       /* PEM bundle the server's chain must end in; required */
        const char *pinned_pubkey; /* optional "sha256//BASE64" of the server's public key */
        const char *proxy;         /* optional; NULL: no proxy, whatever the environment says */
        long connect_timeout_ms;   /* per connection attempt */
        long response_timeout_ms;  /* per request, from sending to the last byte */
        long deadline_ms;          /* the whole call, retries and waits included */
        unsigned retries;          /* further attempts after network errors and 5xx */
        long backoff_initial_ms;   /* first wait, doubled after each attempt ... */
        long backoff_max_ms;       /* ... up to this */
        size_t response_size_max;  /* larger responses are cut off and refused */
} HttpOptions;

/* Defaults: 5 s connect, 30 s response, 60 s deadline, 4 retries from 100 ms to 5 s, 4 MiB. */
void http_options_init(HttpOptions *o);

typedef struct HttpResponse {
        long status;
        char *body; /* NUL-terminated for convenience; may contain NUL bytes */
        size_t size;
        char content_type[128];
        /* An RFC 7807 problem body's "type" and "detail", for the user. */
        char problem[512];
} HttpResponse;

void http_response_done(HttpResponse *r);

typedef struct HttpClient HttpClient;

int http_client_new(const HttpOptions *o, HttpClient **ret);
HttpClient *http_client_free(HttpClient *c);
static inline void http_client_freep(HttpClient **c) {
        http_client_free(*c);
}

/* A GET (body NULL) or a POST of a JSON body. Retries network errors and 5xx answers with
 * capped exponential backoff until the deadline; any other status is returned as it came.
 * -ETIMEDOUT past the deadline, -EFBIG for an oversized response, -ECONNREFUSED, -EHOSTUNREACH,
 * -EKEYREJECTED for a certificate or pin that does not match, -EPROTO otherwise; each with
 * a one-line reason. */
int http_request(HttpClient *c, const char *url, const char *json_body, HttpResponse *ret,
                 char *reason, size_t reason_size);

/* Shortens the deadline of the requests still to come, so that several requests share one:
 * never lengthens it past the options'. */
void http_client_limit_deadline(HttpClient *c, long remaining_ms);

/* How many TCP connections the handle has opened so far (keep-alive check in tests). */
long http_client_connections(HttpClient *c);
