// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <json-c/json.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "json-strict.h"
#include "kbs-token.h"
#include "macro.h"

#define ES256_COORDINATE_SIZE 32

struct KbsTokenSigner {
        EVP_PKEY *key;
};

int kbs_token_signer_new(KbsTokenSigner **ret) {
        KbsTokenSigner *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->key = EVP_EC_gen("P-256");
        if (!s->key) {
                free(s);
                return -EIO;
        }
        *ret = s;
        return 0;
}

KbsTokenSigner *kbs_token_signer_free(KbsTokenSigner *s) {
        if (!s)
                return NULL;
        EVP_PKEY_free(s->key);
        free(s);
        return NULL;
}

static void ecdsa_sig_freep(ECDSA_SIG **sig) {
        ECDSA_SIG_free(*sig);
}

static void md_ctx_freep(EVP_MD_CTX **ctx) {
        EVP_MD_CTX_free(*ctx);
}

/* JWS wants r || s at full size (RFC 7518 3.4), OpenSSL gives DER. */
static int sign_es256(EVP_PKEY *key, const char *input, uint8_t ret[2 * ES256_COORDINATE_SIZE]) {
        _cleanup_(md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        _cleanup_(ecdsa_sig_freep) ECDSA_SIG *sig = NULL;
        _cleanup_free_ uint8_t *der = NULL;
        const uint8_t *p;
        const BIGNUM *r, *s;
        size_t der_size = 0;

        if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
            EVP_DigestSign(ctx, NULL, &der_size, (const uint8_t *) input, strlen(input)) != 1)
                return -EIO;
        der = malloc(der_size);
        if (!der)
                return -ENOMEM;
        if (EVP_DigestSign(ctx, der, &der_size, (const uint8_t *) input, strlen(input)) != 1)
                return -EIO;
        p = der;
        sig = d2i_ECDSA_SIG(NULL, &p, (long) der_size);
        if (!sig)
                return -EIO;
        ECDSA_SIG_get0(sig, &r, &s);
        if (BN_bn2binpad(r, ret, ES256_COORDINATE_SIZE) != ES256_COORDINATE_SIZE ||
            BN_bn2binpad(s, ret + ES256_COORDINATE_SIZE, ES256_COORDINATE_SIZE) !=
                    ES256_COORDINATE_SIZE)
                return -EIO;
        return 0;
}

static int b64url_json(json_object *o, char **ret) {
        const char *text = json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;
        return base64url_encode((const uint8_t *) text, strlen(text), ret);
}

static int add(json_object *o, const char *name, json_object *value) {
        if (!value || json_object_object_add(o, name, value) < 0) {
                json_object_put(value);
                return -ENOMEM;
        }
        return 0;
}

int kbs_token_issue(KbsTokenSigner *s, const char *session_id, KbsTee tee, const char *ak_id,
                    const char *reference_names, time_t expires, char **ret) {
        _cleanup_(json_object_putp) json_object *header = json_object_new_object();
        _cleanup_(json_object_putp) json_object *claims = json_object_new_object();
        _cleanup_free_ char *h = NULL, *c = NULL, *input = NULL, *sig_b64 = NULL;
        _cleanup_free_ char *names = NULL;
        uint8_t sig[2 * ES256_COORDINATE_SIZE];
        json_object *refs;
        char *token;
        int r;

        if (!header || !claims)
                return -ENOMEM;
        r = add(header, "alg", json_object_new_string("ES256"));
        if (r >= 0)
                r = add(header, "typ", json_object_new_string("JWT"));
        if (r >= 0)
                r = add(claims, "iss", json_object_new_string("devgate-kbs"));
        if (r >= 0)
                r = add(claims, "iat", json_object_new_int64((int64_t) time(NULL)));
        if (r >= 0)
                r = add(claims, "exp", json_object_new_int64((int64_t) expires));
        if (r >= 0)
                r = add(claims, "sid", json_object_new_string(session_id));
        if (r >= 0)
                r = add(claims, "tee", json_object_new_string(kbs_tee_to_string(tee)));
        if (r >= 0 && ak_id && ak_id[0])
                r = add(claims, "ak", json_object_new_string(ak_id));
        if (r < 0)
                return r;

        refs = json_object_new_array();
        r = add(claims, "reference", refs);
        if (r < 0)
                return r;
        names = strdup(reference_names ?: "");
        if (!names)
                return -ENOMEM;
        char *save = NULL;
        for (char *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
                json_object *v = json_object_new_string(n);
                if (!v || json_object_array_add(refs, v) < 0) {
                        json_object_put(v);
                        return -ENOMEM;
                }
        }

        r = b64url_json(header, &h);
        if (r >= 0)
                r = b64url_json(claims, &c);
        if (r < 0)
                return r;
        if (asprintf(&input, "%s.%s", h, c) < 0) {
                input = NULL;
                return -ENOMEM;
        }
        r = sign_es256(s->key, input, sig);
        if (r < 0)
                return r;
        r = base64url_encode(sig, sizeof sig, &sig_b64);
        if (r < 0)
                return r;
        if (asprintf(&token, "%s.%s", input, sig_b64) < 0)
                return -ENOMEM;
        *ret = token;
        return 0;
}

/* The JWS signature r || s back into what OpenSSL verifies. */
static int verify_es256(EVP_PKEY *key, const char *input, size_t input_size, const uint8_t *sig,
                        size_t sig_size) {
        _cleanup_(md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        _cleanup_(ecdsa_sig_freep) ECDSA_SIG *ecdsa = ECDSA_SIG_new();
        _cleanup_free_ uint8_t *der = NULL;
        BIGNUM *r, *s;
        int der_size, ok;

        if (sig_size != 2 * ES256_COORDINATE_SIZE)
                return -EKEYREJECTED;
        if (!ctx || !ecdsa)
                return -ENOMEM;
        r = BN_bin2bn(sig, ES256_COORDINATE_SIZE, NULL);
        s = BN_bin2bn(sig + ES256_COORDINATE_SIZE, ES256_COORDINATE_SIZE, NULL);
        if (!r || !s || ECDSA_SIG_set0(ecdsa, r, s) != 1) {
                BN_free(r);
                BN_free(s);
                return -ENOMEM;
        }
        der_size = i2d_ECDSA_SIG(ecdsa, &der);
        if (der_size <= 0)
                return -ENOMEM;
        if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) != 1)
                return -EIO;
        ok = EVP_DigestVerify(ctx, der, (size_t) der_size, (const uint8_t *) input, input_size);
        /* A bad signature leaves errors in OpenSSL's queue: expected here. */
        ERR_clear_error();
        return ok == 1 ? 0 : -EKEYREJECTED;
}

/* One part of the token: base64url, then (for header and claims) a strict JSON object. */
static int decode_part(const char *part, size_t len, uint8_t **ret, size_t *ret_size) {
        int r = base64url_decode(part, len, ret, ret_size);
        return r == -ENOMEM ? r : r < 0 ? -EBADMSG : 0;
}

static int parse_part(const char *part, size_t len, json_object **ret) {
        _cleanup_free_ uint8_t *text = NULL;
        char why[128];
        size_t size;
        int r;

        r = decode_part(part, len, &text, &size);
        if (r < 0)
                return r;
        r = json_parse_strict((const char *) text, size, 4, ret, why, sizeof why);
        if (r < 0)
                return r;
        if (!json_object_is_type(*ret, json_type_object)) {
                json_object_put(*ret);
                *ret = NULL;
                return -EBADMSG;
        }
        return 0;
}

static const char *string_member(json_object *o, const char *name) {
        json_object *v;
        return json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v)
                       : NULL;
}

int kbs_token_verify(KbsTokenSigner *s, const char *token,
                     char ret_session_id[static KBS_SESSION_ID_LEN + 1], char *reason,
                     size_t reason_size) {
        static const char *const header_members[] = { "alg", "typ", NULL };
        _cleanup_(json_object_putp) json_object *header = NULL, *claims = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        const char *dot1, *dot2, *alg, *iss, *sid;
        json_object *exp;
        size_t len = strnlen(token, KBS_TOKEN_LEN_MAX + 1), sig_size;
        int r;

        dot1 = memchr(token, '.', len);
        dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t) (dot1 + 1 - token)) : NULL;
        if (len > KBS_TOKEN_LEN_MAX || !dot2 ||
            memchr(dot2 + 1, '.', len - (size_t) (dot2 + 1 - token))) {
                snprintf(reason, reason_size, "not a JWT of three parts of at most %u bytes",
                         KBS_TOKEN_LEN_MAX);
                return -EBADMSG;
        }

        /* Only the one header this server writes: an "alg" the client chose is never
         * followed. */
        r = parse_part(token, (size_t) (dot1 - token), &header);
        if (r >= 0 && (json_unknown_member(header, header_members) ||
                       !(alg = string_member(header, "alg")) || !streq(alg, "ES256")))
                r = -EBADMSG;
        if (r < 0) {
                snprintf(reason, reason_size,
                         "the token's header is not {\"alg\": \"ES256\", "
                         "\"typ\": \"JWT\"}");
                return r == -ENOMEM ? r : -EBADMSG;
        }

        r = decode_part(dot2 + 1, len - (size_t) (dot2 + 1 - token), &sig, &sig_size);
        if (r >= 0)
                r = verify_es256(s->key, token, (size_t) (dot2 - token), sig, sig_size);
        if (r == -ENOMEM || r == -EIO) {
                snprintf(reason, reason_size, "cannot verify the token: %s", strerror(-r));
                return r;
        }
        if (r < 0) {
                snprintf(reason, reason_size,
                         "the token's signature does not verify (issued by another process, or "
                         "altered)");
                return -EKEYREJECTED;
        }

        /* Signed by this process: what it says was written here. Checked all the same. */
        r = parse_part(dot1 + 1, (size_t) (dot2 - dot1 - 1), &claims);
        if (r < 0 || !(iss = string_member(claims, "iss")) || !streq(iss, "devgate-kbs") ||
            !(sid = string_member(claims, "sid")) || !kbs_session_id_valid(sid) ||
            !json_object_object_get_ex(claims, "exp", &exp) ||
            !json_object_is_type(exp, json_type_int)) {
                snprintf(reason, reason_size, "the token's claims are not this server's");
                return r == -ENOMEM ? r : -EBADMSG;
        }
        if (json_object_get_int64(exp) <= (int64_t) time(NULL)) {
                snprintf(reason, reason_size, "the token expired (with its session)");
                return -ETIME;
        }
        memcpy(ret_session_id, sid, KBS_SESSION_ID_LEN + 1);
        return 0;
}
