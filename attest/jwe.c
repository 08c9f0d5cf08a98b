// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "json-strict.h"
#include "jwe.h"
#include "keys.h"
#include "log.h"
#include "macro.h"

#define JWE_ALG "ECDH-ES+A256KW"
#define JWE_ENC "A256GCM"

#define KEY_SIZE         32             /* the AES-256 CEK, and the AES-256 key that wraps it */
#define WRAPPED_KEY_SIZE (KEY_SIZE + 8) /* RFC 3394 adds one 64-bit integrity block */
#define IV_SIZE          12
#define TAG_SIZE         16

/* Trustee's protected header is about 200 bytes for P-256 and 350 for P-521. */
#define HEADER_SIZE_MAX     4096
#define HEADER_B64_MAX      ((HEADER_SIZE_MAX + 2) / 3 * 4)
/* "apu" and "apv" carry a few names or a nonce when a sender uses them at all. */
#define PARTY_INFO_SIZE_MAX 256
/* A JWE, its header and a JWK are objects of strings; the header holds one more object
 * ("epk") or list ("crit"). Anything deeper is not a JWE. */
#define JSON_DEPTH_MAX      4
/* Longest name from the input quoted in a reason. */
#define QUOTE_MAX           32

typedef struct JweCurve {
        const char *jwk_name;   /* "crv" */
        const char *group_name; /* OpenSSL's */
        size_t size;            /* bytes of a coordinate, of "d", and of the ECDH secret */
} JweCurve;

static const JweCurve curves[] = {
        { "P-256", "prime256v1", 32 },
        { "P-521", "secp521r1", 66 },
};

/* A span of the input: parts of the compact serialization are not NUL-terminated. */
typedef struct Span {
        const char *p;
        size_t n;
} Span;

typedef struct JweParts {
        Span protected, encrypted_key, iv, ciphertext, tag, aad;
        bool has_aad;
} JweParts;

typedef struct Bytes {
        uint8_t *data;
        size_t size;
} Bytes;

typedef struct JweHeader {
        EVP_PKEY *epk;
        Bytes apu, apv;
} JweHeader;

static void bytes_free(Bytes *b) {
        free(b->data);
        *b = (Bytes){};
}

/* For key material and for plaintext that did not authenticate. */
static void bytes_erase(Bytes *b) {
        if (b->data)
                OPENSSL_cleanse(b->data, b->size);
        bytes_free(b);
}

static void erase_key(uint8_t (*key)[KEY_SIZE]) {
        OPENSSL_cleanse(*key, KEY_SIZE);
}

static void jwe_header_done(JweHeader *h) {
        EVP_PKEY_free(h->epk);
        bytes_free(&h->apu);
        bytes_free(&h->apv);
}

static void EVP_PKEY_CTX_freep(EVP_PKEY_CTX **c) {
        EVP_PKEY_CTX_free(*c);
}

static void EVP_CIPHER_CTX_freep(EVP_CIPHER_CTX **c) {
        EVP_CIPHER_CTX_free(*c);
}

static int fail(char *reason, size_t reason_size, int error, const char *format, ...)
        _printf_(4, 5);
static int fail(char *reason, size_t reason_size, int error, const char *format, ...) {
        if (reason && reason_size > 0) {
                va_list ap;
                va_start(ap, format);
                vsnprintf(reason, reason_size, format, ap);
                va_end(ap);
        }
        return error;
}

/* OpenSSL failed where valid input cannot make it fail: its error queue says why, at debug
 * level, and is emptied so that it does not leak into the next, unrelated call. */
static int openssl_fail(char *reason, size_t reason_size, const char *what) {
        unsigned long e = ERR_peek_last_error();
        char buf[256] = "no OpenSSL error";

        if (e != 0)
                ERR_error_string_n(e, buf, sizeof buf);
        log_debug("JWE: %s failed: %s", what, buf);
        ERR_clear_error();
        return fail(reason, reason_size, -EIO, "OpenSSL failed to %s", what);
}

/* Names from the input go into one-line reasons that end up in the log: control characters
 * or a long text would let the sender write log lines of its own. */
static const char *quote(const char *s, char buf[static QUOTE_MAX + 4]) {
        size_t i;

        for (i = 0; s[i] && i < QUOTE_MAX; i++)
                buf[i] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\' ? s[i] : '?';
        strcpy(buf + i, s[i] ? "..." : "");
        return buf;
}

/* A string member without NUL bytes: -ENOENT if absent, -EINVAL if of another type. */
static int get_string(json_object *o, const char *key, const char **ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return -ENOENT;
        if (!json_object_is_type(v, json_type_string) ||
            strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v))
                return -EINVAL;
        *ret = json_object_get_string(v);
        return 0;
}

static int get_required_string(json_object *o, const char *what, const char *key, const char **ret,
                               char *reason, size_t reason_size) {
        int r = get_string(o, key, ret);
        if (r == -ENOENT)
                return fail(reason, reason_size, -EBADMSG, "%s has no \"%s\"", what, key);
        if (r < 0)
                return fail(reason, reason_size, -EBADMSG, "%s \"%s\" is not a string", what, key);
        return 0;
}

/* Decodes base64url; size_wanted 0 takes any size. */
static int decode(const char *what, const char *name, Span s, size_t size_wanted, Bytes *ret,
                  char *reason, size_t reason_size) {
        Bytes b = {};
        int r;

        r = base64url_decode(s.p, s.n, &b.data, &b.size);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return fail(reason, reason_size, -EBADMSG, "%s \"%s\" is not valid base64url", what,
                            name);
        if (size_wanted != 0 && b.size != size_wanted) {
                bytes_erase(&b);
                return fail(reason, reason_size, -EBADMSG, "%s \"%s\" is not %zu bytes", what, name,
                            size_wanted);
        }
        *ret = b;
        return 0;
}

static Span span_of(const char *s) {
        return (Span){ s, strlen(s) };
}

static const JweCurve *curve_by_jwk_name(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(curves); i++)
                if (streq(curves[i].jwk_name, name))
                        return &curves[i];
        return NULL;
}

static const JweCurve *curve_of_key(EVP_PKEY *pkey) {
        char group[64];
        size_t len;

        if (!pkey || !EVP_PKEY_is_a(pkey, "EC") ||
            EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                           &len) != 1) {
                ERR_clear_error();
                return NULL;
        }
        for (size_t i = 0; i < ELEMENTSOF(curves); i++)
                if (streq(curves[i].group_name, group))
                        return &curves[i];
        return NULL;
}

static bool has_private_key(EVP_PKEY *pkey) {
        BIGNUM *d = NULL;
        bool has = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1;
        BN_clear_free(d);
        ERR_clear_error();
        return has;
}

/* Builds the key from its coordinates (and d) and checks it the way OpenSSL checks a peer
 * key: the point on the curve, in the right subgroup, and for a private key that d matches. */
static int ec_key_from_coordinates(const char *what, const JweCurve *curve, const Bytes *x,
                                   const Bytes *y, const Bytes *d, EVP_PKEY **ret, char *reason,
                                   size_t reason_size) {
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL, *check = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        OSSL_PARAM_BLD *bld = NULL;
        OSSL_PARAM *params = NULL;
        BIGNUM *priv = NULL;
        uint8_t point[1 + 2 * 66];
        int r = 0;

        /* SEC 1 uncompressed point: 0x04 || x || y. */
        point[0] = 0x04;
        memcpy(point + 1, x->data, curve->size);
        memcpy(point + 1 + curve->size, y->data, curve->size);

        bld = OSSL_PARAM_BLD_new();
        if (!bld)
                return -ENOMEM;
        if (d) {
                /* Secure memory where OpenSSL has it: the builder copies d there too. */
                priv = BN_secure_new();
                if (!priv || !BN_bin2bn(d->data, (int) d->size, priv)) {
                        r = -ENOMEM;
                        goto finish;
                }
        }
        if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve->group_name,
                                            0) != 1 ||
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                             1 + 2 * curve->size) != 1 ||
            (priv && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1) ||
            !(params = OSSL_PARAM_BLD_to_param(bld))) {
                r = -ENOMEM;
                goto finish;
        }

        ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1) {
                r = openssl_fail(reason, reason_size, "set up an EC key");
                goto finish;
        }
        if (EVP_PKEY_fromdata(ctx, &pkey, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) !=
            1) {
                r = fail(reason, reason_size, -EBADMSG, "%s \"x\", \"y\" is not a point on %s",
                         what, curve->jwk_name);
                goto finish;
        }

        check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (!check) {
                r = -ENOMEM;
                goto finish;
        }
        /* The quick check (on the curve, not the point at infinity) is the full public key
         * validation for P-256 and P-521, whose cofactor is 1 (SP 800-56A 5.6.2.3.4): the
         * full check only adds a multiplication by the order, a sixth of the server's CPU per
         * attestation for nothing. */
        if (EVP_PKEY_public_check_quick(check) != 1)
                r = fail(reason, reason_size, -EBADMSG, "%s \"x\", \"y\" is not a point on %s",
                         what, curve->jwk_name);
        else if (d && EVP_PKEY_private_check(check) != 1)
                r = fail(reason, reason_size, -EBADMSG, "%s \"d\" is not a private key on %s", what,
                         curve->jwk_name);
        else if (d && EVP_PKEY_pairwise_check(check) != 1)
                r = fail(reason, reason_size, -EBADMSG,
                         "%s \"d\" does not belong to its public key", what);
finish:
        ERR_clear_error();
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        BN_clear_free(priv);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(pkey);
        return 0;
}

static int jwk_import(json_object *jwk, bool allow_private, const char *what, EVP_PKEY **ret,
                      char *reason, size_t reason_size) {
        _cleanup_(bytes_free) Bytes x = {}, y = {};
        _cleanup_(bytes_erase) Bytes d = {};
        const char *kty, *crv, *s;
        const JweCurve *curve;
        char q[QUOTE_MAX + 4];
        int r;

        if (!json_object_is_type(jwk, json_type_object))
                return fail(reason, reason_size, -EBADMSG, "%s is not a JSON object", what);
        r = get_required_string(jwk, what, "kty", &kty, reason, reason_size);
        if (r < 0)
                return r;
        if (!streq(kty, "EC"))
                return fail(reason, reason_size, -EOPNOTSUPP,
                            "%s kty \"%s\" is not accepted (only \"EC\")", what, quote(kty, q));
        r = get_required_string(jwk, what, "crv", &crv, reason, reason_size);
        if (r < 0)
                return r;
        curve = curve_by_jwk_name(crv);
        if (!curve)
                return fail(reason, reason_size, -EOPNOTSUPP,
                            "%s crv \"%s\" is not accepted (only \"P-256\" and \"P-521\")", what,
                            quote(crv, q));

        r = get_required_string(jwk, what, "x", &s, reason, reason_size);
        if (r >= 0)
                r = decode(what, "x", span_of(s), curve->size, &x, reason, reason_size);
        if (r >= 0)
                r = get_required_string(jwk, what, "y", &s, reason, reason_size);
        if (r >= 0)
                r = decode(what, "y", span_of(s), curve->size, &y, reason, reason_size);
        if (r < 0)
                return r;

        r = get_string(jwk, "d", &s);
        if (r == -EINVAL)
                return fail(reason, reason_size, -EBADMSG, "%s \"d\" is not a string", what);
        if (r >= 0) {
                if (!allow_private)
                        return fail(reason, reason_size, -EBADMSG, "%s holds a private key (\"d\")",
                                    what);
                r = decode(what, "d", span_of(s), curve->size, &d, reason, reason_size);
                if (r < 0)
                        return r;
        }

        return ec_key_from_coordinates(what, curve, &x, &y, d.data ? &d : NULL, ret, reason,
                                       reason_size);
}

int jwe_jwk_to_pkey(json_object *jwk, EVP_PKEY **ret, char *reason, size_t reason_size) {
        return jwk_import(jwk, true, "JWK", ret, reason, reason_size);
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The flattened JSON serialization (RFC 7516 section 7.2.2). Spans point into root. */
static int parse_flattened(json_object *root, JweParts *parts, char *reason, size_t reason_size) {
        static const char *const names[] = { "protected", "encrypted_key", "iv", "ciphertext",
                                             "tag" };
        Span *spans[] = { &parts->protected, &parts->encrypted_key, &parts->iv, &parts->ciphertext,
                          &parts->tag };
        const char *s;
        int r;

        if (!json_object_is_type(root, json_type_object))
                return fail(reason, reason_size, -EBADMSG, "JWE is not a JSON object");
        if (json_object_object_get_ex(root, "recipients", NULL))
                return fail(reason, reason_size, -EOPNOTSUPP,
                            "JWE general JSON serialization (\"recipients\") is not accepted");
        /* The KBS protects every parameter. Unprotected ones are legal JWE, but would be
         * parameters an attacker on the way could change without touching the tag. */
        if (json_object_object_get_ex(root, "unprotected", NULL) ||
            json_object_object_get_ex(root, "header", NULL))
                return fail(reason, reason_size, -EOPNOTSUPP,
                            "JWE header parameters outside the protected header (\"%s\") are "
                            "not accepted",
                            json_object_object_get_ex(root, "header", NULL) ? "header"
                                                                            : "unprotected");

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                r = get_required_string(root, "JWE", names[i], &s, reason, reason_size);
                if (r < 0)
                        return r;
                *spans[i] = span_of(s);
        }
        r = get_string(root, "aad", &s);
        if (r == -EINVAL)
                return fail(reason, reason_size, -EBADMSG, "JWE \"aad\" is not a string");
        if (r >= 0) {
                parts->aad = span_of(s);
                parts->has_aad = true;
        }
        /* Other members are ignored, as RFC 7516 section 7.2.1 asks: they are not in the AAD
         * and cannot change what is decrypted. */
        return 0;
}

/* The compact serialization (RFC 7516 section 7.1): five parts, blanks stripped at the end. */
static int parse_compact(const char *jwe, size_t size, JweParts *parts, char *reason,
                         size_t reason_size) {
        Span *spans[] = { &parts->protected, &parts->encrypted_key, &parts->iv, &parts->ciphertext,
                          &parts->tag };
        size_t n = 0, start = 0;

        while (size > 0 && is_blank(jwe[size - 1]))
                size--;
        for (size_t i = 0; i <= size; i++) {
                if (i < size && jwe[i] != '.')
                        continue;
                if (n == ELEMENTSOF(spans))
                        break;
                *spans[n++] = (Span){ jwe + start, i - start };
                start = i + 1;
        }
        if (n != ELEMENTSOF(spans) || start != size + 1)
                return fail(reason, reason_size, -EBADMSG,
                            "JWE is neither a JSON object nor five parts joined by '.'");
        return 0;
}

static int parse_header(Span protected, const JweCurve *curve, JweHeader *ret, char *reason,
                        size_t reason_size) {
        _cleanup_(json_object_putp) json_object *h = NULL;
        _cleanup_(bytes_free) Bytes text = {};
        _cleanup_(jwe_header_done) JweHeader header = {};
        json_object *crit, *epk;
        const char *alg, *enc, *s;
        char q[QUOTE_MAX + 4], why[128];
        const JweCurve *epk_curve;
        int r;

        if (protected.n == 0)
                return fail(reason, reason_size, -EBADMSG, "JWE has no protected header");
        if (protected.n > HEADER_B64_MAX)
                return fail(reason, reason_size, -EBADMSG,
                            "JWE protected header is larger than %d bytes", HEADER_SIZE_MAX);
        r = decode("JWE", "protected", protected, 0, &text, reason, reason_size);
        if (r < 0)
                return r;
        r = json_parse_strict((const char *) text.data, text.size, JSON_DEPTH_MAX, &h, why,
                              sizeof why);
        if (r < 0)
                return fail(reason, reason_size, -EBADMSG, "JWE protected header: %s", why);
        if (!json_object_is_type(h, json_type_object))
                return fail(reason, reason_size, -EBADMSG,
                            "JWE protected header is not a JSON object");

        r = get_required_string(h, "JWE protected header", "alg", &alg, reason, reason_size);
        if (r < 0)
                return r;
        if (!streq(alg, JWE_ALG))
                return fail(reason, reason_size, -EOPNOTSUPP,
                            "JWE alg \"%s\" is not accepted (only \"" JWE_ALG "\")", quote(alg, q));
        r = get_required_string(h, "JWE protected header", "enc", &enc, reason, reason_size);
        if (r < 0)
                return r;
        if (!streq(enc, JWE_ENC))
                return fail(reason, reason_size, -EOPNOTSUPP,
                            "JWE enc \"%s\" is not accepted (only \"" JWE_ENC "\")", quote(enc, q));
        /* A few compressed bytes can inflate to anything; the KBS never compresses. */
        if (json_object_object_get_ex(h, "zip", NULL))
                return fail(reason, reason_size, -EOPNOTSUPP,
                            "JWE compression (\"zip\") is not accepted");
        /* RFC 7515 section 4.1.11: a recipient must refuse extensions marked critical that it
         * does not implement, and devgate implements none. */
        if (json_object_object_get_ex(h, "crit", &crit)) {
                json_object *name = json_object_is_type(crit, json_type_array) &&
                                                    json_object_array_length(crit) > 0
                                            ? json_object_array_get_idx(crit, 0)
                                            : NULL;
                if (!json_object_is_type(name, json_type_string))
                        return fail(reason, reason_size, -EBADMSG,
                                    "JWE \"crit\" is not a list of names");
                return fail(reason, reason_size, -EOPNOTSUPP,
                            "JWE marks \"%s\" critical, an extension devgate does not implement",
                            quote(json_object_get_string(name), q));
        }

        if (!json_object_object_get_ex(h, "epk", &epk))
                return fail(reason, reason_size, -EBADMSG, "JWE protected header has no \"epk\"");
        r = jwk_import(epk, false, "JWE epk", &header.epk, reason, reason_size);
        if (r == -EOPNOTSUPP) /* not a kind devgate refuses: an epk that cannot match our key */
                return -EBADMSG;
        if (r < 0)
                return r;
        epk_curve = curve_of_key(header.epk);
        if (epk_curve != curve)
                return fail(reason, reason_size, -EBADMSG,
                            "JWE epk is on %s, the recipient key on %s",
                            epk_curve ? epk_curve->jwk_name : "another curve", curve->jwk_name);

        /* Agreement PartyUInfo and PartyVInfo (RFC 7518 section 4.6.1.2, 4.6.1.3): part of the
         * KDF input when the sender names them. */
        r = get_string(h, "apu", &s);
        if (r == -EINVAL)
                return fail(reason, reason_size, -EBADMSG, "JWE \"apu\" is not a string");
        if (r >= 0) {
                r = decode("JWE", "apu", span_of(s), 0, &header.apu, reason, reason_size);
                if (r < 0)
                        return r;
        }
        r = get_string(h, "apv", &s);
        if (r == -EINVAL)
                return fail(reason, reason_size, -EBADMSG, "JWE \"apv\" is not a string");
        if (r >= 0) {
                r = decode("JWE", "apv", span_of(s), 0, &header.apv, reason, reason_size);
                if (r < 0)
                        return r;
        }
        if (header.apu.size > PARTY_INFO_SIZE_MAX || header.apv.size > PARTY_INFO_SIZE_MAX)
                return fail(reason, reason_size, -EBADMSG,
                            "JWE \"apu\" or \"apv\" is larger than %d bytes", PARTY_INFO_SIZE_MAX);

        *ret = header;
        header = (JweHeader){};
        return 0;
}

static uint8_t *put_be32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) (v >> 24);
        p[1] = (uint8_t) (v >> 16);
        p[2] = (uint8_t) (v >> 8);
        p[3] = (uint8_t) v;
        return p + 4;
}

static uint8_t *put_datalen(uint8_t *p, const void *data, size_t size) {
        p = put_be32(p, (uint32_t) size);
        if (size > 0)
                memcpy(p, data, size);
        return p + size;
}

/* ECDH-ES key agreement and the Concat KDF of NIST SP 800-56A (RFC 7518 section 4.6.2):
 * the key-wrapping key is SHA-256(counter 1 || Z || OtherInfo), where OtherInfo is the
 * algorithm ("ECDH-ES+A256KW", not "enc": the derived key wraps the CEK), apu and apv each
 * with a 32-bit big-endian length, then the key length in bits. OpenSSL's SSKDF is exactly
 * this hash construction. Z, and what is derived from it, is erased. */
static int derive_kek(EVP_PKEY *ours, EVP_PKEY *peer, const Bytes *apu, const Bytes *apv,
                      uint8_t kek[KEY_SIZE], char *reason, size_t reason_size) {
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        uint8_t z[66], info[4 + sizeof(JWE_ALG) - 1 + 2 * (4 + PARTY_INFO_SIZE_MAX) + 4], *p;
        size_t z_size = sizeof z;
        EVP_KDF *kdf = NULL;
        EVP_KDF_CTX *kctx = NULL;
        int r = 0;

        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ours, NULL);
        if (!ctx)
                return -ENOMEM;
        /* validate_peer: the point is checked again, whoever made the peer key. */
        if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer_ex(ctx, peer, 1) != 1 ||
            EVP_PKEY_derive(ctx, z, &z_size) != 1)
                return openssl_fail(reason, reason_size, "agree on a key (ECDH)");

        p = put_datalen(info, JWE_ALG, sizeof(JWE_ALG) - 1);
        p = put_datalen(p, apu->data, apu->size);
        p = put_datalen(p, apv->data, apv->size);
        p = put_be32(p, KEY_SIZE * 8);

        kdf = EVP_KDF_fetch(NULL, "SSKDF", NULL);
        kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
        if (!kctx)
                r = openssl_fail(reason, reason_size, "set up the Concat KDF (SSKDF)");
        else {
                OSSL_PARAM params[] = {
                        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *) "SHA256",
                                                         0),
                        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, z, z_size),
                        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info,
                                                          (size_t) (p - info)),
                        OSSL_PARAM_construct_end(),
                };
                if (EVP_KDF_derive(kctx, kek, KEY_SIZE, params) != 1)
                        r = openssl_fail(reason, reason_size, "derive a key (Concat KDF)");
        }
        EVP_KDF_CTX_free(kctx);
        EVP_KDF_free(kdf);
        OPENSSL_cleanse(z, sizeof z);
        return r;
}

/* AES key wrap (RFC 3394) with its default IV, which is its integrity check. */
static int aes_key_wrap(bool wrap, const uint8_t kek[KEY_SIZE], const uint8_t *in, size_t in_size,
                        uint8_t *out, size_t out_size) {
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        int n = 0, final = 0;

        if (!ctx)
                return -ENOMEM;
        /* Key wrap ciphers refuse to run through EVP without this flag. */
        EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
        if (EVP_CipherInit_ex(ctx, EVP_aes_256_wrap(), NULL, kek, NULL, wrap ? 1 : 0) != 1 ||
            EVP_CipherUpdate(ctx, out, &n, in, (int) in_size) != 1 || n < 0 ||
            (size_t) n != out_size || EVP_CipherFinal_ex(ctx, out + n, &final) != 1 || final != 0) {
                ERR_clear_error();
                OPENSSL_cleanse(out, out_size);
                return -EBADMSG;
        }
        return 0;
}

/* AES-256-GCM with a 96-bit IV and a 128-bit tag. Decrypting writes the plaintext before the
 * tag is checked: a failure erases it. */
static int aes_gcm(bool encrypt, const uint8_t key[KEY_SIZE], const uint8_t iv[IV_SIZE],
                   const void *aad, size_t aad_size, const uint8_t *in, size_t size, uint8_t *out,
                   uint8_t tag[TAG_SIZE]) {
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        int n = 0, final = 0;
        bool ok;

        if (!ctx)
                return -ENOMEM;
        /* Sizes are bounded by JWE_SIZE_MAX long before this; EVP counts in int. */
        if (size > INT_MAX || aad_size > INT_MAX)
                return -E2BIG;
        ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt ? 1 : 0) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, IV_SIZE, NULL) == 1 &&
             EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, -1) == 1 &&
             EVP_CipherUpdate(ctx, NULL, &n, aad, (int) aad_size) == 1 &&
             EVP_CipherUpdate(ctx, out, &n, in, (int) size) == 1 && (size_t) n == size &&
             (encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_SIZE, tag) == 1) &&
             EVP_CipherFinal_ex(ctx, out + n, &final) == 1 && final == 0 &&
             (!encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_SIZE, tag) == 1);
        ERR_clear_error();
        if (!ok) {
                OPENSSL_cleanse(out, size);
                return -EBADMSG;
        }
        return 0;
}

/* RFC 7516 section 5.2 step 14: the AAD is the protected header exactly as received, in its
 * base64url form, then '.' and the "aad" member if there is one. It is never re-serialized:
 * another JSON writer's spelling of the same header would be other bytes. */
static int build_aad(const JweParts *parts, Bytes *ret) {
        size_t size = parts->protected.n + (parts->has_aad ? 1 + parts->aad.n : 0);
        uint8_t *aad = malloc(size + 1);

        if (!aad)
                return -ENOMEM;
        memcpy(aad, parts->protected.p, parts->protected.n);
        if (parts->has_aad) {
                aad[parts->protected.n] = '.';
                memcpy(aad + parts->protected.n + 1, parts->aad.p, parts->aad.n);
        }
        *ret = (Bytes){ aad, size };
        return 0;
}

int jwe_decrypt(const char *jwe, size_t size, EVP_PKEY *recipient_key, uint8_t **ret_plaintext,
                size_t *ret_size, char *reason, size_t reason_size) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_(jwe_header_done) JweHeader header = {};
        _cleanup_(bytes_free) Bytes encrypted_key = {}, iv = {}, tag = {}, ciphertext = {},
                                    aad_check = {}, aad = {};
        _cleanup_(bytes_erase) Bytes plaintext = {};
        _cleanup_(erase_key) uint8_t kek[KEY_SIZE] = {};
        _cleanup_(erase_key) uint8_t cek[KEY_SIZE] = {};
        const JweCurve *curve;
        JweParts parts = {};
        char why[128];
        size_t i;
        int r;

        curve = curve_of_key(recipient_key);
        if (!curve || !has_private_key(recipient_key))
                return fail(reason, reason_size, -EINVAL,
                            "the recipient key is not an EC P-256 or P-521 private key");
        if (size > JWE_SIZE_MAX)
                return fail(reason, reason_size, -E2BIG, "JWE is larger than %u bytes",
                            JWE_SIZE_MAX);

        for (i = 0; i < size && is_blank(jwe[i]); i++)
                ;
        if (i < size && jwe[i] == '{') {
                r = json_parse_strict(jwe, size, JSON_DEPTH_MAX, &root, why, sizeof why);
                if (r < 0)
                        return fail(reason, reason_size, -EBADMSG, "JWE: %s", why);
                r = parse_flattened(root, &parts, reason, reason_size);
        } else
                r = parse_compact(jwe, size, &parts, reason, reason_size);
        if (r < 0)
                return r;

        /* The header first: a JWE of a kind devgate refuses is named as such, whatever else
         * is wrong with it. */
        r = parse_header(parts.protected, curve, &header, reason, reason_size);
        if (r < 0)
                return r;

        r = decode("JWE", "encrypted_key", parts.encrypted_key, WRAPPED_KEY_SIZE, &encrypted_key,
                   reason, reason_size);
        if (r >= 0)
                r = decode("JWE", "iv", parts.iv, IV_SIZE, &iv, reason, reason_size);
        if (r >= 0)
                r = decode("JWE", "tag", parts.tag, TAG_SIZE, &tag, reason, reason_size);
        if (r >= 0)
                r = decode("JWE", "ciphertext", parts.ciphertext, 0, &ciphertext, reason,
                           reason_size);
        /* "aad" is base64url too; the AAD is its encoded form, but a value that does not decode
         * is malformed all the same. */
        if (r >= 0 && parts.has_aad)
                r = decode("JWE", "aad", parts.aad, 0, &aad_check, reason, reason_size);
        if (r < 0)
                return r;

        r = derive_kek(recipient_key, header.epk, &header.apu, &header.apv, kek, reason,
                       reason_size);
        if (r < 0)
                return r;
        if (aes_key_wrap(false, kek, encrypted_key.data, encrypted_key.size, cek, sizeof cek) < 0)
                return fail(reason, reason_size, -EBADMSG,
                            "JWE encrypted_key does not unwrap: encrypted to another key, or "
                            "altered");

        r = build_aad(&parts, &aad);
        if (r < 0)
                return r;
        plaintext.size = ciphertext.size;
        plaintext.data = malloc(plaintext.size + 1);
        if (!plaintext.data)
                return -ENOMEM;
        r = aes_gcm(false, cek, iv.data, aad.data, aad.size, ciphertext.data, ciphertext.size,
                    plaintext.data, tag.data);
        if (r == -EBADMSG)
                return fail(reason, reason_size, -EBADMSG, "JWE tag does not verify");
        if (r < 0)
                return r;

        plaintext.data[plaintext.size] = 0;
        *ret_size = plaintext.size;
        *ret_plaintext = TAKE_PTR(plaintext.data);
        return 0;
}

static int coordinates(EVP_PKEY *pkey, const JweCurve *curve, char **ret_x, char **ret_y) {
        _cleanup_free_ char *x = NULL, *y = NULL;
        uint8_t buf[66];
        BIGNUM *bx = NULL, *by = NULL;
        int r = -EIO;

        if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
            EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1 &&
            BN_bn2binpad(bx, buf, (int) curve->size) == (int) curve->size &&
            base64url_encode(buf, curve->size, &x) == 0 &&
            BN_bn2binpad(by, buf, (int) curve->size) == (int) curve->size &&
            base64url_encode(buf, curve->size, &y) == 0)
                r = 0;
        BN_free(bx);
        BN_free(by);
        ERR_clear_error();
        if (r < 0)
                return r;
        *ret_x = TAKE_PTR(x);
        *ret_y = TAKE_PTR(y);
        return 0;
}

int jwe_encrypt(const uint8_t *plaintext, size_t size, EVP_PKEY *recipient_public_key,
                char **ret_json) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ephemeral = NULL;
        _cleanup_free_ char *x = NULL, *y = NULL, *header = NULL, *protected = NULL,
                            *encrypted_key_b64 = NULL, *iv_b64 = NULL, *ciphertext_b64 = NULL,
                            *tag_b64 = NULL, *json = NULL;
        _cleanup_free_ uint8_t *ciphertext = NULL;
        _cleanup_(erase_key) uint8_t kek[KEY_SIZE] = {};
        _cleanup_(erase_key) uint8_t cek[KEY_SIZE] = {};
        uint8_t encrypted_key[WRAPPED_KEY_SIZE], iv[IV_SIZE], tag[TAG_SIZE];
        Bytes none = {};
        const JweCurve *curve;
        int r;

        curve = curve_of_key(recipient_public_key);
        if (!curve)
                return -EINVAL;
        if (size > JWE_PLAINTEXT_SIZE_MAX)
                return -E2BIG;

        /* A fresh key per message: ECDH-ES has no other source of freshness. */
        ephemeral = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve->group_name);
        if (!ephemeral)
                return openssl_fail(NULL, 0, "generate the ephemeral key");
        r = coordinates(ephemeral, curve, &x, &y);
        if (r < 0)
                return r;
        /* Trustee's header, member for member; every value is a constant or base64url. */
        if (asprintf(&header,
                     "{\"alg\":\"" JWE_ALG "\",\"enc\":\"" JWE_ENC "\",\"epk\":{\"crv\":\"%s\","
                     "\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}}",
                     curve->jwk_name, x, y) < 0)
                return -ENOMEM;
        r = base64url_encode((const uint8_t *) header, strlen(header), &protected);
        if (r < 0)
                return r;

        r = derive_kek(ephemeral, recipient_public_key, &none, &none, kek, NULL, 0);
        if (r < 0)
                return r;
        if (RAND_priv_bytes(cek, sizeof cek) != 1 || RAND_bytes(iv, sizeof iv) != 1)
                return openssl_fail(NULL, 0, "get random bytes");
        r = aes_key_wrap(true, kek, cek, sizeof cek, encrypted_key, sizeof encrypted_key);
        if (r < 0)
                return openssl_fail(NULL, 0, "wrap the content key");

        ciphertext = malloc(size + 1);
        if (!ciphertext)
                return -ENOMEM;
        r = aes_gcm(true, cek, iv, protected, strlen(protected), plaintext, size, ciphertext, tag);
        if (r == -EBADMSG)
                return openssl_fail(NULL, 0, "encrypt (AES-256-GCM)");
        if (r < 0)
                return r;

        if (base64url_encode(encrypted_key, sizeof encrypted_key, &encrypted_key_b64) < 0 ||
            base64url_encode(iv, sizeof iv, &iv_b64) < 0 ||
            base64url_encode(ciphertext, size, &ciphertext_b64) < 0 ||
            base64url_encode(tag, sizeof tag, &tag_b64) < 0)
                return -ENOMEM;
        /* The members in the order Trustee's KBS writes them. */
        if (asprintf(&json,
                     "{\"protected\":\"%s\",\"encrypted_key\":\"%s\",\"iv\":\"%s\","
                     "\"ciphertext\":\"%s\",\"tag\":\"%s\"}",
                     protected, encrypted_key_b64, iv_b64, ciphertext_b64, tag_b64) < 0)
                return -ENOMEM;

        *ret_json = TAKE_PTR(json);
        return 0;
}
