// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <json-c/json.h>
#include <openssl/ec.h>
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

int kbs_token_issue(KbsTokenSigner *s, KbsTee tee, const char *ak_id, const char *reference_names,
                    time_t expires, char **ret) {
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
