// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "json-strict.h"
#include "jwk.h"
#include "keys.h"
#include "log.h"
#include "macro.h"

static void BN_freep(BIGNUM **b) {
        BN_free(*b);
}

static void EVP_PKEY_CTX_freep(EVP_PKEY_CTX **c) {
        EVP_PKEY_CTX_free(*c);
}

static void OSSL_PARAM_BLD_freep(OSSL_PARAM_BLD **b) {
        OSSL_PARAM_BLD_free(*b);
}

static void OSSL_PARAM_freep(OSSL_PARAM **p) {
        OSSL_PARAM_free(*p);
}

int tee_key_generate(EVP_PKEY **ret) {
        EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        if (!pkey)
                return -EIO;
        *ret = pkey;
        return 0;
}

static int add_string(json_object *o, const char *name, const char *value) {
        json_object *s = json_object_new_string(value);
        if (!s || json_object_object_add(o, name, s) < 0) {
                json_object_put(s);
                return -ENOMEM;
        }
        return 0;
}

static int add_coordinate(json_object *o, const char *name, EVP_PKEY *key, const char *param) {
        _cleanup_(BN_freep) BIGNUM *bn = NULL;
        _cleanup_free_ char *text = NULL;
        uint8_t bytes[JWK_P256_COORDINATE_SIZE];
        int r;

        if (EVP_PKEY_get_bn_param(key, param, &bn) != 1)
                return -EIO;
        /* Full size, leading zeros kept (RFC 7518 section 6.2.1.2): one key in 256 has an x
         * or y below 2^248, and a shorter encoding would be another JWK for the same key. */
        if (BN_bn2binpad(bn, bytes, sizeof bytes) != (int) sizeof bytes)
                return -EIO;
        r = base64url_encode(bytes, sizeof bytes, &text);
        if (r < 0)
                return r;
        return add_string(o, name, text);
}

int jwk_from_public_key(EVP_PKEY *key, json_object **ret) {
        _cleanup_(json_object_putp) json_object *jwk = NULL;
        int r;

        if (key_algorithm_of(key) != KEY_ECDSA_P256)
                return -EKEYREJECTED;

        jwk = json_object_new_object();
        if (!jwk)
                return -ENOMEM;
        r = add_string(jwk, "kty", JWK_EC_KTY);
        if (r >= 0)
                r = add_string(jwk, "crv", JWK_EC_CRV);
        if (r >= 0)
                r = add_string(jwk, "alg", JWK_EC_ALG);
        if (r >= 0)
                r = add_coordinate(jwk, "x", key, OSSL_PKEY_PARAM_EC_PUB_X);
        if (r >= 0)
                r = add_coordinate(jwk, "y", key, OSSL_PKEY_PARAM_EC_PUB_Y);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(jwk);
        return 0;
}

/* The member's string value, or NULL if it is missing or not a string. */
static const char *member_string(json_object *jwk, const char *name) {
        json_object *v;
        if (!json_object_object_get_ex(jwk, name, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static int decode_coordinate(const char *text, uint8_t ret[JWK_P256_COORDINATE_SIZE]) {
        _cleanup_free_ uint8_t *bytes = NULL;
        size_t size;
        int r;

        r = base64url_decode(text, strlen(text), &bytes, &size);
        if (r < 0)
                return r;
        if (size != JWK_P256_COORDINATE_SIZE)
                return -EBADMSG;
        memcpy(ret, bytes, size);
        return 0;
}

int jwk_to_public_key(json_object *jwk, EVP_PKEY **ret) {
        static const char *const names[] = { "kty", "crv", "alg", "x", "y" };
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL, *check = NULL;
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = NULL;
        _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        const char *values[ELEMENTSOF(names)];
        /* SEC 1 uncompressed point: 0x04, x, y. */
        uint8_t point[1 + 2 * JWK_P256_COORDINATE_SIZE] = { 0x04 };
        int r;

        if (!json_object_is_type(jwk, json_type_object) ||
            json_object_object_length(jwk) != (int) ELEMENTSOF(names))
                return log_debug_errno(-EBADMSG, "JWK is not an object of exactly %zu members",
                                       ELEMENTSOF(names));
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                values[i] = member_string(jwk, names[i]);
                if (!values[i])
                        return log_debug_errno(-EBADMSG, "JWK has no string member \"%s\"",
                                               names[i]);
        }
        if (!streq(values[0], JWK_EC_KTY) || !streq(values[1], JWK_EC_CRV) ||
            !streq(values[2], JWK_EC_ALG))
                return log_debug_errno(-EKEYREJECTED,
                                       "JWK is kty \"%s\", crv \"%s\", alg \"%s\": only " JWK_EC_KTY
                                       " " JWK_EC_CRV " " JWK_EC_ALG " is supported",
                                       values[0], values[1], values[2]);
        r = decode_coordinate(values[3], point + 1);
        if (r < 0)
                return log_debug_errno(r, "JWK x is not base64url of %d bytes",
                                       JWK_P256_COORDINATE_SIZE);
        r = decode_coordinate(values[4], point + 1 + JWK_P256_COORDINATE_SIZE);
        if (r < 0)
                return log_debug_errno(r, "JWK y is not base64url of %d bytes",
                                       JWK_P256_COORDINATE_SIZE);

        bld = OSSL_PARAM_BLD_new();
        if (!bld ||
            OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
                    1 ||
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point) !=
                    1)
                return -ENOMEM;
        params = OSSL_PARAM_BLD_to_param(bld);
        if (!params)
                return -ENOMEM;
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1)
                return -EIO;
        /* Decoding the point already checks that x and y are below the prime and on the
         * curve; a point OpenSSL cannot decode is a bad key, not an OpenSSL failure. */
        if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
                /* Expected for hostile input: leave no error behind for the next caller
                 * that reads OpenSSL's queue. */
                ERR_clear_error();
                return log_debug_errno(-EKEYREJECTED, "JWK x, y is not a point on P-256");
        }

        /* And once more, the full public key check of SP 800-56A 5.6.2.3.3, which does not
         * depend on how this OpenSSL version happens to decode points. */
        check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (!check)
                return -ENOMEM;
        if (EVP_PKEY_public_check(check) != 1) {
                ERR_clear_error();
                return log_debug_errno(-EKEYREJECTED, "JWK x, y is not a valid P-256 public key");
        }

        *ret = TAKE_PTR(pkey);
        return 0;
}
