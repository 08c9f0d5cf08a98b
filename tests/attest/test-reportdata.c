// SPDX-License-Identifier: LGPL-2.1-or-later
#include <glib.h>
#include <openssl/evp.h>
#include <stdint.h>

#include "base64.h"
#include "jcs.h"
#include "json-strict.h"
#include "jwk.h"
#include "reportdata.h"

/* The RFC 7515 appendix A.3 key, on which the other JWKs below are variations. */
#define RFC7515_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define RFC7515_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"

static json_object *parse(const char *text) {
        char reason[256];
        json_object *o = NULL;
        if (json_parse_strict(text, strlen(text), 16, &o, reason, sizeof reason) < 0)
                g_error("cannot parse %s: %s", text, reason);
        return o;
}

static char *canonical(json_object *o) {
        char *text = NULL;
        g_assert_cmpint(jcs_serialize(o, &text, NULL), ==, 0);
        return text;
}

static char *hex(const uint8_t *data, size_t size) {
        char *text = g_malloc(2 * size + 1);
        for (size_t i = 0; i < size; i++)
                sprintf(text + 2 * i, "%02x", data[i]);
        text[2 * size] = '\0';
        return text;
}

static const char *member(json_object *o, const char *name) {
        json_object *v;
        return json_object_object_get_ex(o, name, &v) ? json_object_get_string(v) : NULL;
}

static json_object *load_vectors(void) {
        char *path = g_test_build_filename(G_TEST_DIST, "reportdata-vectors.json", NULL);
        char *data = NULL, reason[256];
        json_object *o = NULL;
        gsize size;

        if (!g_file_get_contents(path, &data, &size, NULL))
                g_error("cannot read %s", path);
        if (json_parse_strict(data, size, 16, &o, reason, sizeof reason) < 0)
                g_error("%s: %s", path, reason);
        g_free(data);
        g_free(path);
        return o;
}

/* Every vector of make-reportdata-vectors.py, which computes them with Python's hashlib
 * and its own canonicalization. */
static void test_vectors(void) {
        json_object *doc = load_vectors(), *vectors;
        size_t n;

        g_assert_true(json_object_object_get_ex(doc, "report_data", &vectors));
        n = json_object_array_length(vectors);
        g_assert_cmpuint(n, >=, 8);
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(vectors, i), *jwk, *runtime;
                const char *name = member(v, "name");
                uint8_t report_data[KBS_REPORT_DATA_SIZE];
                EVP_PKEY *pkey = NULL;
                json_object *back = NULL;
                char *text, *text_back, *got;

                g_assert_true(json_object_object_get_ex(v, "tee_pubkey", &jwk));
                g_assert_cmpint(kbs_report_data(member(v, "nonce"), jwk,
                                                member(v, "additional_evidence"), report_data),
                                ==, 0);
                got = hex(report_data, sizeof report_data);
                if (!g_str_equal(got, member(v, "report_data")))
                        g_error("%s: got %s, expected %s", name, got, member(v, "report_data"));
                g_free(got);

                /* The text that was hashed, for a readable failure when the hash differs. */
                runtime = json_object_new_object();
                json_object_object_add(runtime, "tee-pubkey", json_object_get(jwk));
                json_object_object_add(runtime, "nonce",
                                       json_object_new_string(member(v, "nonce")));
                json_object_object_add(runtime, "additional-evidence",
                                       json_object_new_string(member(v, "additional_evidence")));
                text = canonical(runtime);
                g_assert_cmpstr(text, ==, member(v, "canonical"));
                free(text);
                json_object_put(runtime);

                /* Every vector's key is a real P-256 key that reads back to the same JWK,
                 * leading zero bytes included ("short-x"). */
                g_assert_cmpint(jwk_to_public_key(jwk, &pkey), ==, 0);
                g_assert_cmpint(jwk_from_public_key(pkey, &back), ==, 0);
                text = canonical(jwk);
                text_back = canonical(back);
                g_assert_cmpstr(text_back, ==, text);
                free(text);
                free(text_back);
                json_object_put(back);
                EVP_PKEY_free(pkey);
                g_test_message("%s: ok", name);
        }
        json_object_put(doc);
}

static void test_arguments(void) {
        json_object *jwk = parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\","
                                 "\"x\":\"" RFC7515_X "\",\"y\":\"" RFC7515_Y "\"}");
        uint8_t a[KBS_REPORT_DATA_SIZE], b[KBS_REPORT_DATA_SIZE], zero[16] = {};
        json_object *not_object;

        /* No additional evidence is the empty string, not a missing member. */
        g_assert_cmpint(kbs_report_data("n", jwk, NULL, a), ==, 0);
        g_assert_cmpint(kbs_report_data("n", jwk, "", b), ==, 0);
        g_assert_cmpmem(a, sizeof a, b, sizeof b);
        g_assert_cmpmem(a + KBS_REPORT_DATA_DIGEST_SIZE, 16, zero, sizeof zero);

        /* Each input changes the result. */
        g_assert_cmpint(kbs_report_data("m", jwk, "", b), ==, 0);
        g_assert_true(memcmp(a, b, sizeof a) != 0);
        g_assert_cmpint(kbs_report_data("n", jwk, "{}", b), ==, 0);
        g_assert_true(memcmp(a, b, sizeof a) != 0);

        memset(b, 0xaa, sizeof b);
        memcpy(a, b, sizeof a);
        g_assert_cmpint(kbs_report_data(NULL, jwk, "", b), ==, -EINVAL);
        g_assert_cmpint(kbs_report_data("n", NULL, "", b), ==, -EINVAL);
        not_object = json_object_new_string("x");
        g_assert_cmpint(kbs_report_data("n", not_object, "", b), ==, -EINVAL);
        json_object_put(not_object);
        g_assert_cmpint(kbs_report_data("\xff", jwk, "", b), ==, -EINVAL);
        g_assert_cmpint(kbs_report_data("n", jwk, "\xc0\xaf", b), ==, -EINVAL);
        g_assert_cmpmem(a, sizeof a, b, sizeof b);
        json_object_put(jwk);
}

/* The JWK guest-components sends: these five members in this order, coordinates at full
 * size, and never the private key. */
static void test_jwk_generated(void) {
        static const char *const names[] = { "kty", "crv", "alg", "x", "y" };

        for (int round = 0; round < 64; round++) {
                EVP_PKEY *key = NULL, *back = NULL;
                json_object *jwk = NULL;
                uint8_t *bytes = NULL;
                size_t i = 0, size;

                g_assert_cmpint(tee_key_generate(&key), ==, 0);
                g_assert_cmpint(jwk_from_public_key(key, &jwk), ==, 0);
                json_object_object_foreach (jwk, name, value) {
                        g_assert_cmpuint(i, <, G_N_ELEMENTS(names));
                        g_assert_cmpstr(name, ==, names[i++]);
                        g_assert_true(json_object_is_type(value, json_type_string));
                }
                g_assert_cmpuint(i, ==, G_N_ELEMENTS(names));
                g_assert_cmpstr(member(jwk, "kty"), ==, "EC");
                g_assert_cmpstr(member(jwk, "crv"), ==, "P-256");
                g_assert_cmpstr(member(jwk, "alg"), ==, "ECDH-ES+A256KW");
                for (const char *const *c = (const char *const[]){ "x", "y", NULL }; *c; c++) {
                        const char *text = member(jwk, *c);
                        g_assert_cmpuint(strlen(text), ==, 43);
                        g_assert_cmpint(base64url_decode(text, strlen(text), &bytes, &size), ==, 0);
                        g_assert_cmpuint(size, ==, 32);
                        free(bytes);
                }

                g_assert_cmpint(jwk_to_public_key(jwk, &back), ==, 0);
                g_assert_cmpint(EVP_PKEY_eq(key, back), ==, 1);
                EVP_PKEY_free(back);
                EVP_PKEY_free(key);
                json_object_put(jwk);
        }
}

static void test_jwk_other_keys(void) {
        EVP_PKEY *key;
        json_object *jwk = (json_object *) (uintptr_t) 1;

        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        g_assert_nonnull(key);
        g_assert_cmpint(jwk_from_public_key(key, &jwk), ==, -EKEYREJECTED);
        EVP_PKEY_free(key);

        key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        g_assert_nonnull(key);
        g_assert_cmpint(jwk_from_public_key(key, &jwk), ==, -EKEYREJECTED);
        EVP_PKEY_free(key);
        g_assert_true(jwk == (json_object *) (uintptr_t) 1);
}

static void assert_jwk_refused(const char *text, int error) {
        json_object *jwk = parse(text);
        EVP_PKEY *key = (EVP_PKEY *) (uintptr_t) 1;
        int r = jwk_to_public_key(jwk, &key);
        if (r != error)
                g_error("%s: got %s, expected %s", text, g_strerror(-r), g_strerror(-error));
        g_assert_true(key == (EVP_PKEY *) (uintptr_t) 1);
        json_object_put(jwk);
}

#define JWK(kty, crv, alg, x, y)                                                                   \
        "{\"kty\":" kty ",\"crv\":" crv ",\"alg\":" alg ",\"x\":" x ",\"y\":" y "}"
#define EC   "\"EC\""
#define P256 "\"P-256\""
#define ALG  "\"ECDH-ES+A256KW\""
#define X    "\"" RFC7515_X "\""
#define Y    "\"" RFC7515_Y "\""

static void test_jwk_strict(void) {
        EVP_PKEY *key = NULL;
        json_object *jwk;

        jwk = parse(JWK(EC, P256, ALG, X, Y));
        g_assert_cmpint(jwk_to_public_key(jwk, &key), ==, 0);
        EVP_PKEY_free(key);
        json_object_put(jwk);

        /* Not the shape of a TEE public key. */
        assert_jwk_refused("\"EC\"", -EBADMSG);
        assert_jwk_refused("[]", -EBADMSG);
        assert_jwk_refused("{\"kty\":" EC ",\"crv\":" P256 ",\"x\":" X ",\"y\":" Y "}", -EBADMSG);
        assert_jwk_refused("{\"kty\":" EC ",\"crv\":" P256 ",\"alg\":" ALG ",\"x\":" X "}",
                           -EBADMSG);
        assert_jwk_refused("{\"kty\":" EC ",\"crv\":" P256 ",\"alg\":" ALG ",\"x\":" X ",\"y\":" Y
                           ",\"d\":\"" RFC7515_X "\"}",
                           -EBADMSG);
        assert_jwk_refused("{\"kty\":" EC ",\"crv\":" P256 ",\"alg\":" ALG ",\"x\":" X ",\"y\":" Y
                           ",\"kid\":\"1\"}",
                           -EBADMSG);
        assert_jwk_refused("{\"kty\":" EC ",\"crv\":" P256 ",\"alg\":" ALG ",\"x\":" X ",\"z\":" Y
                           "}",
                           -EBADMSG);
        assert_jwk_refused(JWK(EC, P256, ALG, "1", Y), -EBADMSG);
        assert_jwk_refused(JWK(EC, P256, "null", X, Y), -EBADMSG);

        /* Another kind of key. */
        assert_jwk_refused(JWK("\"RSA\"", P256, ALG, X, Y), -EKEYREJECTED);
        assert_jwk_refused(JWK("\"ec\"", P256, ALG, X, Y), -EKEYREJECTED);
        assert_jwk_refused(JWK(EC, "\"P-384\"", ALG, X, Y), -EKEYREJECTED);
        assert_jwk_refused(JWK(EC, "\"secp256r1\"", ALG, X, Y), -EKEYREJECTED);
        assert_jwk_refused(JWK(EC, P256, "\"ECDH-ES\"", X, Y), -EKEYREJECTED);
        assert_jwk_refused(JWK(EC, P256, "\"RSA-OAEP-256\"", X, Y), -EKEYREJECTED);

        /* Coordinates spelled any other way than unpadded base64url of 32 bytes. */
        assert_jwk_refused(JWK(EC, P256, ALG, "\"" RFC7515_X "=\"", Y), -EBADMSG);
        assert_jwk_refused(JWK(EC, P256, ALG, X, "\"x/FEzRu9m36HLN/tue659LNpXW6pCyStikYjKIWI5a0\""),
                           -EBADMSG);
        assert_jwk_refused(JWK(EC, P256, ALG, "\"AA" RFC7515_X "\"", Y), -EBADMSG);
        assert_jwk_refused(JWK(EC, P256, ALG, "\"83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"", Y),
                           -EBADMSG);
        /* 33 bytes: the same x with a zero byte in front. */
        assert_jwk_refused(
                JWK(EC, P256, ALG, "\"AH_Nzidw9sRdQYPL7m_bS3tYBzM1e-nvE7rPbjx70VRF\"", Y),
                -EBADMSG);
        assert_jwk_refused(JWK(EC, P256, ALG, "\"\"", Y), -EBADMSG);

        /* Well spelled, but not a point of the curve: y with one bit flipped; x equal to
         * the field prime; the origin. */
        assert_jwk_refused(JWK(EC, P256, ALG, X, "\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a4\""),
                           -EKEYREJECTED);
        assert_jwk_refused(JWK(EC, P256, ALG, "\"_____wAAAAEAAAAAAAAAAAAAAAD_______________8\"", Y),
                           -EKEYREJECTED);
        assert_jwk_refused(JWK(EC, P256, ALG, "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"",
                               "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\""),
                           -EKEYREJECTED);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/reportdata/vectors", test_vectors);
        g_test_add_func("/reportdata/arguments", test_arguments);
        g_test_add_func("/jwk/generated", test_jwk_generated);
        g_test_add_func("/jwk/other-keys", test_jwk_other_keys);
        g_test_add_func("/jwk/strict", test_jwk_strict);
        return g_test_run();
}
