// SPDX-License-Identifier: LGPL-2.1-or-later
/* The three endpoints of the KBS RCAR protocol, as Trustee answers them (kbs/src/api_server.rs,
 * kbs/src/attestation/backend.rs): every refusal of auth and attest is 401 AttestationError,
 * a resource without an attested session 401 TokenNotFound, the access rules' no 403
 * PolicyDeny. Each decision is made, and its reason written, in one place here; the HTTP
 * layer logs it. */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "json-strict.h"
#include "jwe.h"
#include "jwk.h"
#include "kbs-handlers.h"
#include "kbs-resource.h"
#include "macro.h"
#include "reportdata.h"

/* Request bodies are small objects; the deepest is tee-evidence.primary_evidence.tpm_quote.pcrs. */
#define BODY_JSON_DEPTH_MAX 16

#define KBS_PREFIX      "/kbs/v0/"
#define RESOURCE_PREFIX "/kbs/v0/resource/"

void kbs_reply_done(KbsReply *r) {
        free(r->body);
        r->body = NULL;
}

static int reply_vproblem(KbsReply *ret, KbsProblem problem, const char *verdict,
                          const char *format, va_list ap) _printf_(4, 0);
static int reply_vproblem(KbsReply *ret, KbsProblem problem, const char *verdict,
                          const char *format, va_list ap) {
        vsnprintf(ret->reason, sizeof ret->reason, format, ap);
        free(ret->body);
        ret->status = kbs_problem_status(problem);
        ret->body = kbs_problem_body(problem, ret->reason);
        ret->body_size = ret->body ? strlen(ret->body) : 0;
        ret->content_type = "application/json";
        ret->verdict = verdict;
        return (int) ret->status;
}

int kbs_reply_problem(KbsReply *ret, KbsProblem problem, const char *verdict, const char *format,
                      ...) {
        va_list ap;
        int r;
        va_start(ap, format);
        r = reply_vproblem(ret, problem, verdict, format, ap);
        va_end(ap);
        return r;
}

static int reply_json(KbsReply *ret, json_object *o, const char *verdict) {
        const char *text = json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text || !(ret->body = strdup(text)))
                return kbs_reply_problem(ret, KBS_PROBLEM_INTERNAL, "error", "out of memory");
        ret->status = 200;
        ret->body_size = strlen(ret->body);
        ret->content_type = "application/json";
        ret->verdict = verdict;
        return 200;
}

/* A value the client sent, fit to quote in a reason: printable ASCII, cut short. */
static const char *quote(const char *s, char buf[static 48]) {
        size_t i;
        for (i = 0; s[i] && i < 40; i++)
                buf[i] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\' ? s[i] : '?';
        if (s[i]) {
                memcpy(buf + i, "...", 3);
                i += 3;
        }
        buf[i] = '\0';
        return buf;
}

static const char *type_name(json_object *o) {
        return o ? json_type_to_name(json_object_get_type(o)) : "null";
}

/* Parses a request body: one JSON object, strictly. */
static int parse_body(const KbsRequest *req, json_object **ret, char *why, size_t why_size) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        int r;

        if (req->body_size == 0) {
                snprintf(why, why_size, "empty request body");
                return -EBADMSG;
        }
        r = json_parse_strict(req->body, req->body_size, BODY_JSON_DEPTH_MAX, &o, why, why_size);
        if (r < 0)
                return r;
        if (!json_object_is_type(o, json_type_object)) {
                snprintf(why, why_size, "request body is a JSON %s, not an object", type_name(o));
                return -EBADMSG;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

/* Members outside allowed (NULL-terminated) are refused: a field we would ignore is one a
 * client believes was checked. */
static int check_members(json_object *o, const char *what, const char *const *allowed, char *why,
                         size_t why_size) {
        const char *unknown = json_unknown_member(o, allowed);
        char q[48];

        if (unknown) {
                snprintf(why, why_size, "unknown member \"%s\" in %s", quote(unknown, q), what);
                return -EBADMSG;
        }
        return 0;
}

static int get_member(json_object *o, const char *what, const char *name, json_type type,
                      json_object **ret, char *why, size_t why_size) {
        json_object *v;
        if (!json_object_object_get_ex(o, name, &v)) {
                snprintf(why, why_size, "%s has no \"%s\"", what, name);
                return -EBADMSG;
        }
        if (!json_object_is_type(v, type)) {
                snprintf(why, why_size, "\"%s\" in %s is a JSON %s, expected %s", name, what,
                         type_name(v), json_type_to_name(type));
                return -EBADMSG;
        }
        *ret = v;
        return 0;
}

/* TEE names as kbs-types spells them, old and new: known to the protocol, not verified here. */
static const char *const other_tees[] = {
        "azsnpvtpm", "az-snp-vtpm",  "aztdxvtpm", "az-tdx-vtpm", "sev",
        "sgx",       "snp",          "tdx",       "cca",         "csv",
        "se",        "sampledevice", "hygondcu",  "nvidia",      "system",
};

static int tee_from_request(const KbsServer *s, const char *name, KbsTee *ret, char *why,
                            size_t why_size) {
        char q[48];

        if (streq(name, "tpm")) {
                *ret = KBS_TEE_TPM;
                return 0;
        }
        if (streq(name, "sample")) {
                if (!s->verifier.insecure_sample) {
                        snprintf(why, why_size,
                                 "TEE \"sample\" proves nothing and is refused (this server was "
                                 "not started with --insecure-sample)");
                        return -EPERM;
                }
                *ret = KBS_TEE_SAMPLE;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(other_tees); i++)
                if (streq(name, other_tees[i])) {
                        snprintf(why, why_size,
                                 "TEE \"%s\" is not supported by devgate-kbs (supported: tpm%s)",
                                 name, s->verifier.insecure_sample ? ", sample" : "");
                        return -EOPNOTSUPP;
                }
        snprintf(why, why_size, "unknown TEE \"%s\"", quote(name, q));
        return -EINVAL;
}

static int handle_auth(KbsServer *s, const KbsRequest *req, KbsReply *ret) {
        static const char *const members[] = { "version", "tee", "extra-params", NULL };
        _cleanup_(json_object_putp) json_object *body = NULL;
        _cleanup_(json_object_putp) json_object *challenge = NULL;
        json_object *version, *tee_name;
        KbsChallenge c;
        KbsTee tee;
        char why[256], q[48], expires[64];
        size_t evicted = 0;
        struct tm tm;
        int r;

        r = parse_body(req, &body, why, sizeof why);
        if (r >= 0)
                r = check_members(body, "the request", members, why, sizeof why);
        if (r >= 0)
                r = get_member(body, "the request", "version", json_type_string, &version, why,
                               sizeof why);
        if (r >= 0)
                r = get_member(body, "the request", "tee", json_type_string, &tee_name, why,
                               sizeof why);
        if (r < 0)
                return kbs_reply_problem(ret, KBS_PROBLEM_ATTESTATION, "bad-request",
                                         "RCAR handshake Auth failed: %s", why);

        /* Trustee's requirement is "=0.4.0": the protocol changed incompatibly before. */
        if (!streq(json_object_get_string(version), KBS_PROTOCOL_VERSION))
                return kbs_reply_problem(ret, KBS_PROBLEM_ATTESTATION, "bad-version",
                                         "RCAR handshake Auth failed: KBS Client Protocol Version "
                                         "Mismatch: expect =" KBS_PROTOCOL_VERSION
                                         " while the request is %s",
                                         quote(json_object_get_string(version), q));

        r = tee_from_request(s, json_object_get_string(tee_name), &tee, why, sizeof why);
        if (r < 0)
                return kbs_reply_problem(ret, KBS_PROBLEM_ATTESTATION, "bad-tee",
                                         "RCAR handshake Auth failed: %s", why);

        r = kbs_session_create(s->sessions, tee, &c, &evicted);
        if (r < 0)
                return kbs_reply_problem(ret, KBS_PROBLEM_INTERNAL, "error",
                                         "cannot create a session: %s", strerror(-r));

        challenge = json_object_new_object();
        if (!challenge ||
            json_object_object_add(challenge, "nonce", json_object_new_string(c.nonce)) < 0 ||
            json_object_object_add(challenge, "extra-params", json_object_new_string("")) < 0)
                return kbs_reply_problem(ret, KBS_PROBLEM_INTERNAL, "error", "out of memory");
        r = reply_json(ret, challenge, "challenge");
        if (r != 200)
                return r;

        /* As Trustee's cookie: the id and when the session ends, nothing else. */
        gmtime_r(&c.expires, &tm);
        strftime(expires, sizeof expires, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        snprintf(ret->set_cookie, sizeof ret->set_cookie, KBS_SESSION_COOKIE "=%s; Expires=%s",
                 c.id, expires);
        memcpy(ret->session, c.id, sizeof ret->session);
        snprintf(ret->reason, sizeof ret->reason, "tee %s%s", kbs_tee_to_string(tee),
                 evicted > 0 ? ", session table full: oldest session evicted" : "");
        return 200;
}

/* Reads the attest request: the nonce, the tee-pubkey (as JSON for the report data and as a
 * key), the primary evidence. */
static int parse_attestation(const KbsRequest *req, json_object **ret_body, const char **ret_nonce,
                             json_object **ret_jwk, json_object **ret_evidence, char *why,
                             size_t why_size) {
        static const char *const members[] = { "runtime-data", "tee-evidence", "init-data", NULL };
        static const char *const runtime_members[] = { "nonce", "tee-pubkey", NULL };
        static const char *const evidence_members[] = { "primary_evidence", "additional_evidence",
                                                        NULL };
        _cleanup_(json_object_putp) json_object *body = NULL;
        json_object *runtime, *tee_evidence, *nonce, *jwk, *primary, *additional, *init;
        int r;

        r = parse_body(req, &body, why, why_size);
        if (r < 0)
                return r;
        r = check_members(body, "the request", members, why, why_size);
        if (r < 0)
                return r;
        r = get_member(body, "the request", "runtime-data", json_type_object, &runtime, why,
                       why_size);
        if (r < 0)
                return r;
        r = check_members(runtime, "runtime-data", runtime_members, why, why_size);
        if (r < 0)
                return r;
        r = get_member(runtime, "runtime-data", "nonce", json_type_string, &nonce, why, why_size);
        if (r < 0)
                return r;
        r = get_member(runtime, "runtime-data", "tee-pubkey", json_type_object, &jwk, why,
                       why_size);
        if (r < 0)
                return r;
        r = get_member(body, "the request", "tee-evidence", json_type_object, &tee_evidence, why,
                       why_size);
        if (r < 0)
                return r;
        r = check_members(tee_evidence, "tee-evidence", evidence_members, why, why_size);
        if (r < 0)
                return r;
        r = get_member(tee_evidence, "tee-evidence", "primary_evidence", json_type_object, &primary,
                       why, why_size);
        if (r < 0)
                return r;
        /* Device evidence would need its own verifier; none here, so none is accepted rather
         * than hashed into the report data and then ignored. */
        if (json_object_object_get_ex(tee_evidence, "additional_evidence", &additional) &&
            (!json_object_is_type(additional, json_type_string) ||
             json_object_get_string_len(additional) != 0)) {
                snprintf(why, why_size,
                         "additional_evidence must be \"\": devgate-kbs verifies no device "
                         "evidence");
                return -EBADMSG;
        }
        /* Init data is bound by TEEs with a config-id register (TDX, SNP), not by a TPM quote:
         * accepting it would suggest it was checked. */
        if (json_object_object_get_ex(body, "init-data", &init) && init) {
                snprintf(why, why_size, "init-data is not supported by devgate-kbs");
                return -EBADMSG;
        }

        *ret_nonce = json_object_get_string(nonce);
        *ret_jwk = jwk;
        *ret_evidence = primary;
        *ret_body = TAKE_PTR(body);
        return 0;
}

static void evp_pkey_freep(EVP_PKEY **k) {
        EVP_PKEY_free(*k);
}

static const char *session_error(int r) {
        switch (r) {
        case -ENOENT:
                return "unknown session (never created, expired or evicted): start again with "
                       "POST " KBS_PREFIX "auth";
        case -ETIME:
                return "session expired: start again with POST " KBS_PREFIX "auth";
        case -EALREADY:
                return "the nonce of this session was used already: start again with "
                       "POST " KBS_PREFIX "auth";
        case -EACCES:
                return "session not attested: POST " KBS_PREFIX "attest first";
        default:
                return "session lookup failed";
        }
}

static int handle_attest(KbsServer *s, const KbsRequest *req, KbsReply *ret) {
        _cleanup_(json_object_putp) json_object *body = NULL;
        _cleanup_(evp_pkey_freep) EVP_PKEY *key = NULL;
        _cleanup_free_ char *token = NULL;
        _cleanup_(json_object_putp) json_object *answer = NULL;
        json_object *jwk = NULL, *evidence = NULL;
        const char *nonce = NULL;
        uint8_t report_data[KBS_REPORT_DATA_SIZE];
        KbsAttested attested = {};
        KbsChallenge c;
        KbsTee tee;
        char why[384], names[256];
        int r;

        if (!req->session_id)
                return kbs_reply_problem(ret, KBS_PROBLEM_ATTESTATION, "no-session",
                                         "RCAR handshake Attest failed: no " KBS_SESSION_COOKIE
                                         " cookie: start with POST " KBS_PREFIX "auth");
        if (kbs_session_id_valid(req->session_id))
                memcpy(ret->session, req->session_id, sizeof ret->session);

        /* The nonce is spent before anything in the request is looked at: whatever happens
         * next, this challenge has been answered once. */
        r = kbs_session_take_nonce(s->sessions, req->session_id, &c, &tee);
        if (r < 0)
                return kbs_reply_problem(ret, KBS_PROBLEM_ATTESTATION, "no-session",
                                         "RCAR handshake Attest failed: %s", session_error(r));

        r = parse_attestation(req, &body, &nonce, &jwk, &evidence, why, sizeof why);
        if (r < 0)
                return kbs_reply_problem(ret, KBS_PROBLEM_ATTESTATION, "bad-request",
                                         "RCAR handshake Attest failed: %s", why);

        if (!streq(nonce, c.nonce))
                return kbs_reply_problem(
                        ret, KBS_PROBLEM_ATTESTATION, "bad-nonce",
                        "RCAR handshake Attest failed: the nonce in the request is "
                        "not the one this session was given");

        r = jwk_to_public_key(jwk, &key);
        if (r == -EBADMSG || r == -EKEYREJECTED)
                return kbs_reply_problem(ret, KBS_PROBLEM_ATTESTATION, "bad-request",
                                         "RCAR handshake Attest failed: tee-pubkey is not an EC "
                                         "P-256 " JWK_EC_ALG " public key of exactly kty, crv, "
                                         "alg, x, y (%s)",
                                         strerror(-r));
        if (r < 0)
                return kbs_reply_problem(ret, KBS_PROBLEM_INTERNAL, "error",
                                         "cannot read tee-pubkey: %s", strerror(-r));

        /* What the guest must have bound into its evidence, computed from what it sent. */
        r = kbs_report_data(c.nonce, jwk, "", report_data);
        if (r < 0)
                return kbs_reply_problem(ret, KBS_PROBLEM_ATTESTATION, "bad-request",
                                         "RCAR handshake Attest failed: cannot compute the report "
                                         "data: %s",
                                         strerror(-r));

        r = kbs_evidence_verify(&s->verifier, tee, evidence, report_data, &attested, why,
                                sizeof why);
        if (r == -ENOMEM)
                return kbs_reply_problem(ret, KBS_PROBLEM_INTERNAL, "error", "out of memory");
        if (r < 0)
                return kbs_reply_problem(ret, KBS_PROBLEM_ATTESTATION, "refused",
                                         "RCAR handshake Attest failed: verify TEE evidence "
                                         "failed: %s",
                                         why);

        attested.tee = tee;
        attested.tee_key = key; /* the table takes its own reference */
        r = kbs_session_set_attested(s->sessions, c.id, &attested);
        if (r < 0)
                return kbs_reply_problem(ret, KBS_PROBLEM_ATTESTATION, "no-session",
                                         "RCAR handshake Attest failed: %s", session_error(r));

        kbs_reference_match_names(s->reference, &attested.reference, names, sizeof names);
        r = kbs_token_issue(s->signer, c.id, tee, attested.ak_id, names, c.expires, &token);
        if (r < 0)
                return kbs_reply_problem(ret, KBS_PROBLEM_INTERNAL, "error",
                                         "cannot sign the token: %s", strerror(-r));
        answer = json_object_new_object();
        if (!answer || json_object_object_add(answer, "token", json_object_new_string(token)) < 0)
                return kbs_reply_problem(ret, KBS_PROBLEM_INTERNAL, "error", "out of memory");
        r = reply_json(ret, answer, "attested");
        if (r != 200)
                return r;
        if (tee == KBS_TEE_TPM)
                snprintf(ret->reason, sizeof ret->reason, "tee tpm, ak %s, reference %s",
                         attested.ak_id, names);
        else
                snprintf(ret->reason, sizeof ret->reason, "tee %s (insecure)",
                         kbs_tee_to_string(tee));
        return 200;
}

/* "Bearer TOKEN" (RFC 6750; the scheme in any case) to the session the token was issued for. */
static int bearer_session(KbsServer *s, const char *authorization,
                          char ret[static KBS_SESSION_ID_LEN + 1], char *why, size_t why_size) {
        const char *token;

        if (strncasecmp(authorization, "Bearer ", 7) != 0) {
                snprintf(why, why_size, "the Authorization header is not \"Bearer TOKEN\"");
                return -EBADMSG;
        }
        for (token = authorization + 7; *token == ' '; token++)
                ;
        return kbs_token_verify(s->signer, token, ret, why, why_size);
}

static int handle_resource(KbsServer *s, const KbsRequest *req, const char *name_path,
                           KbsReply *ret) {
        _cleanup_free_ uint8_t *data = NULL;
        _cleanup_free_ char *jwe = NULL;
        KbsResourceName name;
        KbsAttested a = {};
        KbsAccessRequest access;
        const char *session_id = req->session_id;
        char why[256], token_session[KBS_SESSION_ID_LEN + 1];
        size_t size;
        long rule;
        bool allowed;
        int r;

        r = kbs_resource_name_parse(name_path, &name, why, sizeof why);
        if (r < 0)
                return kbs_reply_problem(ret, KBS_PROBLEM_INVALID_PATH, "bad-path",
                                         "Request path is invalid: %s", why);

        /* A token, when one is sent, decides: a cookie does not make up for a bad one. It
         * stands for the session it was issued to, whose tee-pubkey the answer is encrypted
         * to, and goes when that session goes. */
        if (req->authorization) {
                r = bearer_session(s, req->authorization, token_session, why, sizeof why);
                if (r == -ENOMEM || r == -EIO)
                        return kbs_reply_problem(ret, KBS_PROBLEM_INTERNAL, "error", "%s", why);
                if (r < 0)
                        return kbs_reply_problem(ret, KBS_PROBLEM_TOKEN_NOT_FOUND,
                                                 "unauthenticated",
                                                 "Attestation Token not valid: %s", why);
                session_id = token_session;
        } else if (!session_id)
                return kbs_reply_problem(ret, KBS_PROBLEM_TOKEN_NOT_FOUND, "unauthenticated",
                                         "Attestation Token not found: no " KBS_SESSION_COOKIE
                                         " cookie and no Authorization: Bearer token: attest "
                                         "first");
        if (kbs_session_id_valid(session_id))
                memcpy(ret->session, session_id, sizeof ret->session);
        r = kbs_session_get_attested(s->sessions, session_id, &a);
        if (r < 0)
                return kbs_reply_problem(ret, KBS_PROBLEM_TOKEN_NOT_FOUND, "unauthenticated",
                                         "Attestation Token not found: %s", session_error(r));

        access = (KbsAccessRequest){
                .repository = name.repository,
                .type = name.type,
                .tag = name.tag,
                .tee = kbs_tee_to_string(a.tee),
                .ak_id = a.ak_id,
                .reference = &a.reference,
        };
        allowed = kbs_access_check(s->access, &access, &rule);
        if (!allowed) {
                kbs_attested_done(&a);
                if (rule < 0)
                        return kbs_reply_problem(ret, KBS_PROBLEM_POLICY_DENY, "denied",
                                                 "Access denied by policy: no access rule allows "
                                                 "%s/%s/%s",
                                                 name.repository, name.type, name.tag);
                return kbs_reply_problem(ret, KBS_PROBLEM_POLICY_DENY, "denied",
                                         "Access denied by policy: access rule %ld denies "
                                         "%s/%s/%s",
                                         rule, name.repository, name.type, name.tag);
        }

        r = s->resources_fd < 0
                    ? -ENOENT
                    : kbs_resource_read(s->resources_fd, &name, s->resource_size_max, &data, &size);
        if (r == -ENOENT || r == -ELOOP || r == -EISDIR || r == -EBADFD) {
                kbs_attested_done(&a);
                /* The client learns "not found"; the operator learns why from the log. */
                (void) kbs_reply_problem(ret, KBS_PROBLEM_RESOURCE_NOT_FOUND, "not-found",
                                         "Resource %s/%s/%s not found", name.repository, name.type,
                                         name.tag);
                if (r != -ENOENT)
                        snprintf(ret->reason + strlen(ret->reason),
                                 sizeof ret->reason - strlen(ret->reason), " (%s)",
                                 r == -ELOOP ? "a symlink, refused" : "not a regular file");
                return (int) ret->status;
        }
        if (r < 0) {
                kbs_attested_done(&a);
                return kbs_reply_problem(
                        ret, KBS_PROBLEM_INTERNAL, "error", "cannot read resource %s/%s/%s: %s",
                        name.repository, name.type, name.tag,
                        r == -EFBIG ? "larger than --resource-size-max" : strerror(-r));
        }

        r = jwe_encrypt(data, size, a.tee_key, &jwe);
        kbs_attested_done(&a);
        if (r < 0)
                return kbs_reply_problem(ret, KBS_PROBLEM_INTERNAL, "error", "JWE failed: %s",
                                         strerror(-r));

        ret->status = 200;
        ret->body = TAKE_PTR(jwe);
        ret->body_size = strlen(ret->body);
        ret->content_type = "application/json";
        ret->verdict = "served";
        snprintf(ret->reason, sizeof ret->reason, "%s/%s/%s, %zu bytes, rule %ld", name.repository,
                 name.type, name.tag, size, rule);
        return 200;
}

void kbs_handle(KbsServer *s, const KbsRequest *req, KbsReply *ret) {
        bool get = streq(req->method, "GET"), post = streq(req->method, "POST");

        *ret = (KbsReply){};

        if (streq(req->path, KBS_PREFIX "auth") || streq(req->path, KBS_PREFIX "attest")) {
                if (!post) {
                        ret->allow = "POST";
                        (void) kbs_reply_problem(ret, KBS_PROBLEM_METHOD_NOT_ALLOWED, "bad-method",
                                                 "%s takes POST only", req->path);
                        return;
                }
                if (streq(req->path, KBS_PREFIX "auth"))
                        (void) handle_auth(s, req, ret);
                else
                        (void) handle_attest(s, req, ret);
                return;
        }
        if (strncmp(req->path, RESOURCE_PREFIX, strlen(RESOURCE_PREFIX)) == 0) {
                if (!get) {
                        ret->allow = "GET";
                        (void) kbs_reply_problem(ret, KBS_PROBLEM_METHOD_NOT_ALLOWED, "bad-method",
                                                 "resources take GET only");
                        return;
                }
                (void) handle_resource(s, req, req->path + strlen(RESOURCE_PREFIX), ret);
                return;
        }
        (void) kbs_reply_problem(ret, KBS_PROBLEM_INVALID_PATH, "bad-path",
                                 "Request path is invalid: devgate-kbs serves POST " KBS_PREFIX
                                 "auth, POST " KBS_PREFIX "attest and GET " RESOURCE_PREFIX
                                 "REPOSITORY/TYPE/TAG");
}
