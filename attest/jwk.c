// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "json-strict.h"
#include "jwe.h"
#include "jwk.h"
#include "keys.h"
#include "log.h"
#include "macro.h"

static void BN_freep(BIGNUM **b) {
        BN_free(*b);
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

/* A coordinate must be unpadded base64url of exactly 32 bytes: the one spelling Trustee
 * hashes into the report data. */
static int check_coordinate(const char *text) {
        _cleanup_free_ uint8_t *bytes = NULL;
        size_t size;
        int r;

        r = base64url_decode(text, strlen(text), &bytes, &size);
        if (r < 0)
                return r;
        return size == JWK_P256_COORDINATE_SIZE ? 0 : -EBADMSG;
}

int jwk_to_public_key(json_object *jwk, EVP_PKEY **ret) {
        static const char *const names[] = { "kty", "crv", "alg", "x", "y" };
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        const char *values[ELEMENTSOF(names)];
        char reason[256];
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
        r = check_coordinate(values[3]);
        if (r < 0)
                return log_debug_errno(r, "JWK x is not base64url of %d bytes",
                                       JWK_P256_COORDINATE_SIZE);
        r = check_coordinate(values[4]);
        if (r < 0)
                return log_debug_errno(r, "JWK y is not base64url of %d bytes",
                                       JWK_P256_COORDINATE_SIZE);

        /* Spelled right: what is left to check is the point itself, which the JWE code's
         * importer does for every key it reads (on the curve, not the point at infinity). */
        r = jwe_jwk_to_pkey(jwk, &pkey, reason, sizeof reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return log_debug_errno(-EKEYREJECTED, "%s", reason);

        *ret = TAKE_PTR(pkey);
        return 0;
}
