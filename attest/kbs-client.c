// SPDX-License-Identifier: LGPL-2.1-or-later
/* The RCAR handshake and the resource request; see kbs-client.h. Every answer is hostile
 * until it has been checked: the challenge is parsed strictly, the nonce must be canonical
 * base64 of a sensible size, and the resource is only returned once the JWE has opened with
 * this run's private key. Nothing is logged here except at debug level: the caller logs the
 * one reason once. */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base64.h"
#include "json-strict.h"
#include "jwe.h"
#include "jwk.h"
#include "kbs-client.h"
#include "log.h"
#include "macro.h"
#include "reportdata.h"

/* Nesting of the server's JSON answers: the challenge's extra-params is the deepest. */
#define ANSWER_DEPTH_MAX 16

typedef struct Stopwatch {
        struct timespec wall, cpu;
} Stopwatch;

static void stopwatch_start(Stopwatch *s) {
        clock_gettime(CLOCK_MONOTONIC, &s->wall);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &s->cpu);
}

static uint64_t elapsed_us(const struct timespec *since, clockid_t clock) {
        struct timespec now;
        clock_gettime(clock, &now);
        return (uint64_t) ((now.tv_sec - since->tv_sec) * 1000000LL +
                           (now.tv_nsec - since->tv_nsec) / 1000);
}

#define STOPWATCH_ADD(s, t, step)                                                                  \
        do {                                                                                       \
                if (t) {                                                                           \
                        (t)->step.wall_us += elapsed_us(&(s)->wall, CLOCK_MONOTONIC);              \
                        (t)->step.cpu_us += elapsed_us(&(s)->cpu, CLOCK_THREAD_CPUTIME_ID);        \
                }                                                                                  \
        } while (0)

static void EVP_PKEY_freep(EVP_PKEY **k) {
        EVP_PKEY_free(*k);
}

static int fail(int r, char *reason, size_t reason_size, const char *format, ...) _printf_(4, 5);
static int fail(int r, char *reason, size_t reason_size, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        vsnprintf(reason, reason_size, format, ap);
        va_end(ap);
        return r;
}

bool kbs_resource_valid(const char *s) {
        unsigned segments = 1, len = 0;

        for (const char *p = s; *p; p++) {
                if (*p == '/') {
                        /* "." would be dropped from the URL by the client or refused by the
                         * server; either way not the resource that was configured. */
                        if (len == 0 || (len == 1 && p[-1] == '.'))
                                return false;
                        segments++;
                        len = 0;
                        continue;
                }
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.",
                            *p))
                        return false;
                len++;
        }
        return segments == 3 && len > 0 && !(len == 1 && s[strlen(s) - 1] == '.') &&
               !strstr(s, "..");
}

/* A status other than 200, in words: the problem detail when the server sent one. */
static int refused(const char *step, const HttpResponse *response, char *reason,
                   size_t reason_size) {
        long s = response->status;
        int r = s == 401 || s == 403 ? -EACCES : s == 404 ? -ENOENT : -EPROTO;

        return fail(r, reason, reason_size, "%s: server answered %ld%s%s", step, s,
                    response->problem[0] ? ": " : "", response->problem);
}

/* One attestation's connection to the server, and its deadline: the options' deadline_ms
 * covers the whole attestation (every request, retries, and the evidence in between), not
 * each request, so that a slow server cannot make a boot wait a multiple of it. */
typedef struct Server {
        HttpClient *http;
        const char *base;
        long deadline_ms;
        struct timespec start;
} Server;

static long elapsed_ms(const struct timespec *since) {
        return (long) (elapsed_us(since, CLOCK_MONOTONIC) / 1000);
}

static int request(Server *server, const char *step, const char *path, const char *body,
                   HttpResponse *ret, char *reason, size_t reason_size) {
        long remaining = server->deadline_ms - elapsed_ms(&server->start);
        _cleanup_free_ char *url = NULL;
        char why[256];
        int r;

        if (remaining <= 0)
                return fail(-ETIMEDOUT, reason, reason_size,
                            "%s: the attestation's deadline of %ld ms has passed", step,
                            server->deadline_ms);
        if (asprintf(&url, "%s%s", server->base, path) < 0)
                return -ENOMEM;
        http_client_limit_deadline(server->http, remaining);
        r = http_request(server->http, url, body, ret, why, sizeof why);
        if (r < 0)
                return fail(r, reason, reason_size, "%s: %s", step, why);
        return 0;
}

static int parse_answer(const char *step, const HttpResponse *response, json_object **ret,
                        char *reason, size_t reason_size) {
        char why[128];
        int r;

        r = json_parse_strict(response->body, response->size, ANSWER_DEPTH_MAX, ret, why,
                              sizeof why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return fail(-EBADMSG, reason, reason_size, "%s: malformed answer: %s", step, why);
        if (!json_object_is_type(*ret, json_type_object))
                return fail(-EBADMSG, reason, reason_size, "%s: answer is not a JSON object", step);
        return 0;
}

/* The challenge: {"nonce": string, "extra-params": anything}. The nonce is hashed into the
 * report data exactly as received, so it must be canonical base64 (one spelling) of a
 * size that is neither trivially guessable nor absurd. */
static int challenge_nonce(json_object *challenge, char **ret, char *reason, size_t reason_size) {
        static const char *const members[] = { "nonce", "extra-params", NULL };
        _cleanup_free_ uint8_t *raw = NULL;
        json_object *nonce = NULL;
        const char *text;
        size_t size;
        int r;

        if (json_unknown_member(challenge, members))
                return fail(-EBADMSG, reason, reason_size,
                            "auth: unexpected member in the challenge");
        if (!json_object_object_get_ex(challenge, "nonce", &nonce))
                return fail(-EBADMSG, reason, reason_size, "auth: the challenge has no nonce");
        if (!json_object_is_type(nonce, json_type_string))
                return fail(-EBADMSG, reason, reason_size, "auth: the nonce is not a string");
        text = json_object_get_string(nonce);
        r = base64_decode(text, (size_t) json_object_get_string_len(nonce), &raw, &size);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return fail(-EBADMSG, reason, reason_size,
                            "auth: the nonce is not canonical base64");
        if (size < KBS_NONCE_SIZE_MIN || size > KBS_NONCE_SIZE_MAX)
                return fail(-EBADMSG, reason, reason_size,
                            "auth: a nonce of %zu bytes, expected %d to %d", size,
                            KBS_NONCE_SIZE_MIN, KBS_NONCE_SIZE_MAX);
        *ret = strdup(text);
        return *ret ? 0 : -ENOMEM;
}

static int auth(Server *server, Tee tee, char **ret_nonce, char *reason, size_t reason_size) {
        _cleanup_(json_object_putp) json_object *challenge = NULL;
        _cleanup_(http_response_done) HttpResponse response = {};
        _cleanup_free_ char *body = NULL;
        int r;

        if (asprintf(&body, "{\"version\":\"%s\",\"tee\":\"%s\",\"extra-params\":\"\"}",
                     KBS_PROTOCOL_VERSION, tee_to_string(tee)) < 0)
                return -ENOMEM;
        r = request(server, "auth", "/kbs/v0/auth", body, &response, reason, reason_size);
        if (r < 0)
                return r;
        if (response.status != 200)
                return refused("auth", &response, reason, reason_size);
        r = parse_answer("auth", &response, &challenge, reason, reason_size);
        if (r < 0)
                return r;
        return challenge_nonce(challenge, ret_nonce, reason, reason_size);
}

static int attest_body(const char *nonce, json_object *jwk, json_object *evidence, char **ret) {
        _cleanup_(json_object_putp) json_object *body = json_object_new_object();
        json_object *runtime = json_object_new_object(), *tee_evidence = json_object_new_object();
        const char *text;

        if (!body || !runtime || !tee_evidence) {
                json_object_put(runtime);
                json_object_put(tee_evidence);
                return -ENOMEM;
        }
        json_object_object_add(body, "runtime-data", runtime);
        json_object_object_add(body, "tee-evidence", tee_evidence);
        if (json_object_object_add(runtime, "nonce", json_object_new_string(nonce)) < 0 ||
            json_object_object_add(runtime, "tee-pubkey", json_object_get(jwk)) < 0 ||
            json_object_object_add(tee_evidence, "primary_evidence", json_object_get(evidence)) <
                    0 ||
            json_object_object_add(tee_evidence, "additional_evidence",
                                   json_object_new_string("")) < 0)
                return -ENOMEM;
        text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
        *ret = text ? strdup(text) : NULL;
        return *ret ? 0 : -ENOMEM;
}

/* The attestation result: {"token": string}. devgate does not read the token (the session
 * cookie authorizes the resource request), but an answer without one is not Trustee's. */
static int check_token(const HttpResponse *response, char *reason, size_t reason_size) {
        _cleanup_(json_object_putp) json_object *answer = NULL;
        json_object *token;
        int r;

        r = parse_answer("attest", response, &answer, reason, reason_size);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(answer, "token", &token) ||
            !json_object_is_type(token, json_type_string))
                return fail(-EBADMSG, reason, reason_size, "attest: the answer has no token");
        return 0;
}

static int handshake(Server *server, EvidenceSource *source, json_object *jwk, KbsTimings *t,
                     char *reason, size_t reason_size) {
        _cleanup_(json_object_putp) json_object *evidence = NULL;
        _cleanup_(http_response_done) HttpResponse response = {};
        _cleanup_free_ char *nonce = NULL, *body = NULL;
        uint8_t report_data[KBS_REPORT_DATA_SIZE];
        char why[256];
        Stopwatch s;
        int r;

        stopwatch_start(&s);
        r = auth(server, source->tee, &nonce, reason, reason_size);
        STOPWATCH_ADD(&s, t, auth);
        if (r < 0)
                return r;

        stopwatch_start(&s);
        r = kbs_report_data(nonce, jwk, "", report_data);
        if (r >= 0)
                r = evidence_collect(source, report_data, &evidence, why, sizeof why);
        STOPWATCH_ADD(&s, t, evidence);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return fail(r, reason, reason_size, "evidence: %s", why);

        r = attest_body(nonce, jwk, evidence, &body);
        if (r < 0)
                return r;
        stopwatch_start(&s);
        r = request(server, "attest", "/kbs/v0/attest", body, &response, reason, reason_size);
        STOPWATCH_ADD(&s, t, attest);
        if (r < 0)
                return r;
        if (response.status != 200)
                return refused("attest", &response, reason, reason_size);
        if (t)
                t->handshakes++;
        return check_token(&response, reason, reason_size);
}

/* Key, handshake, resource, decryption: everything after the connection is set up. */
static int fetch(Server *server, const KbsRequest *request_, EvidenceSource *source,
                 const char *path, uint8_t **ret, size_t *ret_size, KbsTimings *timings,
                 char *reason, size_t reason_size) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(json_object_putp) json_object *jwk = NULL;
        char why[256];
        Stopwatch s;
        int r;

        /* A key of this run only: what the server encrypts to can be read by nobody else,
         * even with everything this guest will ever store. */
        stopwatch_start(&s);
        r = tee_key_generate(&key);
        if (r >= 0)
                r = jwk_from_public_key(key, &jwk);
        STOPWATCH_ADD(&s, timings, key);
        if (r < 0)
                return fail(r, reason, reason_size, "cannot generate the TEE key: %s",
                            strerror(-r));

        for (unsigned attempt = 0;; attempt++) {
                _cleanup_(http_response_done) HttpResponse response = {};

                r = handshake(server, source, jwk, timings, reason, reason_size);
                if (r < 0)
                        return r;

                stopwatch_start(&s);
                r = request(server, "resource", path, NULL, &response, reason, reason_size);
                STOPWATCH_ADD(&s, timings, resource);
                if (r < 0)
                        return r;
                if (response.status == 401 && attempt < request_->handshake_retries) {
                        log_debug("Resource request answered 401, attesting again.");
                        continue;
                }
                if (response.status != 200)
                        return refused("resource", &response, reason, reason_size);

                stopwatch_start(&s);
                r = jwe_decrypt(response.body, response.size, key, ret, ret_size, why, sizeof why);
                STOPWATCH_ADD(&s, timings, decrypt);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return fail(r, reason, reason_size, "resource: %s", why);
                return 0;
        }
}

int kbs_fetch_resource(const KbsRequest *request_, EvidenceSource *source, uint8_t **ret,
                       size_t *ret_size, KbsTimings *timings, char *reason, size_t reason_size) {
        _cleanup_(http_client_freep) HttpClient *http = NULL;
        _cleanup_free_ char *base = NULL, *path = NULL;
        Server server;
        int r;

        if (strncmp(request_->url, "https://", 8) != 0)
                return fail(-EINVAL, reason, reason_size, "the server URL must be https://");
        if (!kbs_resource_valid(request_->resource))
                return fail(-EINVAL, reason, reason_size,
                            "the resource must be REPOSITORY/TYPE/TAG of letters, digits, '-', "
                            "'_' and '.'");
        base = strdup(request_->url);
        if (!base)
                return -ENOMEM;
        for (size_t n = strlen(base); n > 8 && base[n - 1] == '/'; n--)
                base[n - 1] = '\0';
        if (asprintf(&path, "/kbs/v0/resource/%s", request_->resource) < 0)
                return -ENOMEM;

        r = http_client_new(request_->http, &http);
        if (r < 0)
                return fail(r, reason, reason_size, "cannot set up HTTPS: %s", strerror(-r));
        server = (Server){ .http = http, .base = base, .deadline_ms = request_->http->deadline_ms };
        clock_gettime(CLOCK_MONOTONIC, &server.start);

        r = fetch(&server, request_, source, path, ret, ret_size, timings, reason, reason_size);
        if (timings)
                timings->connections = http_client_connections(http);
        return r;
}
