// SPDX-License-Identifier: LGPL-2.1-or-later
#include <glib.h>
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "json-strict.h"
#include "jwe.h"

static EVP_PKEY *p256, *p521;

static EVP_PKEY *new_key(const char *group) {
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
        g_assert_nonnull(k);
        return k;
}

static char *b64(const void *data, size_t size) {
        char *s = NULL;
        g_assert_cmpint(base64url_encode(data, size, &s), ==, 0);
        return s;
}

static uint8_t *unb64(const char *s, size_t *size) {
        uint8_t *d = NULL;
        g_assert_cmpint(base64url_decode(s, strlen(s), &d, size), ==, 0);
        return d;
}

static json_object *parse(const char *text) {
        json_object *o = json_tokener_parse(text);
        g_assert_nonnull(o);
        return o;
}

static char *serialize(json_object *o) {
        char *s = g_strdup(json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return s;
}

static char *encrypt_to(EVP_PKEY *key, const char *text) {
        char *jwe = NULL;
        g_assert_cmpint(jwe_encrypt((const uint8_t *) text, strlen(text), key, &jwe), ==, 0);
        return jwe;
}

static char *member(const char *jwe, const char *name) {
        json_object *o = parse(jwe), *v;
        g_assert_true(json_object_object_get_ex(o, name, &v));
        char *s = g_strdup(json_object_get_string(v));
        json_object_put(o);
        return s;
}

/* A copy of jwe with one member set to a string, or removed (value NULL). */
static char *with_member(const char *jwe, const char *name, const char *value) {
        json_object *o = parse(jwe);
        if (value)
                json_object_object_add(o, name, json_object_new_string(value));
        else
                json_object_object_del(o, name);
        return serialize(o);
}

/* A copy of jwe whose protected header is the given JSON text. */
static char *with_header(const char *jwe, const char *header) {
        g_autofree char *p = b64(header, strlen(header));
        return with_member(jwe, "protected", p);
}

/* The decoded protected header of jwe as JSON text, to edit it. */
static char *header_of(const char *jwe) {
        g_autofree char *p = member(jwe, "protected");
        size_t size;
        uint8_t *h = unb64(p, &size);
        return (char *) h;
}

/* A copy of jwe whose member (base64url) has bit `bit` of its decoded bytes flipped. */
static char *with_flipped_bit(const char *jwe, const char *name, size_t bit) {
        g_autofree char *v = member(jwe, name);
        size_t size;
        g_autofree uint8_t *d = unb64(v, &size);
        g_assert_cmpuint(bit / 8, <, size);
        d[bit / 8] ^= (uint8_t) (1u << (bit % 8));
        g_autofree char *e = b64(d, size);
        return with_member(jwe, name, e);
}

static int decrypt(const char *jwe, EVP_PKEY *key, char **ret_text, char *reason) {
        uint8_t *pt = NULL;
        size_t size = 0;
        int r;

        strcpy(reason, "(none)");
        r = jwe_decrypt(jwe, strlen(jwe), key, &pt, &size, reason, 256);
        if (r < 0) {
                g_assert_null(pt);
                return r;
        }
        g_assert_nonnull(pt);
        g_assert_cmpuint(strlen((char *) pt), ==, size); /* no NUL inside in these tests */
        if (ret_text)
                *ret_text = (char *) pt;
        else
                free(pt);
        return r;
}

static void assert_decrypts(const char *jwe, EVP_PKEY *key, const char *expected) {
        char reason[256], *text = NULL;
        if (decrypt(jwe, key, &text, reason) < 0)
                g_error("refused: %s", reason);
        g_assert_cmpstr(text, ==, expected);
        free(text);
}

static void assert_refused(const char *jwe, EVP_PKEY *key, int error, const char *reason_wanted) {
        char reason[256];
        int r = decrypt(jwe, key, NULL, reason);
        if (r != error || !strstr(reason, reason_wanted))
                g_error("wanted %d \"%s\", got %d \"%s\" for %.200s", error, reason_wanted, r,
                        reason, jwe);
}

static void test_round_trip(void) {
        EVP_PKEY *keys[] = { p256, p521 };
        size_t sizes[] = { 0, 1, 15, 16, 17, 1000, 65537 };

        for (size_t k = 0; k < G_N_ELEMENTS(keys); k++)
                for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
                        g_autofree uint8_t *data = g_malloc(sizes[i] + 1);
                        uint8_t *back = NULL;
                        size_t back_size;
                        char *jwe = NULL, reason[256];

                        for (size_t j = 0; j < sizes[i]; j++)
                                data[j] = (uint8_t) (j * 131 + k);
                        g_assert_cmpint(jwe_encrypt(data, sizes[i], keys[k], &jwe), ==, 0);
                        if (jwe_decrypt(jwe, strlen(jwe), keys[k], &back, &back_size, reason,
                                        sizeof reason) < 0)
                                g_error("size %zu: %s", sizes[i], reason);
                        g_assert_cmpmem(back, back_size, data, sizes[i]);
                        g_assert_cmpint(back[back_size], ==, 0);
                        free(back);
                        free(jwe);
                }
}

/* What the KBS sends, member for member: a flattened JWE with everything in the protected
 * header, and a fresh ephemeral key each time. */
static void test_shape(void) {
        g_autofree char *a = encrypt_to(p256, "x"), *b = encrypt_to(p256, "x");
        g_autofree char *c = encrypt_to(p521, "x");
        json_object *o = parse(a), *h, *epk, *v;
        const char *names[] = { "protected", "encrypted_key", "iv", "ciphertext", "tag" };

        g_assert_cmpint(json_object_object_length(o), ==, G_N_ELEMENTS(names));
        for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
                g_assert_true(json_object_object_get_ex(o, names[i], NULL));
        json_object_put(o);

        g_autofree char *ha = header_of(a), *hb = header_of(b), *hc = header_of(c);
        g_assert_cmpstr(ha, !=, hb);
        h = parse(ha);
        g_assert_true(json_object_object_get_ex(h, "alg", &v));
        g_assert_cmpstr(json_object_get_string(v), ==, "ECDH-ES+A256KW");
        g_assert_true(json_object_object_get_ex(h, "enc", &v));
        g_assert_cmpstr(json_object_get_string(v), ==, "A256GCM");
        g_assert_true(json_object_object_get_ex(h, "epk", &epk));
        g_assert_true(json_object_object_get_ex(epk, "crv", &v));
        g_assert_cmpstr(json_object_get_string(v), ==, "P-256");
        g_assert_false(json_object_object_get_ex(epk, "d", NULL));
        g_assert_true(json_object_object_get_ex(epk, "x", &v));
        g_assert_cmpuint(strlen(json_object_get_string(v)), ==, 43); /* 32 bytes */
        json_object_put(h);
        g_assert_nonnull(strstr(hc, "\"crv\":\"P-521\""));

        g_autofree char *iv = member(a, "iv"), *tag = member(a, "tag"),
                        *key = member(a, "encrypted_key");
        g_assert_cmpuint(strlen(iv), ==, 16);  /* 12 bytes */
        g_assert_cmpuint(strlen(tag), ==, 22); /* 16 bytes */
        g_assert_cmpuint(strlen(key), ==, 54); /* 40 bytes: a wrapped 256-bit key */
}

static void test_size_limits(void) {
        size_t size = JWE_PLAINTEXT_SIZE_MAX;
        g_autofree uint8_t *data = g_malloc0(size + 1);
        uint8_t *back = NULL;
        size_t back_size;
        char *jwe = NULL, reason[256];

        g_assert_cmpint(jwe_encrypt(data, size + 1, p256, &jwe), ==, -E2BIG);
        g_assert_cmpint(jwe_encrypt(data, size, p256, &jwe), ==, 0);
        g_assert_cmpuint(strlen(jwe), <=, JWE_SIZE_MAX);
        g_assert_cmpint(
                jwe_decrypt(jwe, strlen(jwe), p256, &back, &back_size, reason, sizeof reason), ==,
                0);
        g_assert_cmpuint(back_size, ==, size);
        free(back);
        free(jwe);

        /* Refused on its size alone, before anything is parsed or allocated. */
        g_autofree char *big = g_malloc(JWE_SIZE_MAX + 2);
        memset(big, ' ', JWE_SIZE_MAX + 1);
        big[JWE_SIZE_MAX + 1] = 0;
        assert_refused(big, p256, -E2BIG, "JWE is larger than 16777216 bytes");

        /* A protected header past 4 KiB. */
        g_autofree char *ok = encrypt_to(p256, "x");
        g_autofree char *filler = g_strnfill(5000, 'a');
        g_autofree char *h = g_strdup_printf("{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\","
                                             "\"kid\":\"%s\"}",
                                             filler);
        g_autofree char *long_header = with_header(ok, h);
        assert_refused(long_header, p256, -EBADMSG, "JWE protected header is larger than 4096");
}

/* Every part is covered: the protected header and the iv, ciphertext and tag by the GCM tag,
 * the encrypted key and the epk by the key wrap's integrity check. */
static void test_tamper(void) {
        g_autofree char *ok = encrypt_to(p256, "{\"policy\":\"cc-default\",\"version\":3}");
        const char *tag_fails = "JWE tag does not verify";
        const char *unwrap_fails = "JWE encrypted_key does not unwrap";

        assert_decrypts(ok, p256, "{\"policy\":\"cc-default\",\"version\":3}");

        for (size_t bit = 0; bit < 12 * 8; bit++) {
                g_autofree char *t = with_flipped_bit(ok, "iv", bit);
                assert_refused(t, p256, -EBADMSG, tag_fails);
        }
        for (size_t bit = 0; bit < 16 * 8; bit++) {
                g_autofree char *t = with_flipped_bit(ok, "tag", bit);
                assert_refused(t, p256, -EBADMSG, tag_fails);
        }
        for (size_t bit = 0; bit < strlen("{\"policy\":\"cc-default\",\"version\":3}") * 8; bit++) {
                g_autofree char *t = with_flipped_bit(ok, "ciphertext", bit);
                assert_refused(t, p256, -EBADMSG, tag_fails);
        }
        for (size_t bit = 0; bit < 40 * 8; bit++) {
                g_autofree char *t = with_flipped_bit(ok, "encrypted_key", bit);
                assert_refused(t, p256, -EBADMSG, unwrap_fails);
        }

        /* The protected header, still valid and still ours, but other bytes: the same
         * parameters reordered, one more parameter, blanks. Its exact bytes are the AAD. */
        g_autofree char *h = header_of(ok);
        g_autofree char *h_kid = g_strdup_printf("{\"kid\":\"x\",%s", h + 1);
        g_autofree char *h_blank = g_strdup_printf("%s ", h);
        g_autofree char *t1 = with_header(ok, h_kid), *t2 = with_header(ok, h_blank);
        assert_refused(t1, p256, -EBADMSG, tag_fails);
        assert_refused(t2, p256, -EBADMSG, tag_fails);
        /* Bit flips anywhere in it: caught as malformed or by the tag, never accepted. */
        for (size_t bit = 0; bit < strlen(h) * 8; bit++) {
                g_autofree char *t = with_flipped_bit(ok, "protected", bit);
                char reason[256];
                g_assert_cmpint(decrypt(t, p256, NULL, reason), <, 0);
        }

        /* Another epk, a valid point: another KEK, which does not unwrap the key. */
        g_autofree char *other = encrypt_to(p256, "y");
        g_autofree char *other_h = header_of(other);
        g_autofree char *t3 = with_header(ok, other_h);
        assert_refused(t3, p256, -EBADMSG, unwrap_fails);

        /* An "aad" member added, or the ciphertext cut short or made longer. */
        g_autofree char *t4 = with_member(ok, "aad", "eHl6");
        assert_refused(t4, p256, -EBADMSG, tag_fails);
        g_autofree char *ct = member(ok, "ciphertext");
        size_t ct_size;
        g_autofree uint8_t *ct_bytes = unb64(ct, &ct_size);
        g_autofree char *ct_short = b64(ct_bytes, ct_size - 1);
        g_autofree char *t5 = with_member(ok, "ciphertext", ct_short);
        assert_refused(t5, p256, -EBADMSG, tag_fails);
        g_autofree char *ct_long = g_strconcat(ct, "AAAA", NULL);
        g_autofree char *t6 = with_member(ok, "ciphertext", ct_long);
        assert_refused(t6, p256, -EBADMSG, tag_fails);

        /* Parts swapped between two JWEs to the same key. */
        g_autofree char *iv2 = member(other, "iv");
        g_autofree char *t7 = with_member(ok, "iv", iv2);
        assert_refused(t7, p256, -EBADMSG, tag_fails);
        g_autofree char *key2 = member(other, "encrypted_key");
        g_autofree char *t8 = with_member(ok, "encrypted_key", key2);
        assert_refused(t8, p256, -EBADMSG, unwrap_fails);
}

static void test_wrong_key(void) {
        g_autofree char *jwe = encrypt_to(p256, "secret");
        EVP_PKEY *other = new_key("P-256"), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"),
                 *p384 = new_key("P-384");

        assert_refused(jwe, other, -EBADMSG,
                       "JWE encrypted_key does not unwrap: encrypted to another key, or altered");
        assert_refused(jwe, p521, -EBADMSG, "JWE epk is on P-256, the recipient key on P-521");
        assert_refused(jwe, ed, -EINVAL, "not an EC P-256 or P-521 private key");
        assert_refused(jwe, p384, -EINVAL, "not an EC P-256 or P-521 private key");
        assert_refused(jwe, NULL, -EINVAL, "not an EC P-256 or P-521 private key");

        /* The recipient's public key alone cannot decrypt. */
        unsigned char *der = NULL;
        int len = i2d_PUBKEY(p256, &der);
        const unsigned char *p = der;
        EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, len);
        g_assert_nonnull(pub);
        assert_refused(jwe, pub, -EINVAL, "not an EC P-256 or P-521 private key");

        /* Encrypting needs an EC P-256 or P-521 key, public is enough. */
        char *out = NULL;
        g_assert_cmpint(jwe_encrypt((const uint8_t *) "x", 1, ed, &out), ==, -EINVAL);
        g_assert_cmpint(jwe_encrypt((const uint8_t *) "x", 1, p384, &out), ==, -EINVAL);
        g_assert_cmpint(jwe_encrypt((const uint8_t *) "x", 1, pub, &out), ==, 0);
        assert_decrypts(out, p256, "x");
        free(out);

        OPENSSL_free(der);
        EVP_PKEY_free(pub);
        EVP_PKEY_free(other);
        EVP_PKEY_free(ed);
        EVP_PKEY_free(p384);
}

/* The algorithms the KBS also speaks, and others: refused by name, whatever follows. */
static void test_refused_algorithms(void) {
        g_autofree char *ok = encrypt_to(p256, "x");
        g_autofree char *h = header_of(ok);
        const char *epk = strstr(h, "\"epk\"");
        static const struct {
                const char *alg, *enc, *reason;
        } cases[] = {
                { "RSA1_5", "A256GCM",
                  "JWE alg \"RSA1_5\" is not accepted (only \"ECDH-ES+A256KW\")" },
                { "RSA-OAEP-256", "A256GCM", "JWE alg \"RSA-OAEP-256\" is not accepted" },
                { "RSA-OAEP", "A256GCM", "JWE alg \"RSA-OAEP\" is not accepted" },
                { "dir", "A256GCM", "JWE alg \"dir\" is not accepted" },
                { "ECDH-ES", "A256GCM", "JWE alg \"ECDH-ES\" is not accepted" },
                { "ECDH-ES+A128KW", "A256GCM", "JWE alg \"ECDH-ES+A128KW\" is not accepted" },
                { "A256KW", "A256GCM", "JWE alg \"A256KW\" is not accepted" },
                { "none", "A256GCM", "JWE alg \"none\" is not accepted" },
                { "ecdh-es+a256kw", "A256GCM", "JWE alg \"ecdh-es+a256kw\" is not accepted" },
                { "ECDH-ES+A256KW", "A128GCM",
                  "JWE enc \"A128GCM\" is not accepted (only \"A256GCM\")" },
                { "ECDH-ES+A256KW", "A192GCM", "JWE enc \"A192GCM\" is not accepted" },
                { "ECDH-ES+A256KW", "A256CBC-HS512", "JWE enc \"A256CBC-HS512\" is not accepted" },
                /* Only the first 32 characters, and no control characters, reach the reason. */
                { "RSA1_5\\n2024-01-01 devgate: policy applied", "A256GCM",
                  "JWE alg \"RSA1_5?2024-01-01 devgate: polic...\" is not accepted" },
                { "\\u00e9\\\"x", "A256GCM", "JWE alg \"???x\" is not accepted" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *header = g_strdup_printf("{\"alg\":\"%s\",\"enc\":\"%s\",%s",
                                                          cases[i].alg, cases[i].enc, epk);
                g_autofree char *jwe = with_header(ok, header);
                assert_refused(jwe, p256, -EOPNOTSUPP, cases[i].reason);
        }

        /* The header Trustee's KBS writes for RSA1_5, epk and all absent. */
        g_autofree char *trustee = with_header(ok, "{\"alg\":\"RSA1_5\",\"enc\":\"A256GCM\"}");
        assert_refused(trustee, p256, -EOPNOTSUPP, "JWE alg \"RSA1_5\" is not accepted");

        /* Compression, and extensions marked critical. */
        static const struct {
                const char *extra, *reason;
                int error;
        } more[] = {
                { "\"zip\":\"DEF\"", "JWE compression (\"zip\") is not accepted", -EOPNOTSUPP },
                { "\"crit\":[\"exp\"],\"exp\":1",
                  "JWE marks \"exp\" critical, an extension devgate does not implement",
                  -EOPNOTSUPP },
                { "\"crit\":[]", "JWE \"crit\" is not a list of names", -EBADMSG },
                { "\"crit\":\"exp\"", "JWE \"crit\" is not a list of names", -EBADMSG },
                { "\"crit\":[1]", "JWE \"crit\" is not a list of names", -EBADMSG },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(more); i++) {
                g_autofree char *header = g_strdup_printf("{%s,%s", more[i].extra, h + 1);
                g_autofree char *jwe = with_header(ok, header);
                assert_refused(jwe, p256, more[i].error, more[i].reason);
        }

        /* Missing or mistyped. */
        g_autofree char *no_alg = g_strdup_printf("{\"enc\":\"A256GCM\",%s", epk);
        g_autofree char *alg_int = g_strdup_printf("{\"alg\":1,\"enc\":\"A256GCM\",%s", epk);
        g_autofree char *no_enc = g_strdup_printf("{\"alg\":\"ECDH-ES+A256KW\",%s", epk);
        g_autofree char *j1 = with_header(ok, no_alg), *j2 = with_header(ok, alg_int),
                        *j3 = with_header(ok, no_enc);
        assert_refused(j1, p256, -EBADMSG, "JWE protected header has no \"alg\"");
        assert_refused(j2, p256, -EBADMSG, "JWE protected header \"alg\" is not a string");
        assert_refused(j3, p256, -EBADMSG, "JWE protected header has no \"enc\"");
}

/* Parameters outside the protected header, and serializations other than the KBS's. */
static void test_unprotected(void) {
        g_autofree char *ok = encrypt_to(p256, "x");
        json_object *o = parse(ok);
        json_object_object_add(o, "header", parse("{\"kid\":\"k\"}"));
        g_autofree char *with_header_member = serialize(o);
        o = parse(ok);
        json_object_object_add(o, "unprotected", parse("{\"kid\":\"k\"}"));
        g_autofree char *with_unprotected = serialize(o);
        o = parse(ok);
        json_object_object_add(o, "recipients", parse("[{\"encrypted_key\":\"AA\"}]"));
        g_autofree char *general = serialize(o);
        o = parse(ok);
        json_object_object_add(o, "future", json_object_new_string("ignored"));
        g_autofree char *unknown = serialize(o);

        assert_refused(with_header_member, p256, -EOPNOTSUPP,
                       "JWE header parameters outside the protected header (\"header\") are not "
                       "accepted");
        assert_refused(with_unprotected, p256, -EOPNOTSUPP, "(\"unprotected\") are not accepted");
        assert_refused(general, p256, -EOPNOTSUPP,
                       "JWE general JSON serialization (\"recipients\") is not accepted");
        /* RFC 7516 section 7.2.1: members not understood are ignored. */
        assert_decrypts(unknown, p256, "x");
}

static void test_malformed_base64url(void) {
        g_autofree char *ok = encrypt_to(p256, "hello");
        static const struct {
                const char *name, *suffix;
        } cases[] = {
                { "iv", "=" }, { "iv", "==" },  { "tag", "=" },        { "ciphertext", "=" },
                { "iv", " " }, { "tag", "\n" }, { "ciphertext", "*" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *v = member(ok, cases[i].name);
                g_autofree char *bad = g_strconcat(v, cases[i].suffix, NULL);
                g_autofree char *jwe = with_member(ok, cases[i].name, bad);
                g_autofree char *reason =
                        g_strdup_printf("JWE \"%s\" is not valid base64url", cases[i].name);
                assert_refused(jwe, p256, -EBADMSG, reason);
        }

        /* The standard alphabet instead of the URL-safe one, and stray low bits. */
        g_autofree char *iv = member(ok, "iv");
        iv[0] = '+';
        g_autofree char *j1 = with_member(ok, "iv", iv);
        assert_refused(j1, p256, -EBADMSG, "JWE \"iv\" is not valid base64url");
        g_autofree char *tag = member(ok, "tag"); /* 22 characters: the last carries 2 bits */
        tag[21] = tag[21] == 'B' ? 'C' : 'B';
        g_autofree char *j2 = with_member(ok, "tag", tag);
        assert_refused(j2, p256, -EBADMSG, "JWE \"tag\" is not valid base64url");
        g_autofree char *j3 = with_member(ok, "protected", "eyJhbGciOiJ/");
        assert_refused(j3, p256, -EBADMSG, "JWE \"protected\" is not valid base64url");
        g_autofree char *j4 = with_member(ok, "encrypted_key", "AA==");
        assert_refused(j4, p256, -EBADMSG, "JWE \"encrypted_key\" is not valid base64url");

        /* Valid base64url of the wrong length. */
        g_autofree char *iv16 = b64("0123456789abcdef", 16), *tag12 = b64("0123456789ab", 12),
                        *key32 = b64("0123456789abcdef0123456789abcdef", 32);
        g_autofree char *j5 = with_member(ok, "iv", iv16), *j6 = with_member(ok, "tag", tag12),
                        *j7 = with_member(ok, "encrypted_key", key32),
                        *j8 = with_member(ok, "encrypted_key", "");
        assert_refused(j5, p256, -EBADMSG, "JWE \"iv\" is not 12 bytes");
        assert_refused(j6, p256, -EBADMSG, "JWE \"tag\" is not 16 bytes");
        assert_refused(j7, p256, -EBADMSG, "JWE \"encrypted_key\" is not 40 bytes");
        assert_refused(j8, p256, -EBADMSG, "JWE \"encrypted_key\" is not 40 bytes");
}

static void test_duplicate_keys(void) {
        g_autofree char *ok = encrypt_to(p256, "x");
        g_autofree char *iv = member(ok, "iv");
        g_autofree char *iv2 = b64("abcdefghijkl", 12);
        g_autofree char *dup = g_strdup_printf("{\"iv\":\"%s\",%s", iv2, ok + 1);
        g_autofree char *dup_same = g_strdup_printf("{\"iv\":\"%s\",%s", iv, ok + 1);
        assert_refused(dup, p256, -EBADMSG, "JWE: an object names the same key twice");
        assert_refused(dup_same, p256, -EBADMSG, "JWE: an object names the same key twice");

        g_autofree char *h = header_of(ok);
        g_autofree char *h_dup = g_strdup_printf("{\"alg\":\"RSA1_5\",%s", h + 1);
        g_autofree char *j1 = with_header(ok, h_dup);
        assert_refused(j1, p256, -EBADMSG,
                       "JWE protected header: an object names the same key twice");
        /* Inside the epk too: which "x" would count? */
        char *x = strstr(h, "\"x\":");
        g_assert_nonnull(x);
        g_autofree char *h_dup_x = g_strdup_printf("%.*s\"x\":\"AAAA\",%s", (int) (x - h), h, x);
        g_autofree char *j2 = with_header(ok, h_dup_x);
        assert_refused(j2, p256, -EBADMSG,
                       "JWE protected header: an object names the same key twice");
}

static void test_malformed(void) {
        g_autofree char *ok = encrypt_to(p256, "x");
        g_autofree char *h = header_of(ok);
        g_autofree char *epk_start = g_strdup(strstr(h, "\"epk\""));

        assert_refused("", p256, -EBADMSG, "neither a JSON object nor five parts");
        assert_refused("[]", p256, -EBADMSG, "neither a JSON object nor five parts");
        assert_refused("{", p256, -EBADMSG, "JWE: not valid JSON");
        assert_refused("{}", p256, -EBADMSG, "JWE has no \"protected\"");
        assert_refused("{} {}", p256, -EBADMSG, "JWE: not valid JSON");
        assert_refused("\"a.b.c.d.e\"", p256, -EBADMSG, "JWE \"protected\" is not valid base64url");
        assert_refused("a.b.c.d", p256, -EBADMSG, "neither a JSON object nor five parts");
        assert_refused("a.b.c.d.e.f", p256, -EBADMSG, "neither a JSON object nor five parts");
        assert_refused("....", p256, -EBADMSG, "JWE has no protected header");
        assert_refused("{\"protected\":\"\",\"encrypted_key\":\"\",\"iv\":\"\",\"ciphertext\":"
                       "\"\",\"tag\":\"\"}",
                       p256, -EBADMSG, "JWE has no protected header");

        const char *names[] = { "protected", "encrypted_key", "iv", "ciphertext", "tag" };
        for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
                g_autofree char *missing = with_member(ok, names[i], NULL);
                g_autofree char *reason = g_strdup_printf("JWE has no \"%s\"", names[i]);
                assert_refused(missing, p256, -EBADMSG, reason);

                json_object *o = parse(ok);
                json_object_object_add(o, names[i], json_object_new_int(1));
                g_autofree char *typed = serialize(o);
                g_autofree char *reason2 = g_strdup_printf("JWE \"%s\" is not a string", names[i]);
                assert_refused(typed, p256, -EBADMSG, reason2);
        }
        /* A NUL inside a string. */
        g_autofree char *no_tag = with_member(ok, "tag", NULL);
        g_autofree char *nul_jwe = g_strconcat("{\"tag\":\"AAAA\\u0000A\",", no_tag + 1, NULL);
        assert_refused(nul_jwe, p256, -EBADMSG, "JWE \"tag\" is not a string");

        /* The header itself. */
        /* Those ending in ',' get the epk of a real JWE appended. */
        static const struct {
                const char *header, *reason;
        } headers[] = {
                { "[]", "JWE protected header is not a JSON object" },
                { "\"alg\"", "JWE protected header is not a JSON object" },
                { "{\"alg\":\"ECDH-ES+A256KW\"", "JWE protected header: not valid JSON" },
                { "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\"}",
                  "JWE protected header has no \"epk\"" },
                { "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":\"x\"}",
                  "JWE epk is not a JSON object" },
                { "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":{\"kty\":\"RSA\"}}",
                  "JWE epk kty \"RSA\" is not accepted (only \"EC\")" },
                { "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":{\"kty\":\"OKP\","
                  "\"crv\":\"X25519\",\"x\":\"AA\"}}",
                  "JWE epk kty \"OKP\" is not accepted" },
                { "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":{\"kty\":\"EC\","
                  "\"crv\":\"P-384\"}}",
                  "JWE epk crv \"P-384\" is not accepted (only \"P-256\" and \"P-521\")" },
                { "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":{\"kty\":\"EC\","
                  "\"crv\":\"P-256\"}}",
                  "JWE epk has no \"x\"" },
                { "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":{\"kty\":\"EC\","
                  "\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"AAAA\"}}",
                  "JWE epk \"x\" is not 32 bytes" },
                { "{\"a\":[[[[1]]]]}", "JWE protected header: not valid JSON" },
                { "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"apu\":1,",
                  "JWE \"apu\" is not a string" },
                { "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"apv\":\"a=\",",
                  "JWE \"apv\" is not valid base64url" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(headers); i++) {
                const char *text = headers[i].header;
                g_autofree char *header = g_str_has_suffix(text, ",")
                                                  ? g_strconcat(text, epk_start, NULL)
                                                  : g_strdup(text);
                g_autofree char *jwe = with_header(ok, header);
                assert_refused(jwe, p256, -EBADMSG, headers[i].reason);
        }
        g_autofree char *filler = g_strnfill(400, 'A'); /* 300 bytes */
        g_autofree char *big_apu =
                g_strdup_printf("{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"apu\":\"%s\",%s",
                                filler, epk_start);
        g_autofree char *j_apu = with_header(ok, big_apu);
        assert_refused(j_apu, p256, -EBADMSG, "JWE \"apu\" or \"apv\" is larger than 256 bytes");
        g_autofree char *bad_utf8 = with_header(ok, "{\"alg\":\"\xc3\x28\"}");
        assert_refused(bad_utf8, p256, -EBADMSG, "JWE protected header: not valid JSON");
}

/* The epk must be a point on our curve: an invalid-curve attack sends points of small order
 * on another curve to learn the private key bit by bit. */
static void test_epk(void) {
        g_autofree char *ok = encrypt_to(p256, "x");
        g_autofree char *h = header_of(ok);
        json_object *header = parse(h), *epk;
        g_assert_true(json_object_object_get_ex(header, "epk", &epk));

        /* y + 1: off the curve. */
        size_t size;
        g_autofree uint8_t *y =
                unb64(json_object_get_string(json_object_object_get(epk, "y")), &size);
        y[size - 1] ^= 1;
        g_autofree char *y_off = b64(y, size);
        json_object_object_add(epk, "y", json_object_new_string(y_off));
        g_autofree char *h_off = g_strdup(json_object_to_json_string_ext(
                header, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        g_autofree char *j_off = with_header(ok, h_off);
        assert_refused(j_off, p256, -EBADMSG, "JWE epk \"x\", \"y\" is not a point on P-256");

        /* (0, 0) and coordinates past the field prime. */
        uint8_t zero[32] = {}, ff[32];
        memset(ff, 0xff, sizeof ff);
        g_autofree char *z = b64(zero, 32), *f = b64(ff, 32);
        g_autofree char *h_zero = g_strdup_printf(
                "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":{\"kty\":\"EC\","
                "\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}}",
                z, z);
        g_autofree char *h_ff = g_strdup_printf(
                "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":{\"kty\":\"EC\","
                "\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}}",
                f, f);
        g_autofree char *j_zero = with_header(ok, h_zero), *j_ff = with_header(ok, h_ff);
        assert_refused(j_zero, p256, -EBADMSG, "is not a point on P-256");
        assert_refused(j_ff, p256, -EBADMSG, "is not a point on P-256");

        /* A private key in the epk is a sender's mistake worth refusing. */
        json_object_object_add(epk, "d", json_object_new_string(z));
        g_autofree char *h_d = g_strdup(json_object_to_json_string_ext(
                header, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        g_autofree char *j_d = with_header(ok, h_d);
        assert_refused(j_d, p256, -EBADMSG, "JWE epk holds a private key (\"d\")");
        json_object_put(header);

        /* A P-521 epk sent to a P-256 key. */
        g_autofree char *ok521 = encrypt_to(p521, "x");
        g_autofree char *h521 = header_of(ok521);
        g_autofree char *j521 = with_header(ok, h521);
        assert_refused(j521, p256, -EBADMSG, "JWE epk is on P-521, the recipient key on P-256");
}

/* The compact serialization carries the same parts; its first part is the AAD as is. */
static void test_compact(void) {
        g_autofree char *ok = encrypt_to(p256, "compact");
        g_autofree char *p = member(ok, "protected"), *k = member(ok, "encrypted_key"),
                        *iv = member(ok, "iv"), *c = member(ok, "ciphertext"),
                        *t = member(ok, "tag");
        g_autofree char *compact = g_strjoin(".", p, k, iv, c, t, NULL);
        g_autofree char *compact_nl = g_strconcat(compact, "\n", NULL);
        g_autofree char *json_nl = g_strconcat("\n ", ok, "\r\n", NULL);

        assert_decrypts(compact, p256, "compact");
        assert_decrypts(compact_nl, p256, "compact");
        assert_decrypts(json_nl, p256, "compact");

        g_autofree char *lead = g_strconcat(" ", compact, NULL);
        assert_refused(lead, p256, -EBADMSG, "JWE \"protected\" is not valid base64url");
        g_autofree char *swapped = g_strjoin(".", p, k, t, c, iv, NULL);
        assert_refused(swapped, p256, -EBADMSG, "JWE \"iv\" is not 12 bytes");
        c[0] = c[0] == 'A' ? 'B' : 'A';
        g_autofree char *bad = g_strjoin(".", p, k, iv, c, t, NULL);
        assert_refused(bad, p256, -EBADMSG, "JWE tag does not verify");

        /* The size given is what counts, not a NUL. */
        uint8_t *pt = NULL;
        size_t size;
        char reason[256];
        g_assert_cmpint(
                jwe_decrypt(compact, strlen(compact) - 1, p256, &pt, &size, reason, sizeof reason),
                ==, -EBADMSG);
        g_assert_cmpint(jwe_decrypt(compact, strlen(compact), p256, &pt, &size, NULL, 0), ==, 0);
        g_assert_cmpmem(pt, size, "compact", 7);
        free(pt);
}

static char *vector_path(const char *name) {
        return g_build_filename(JWE_VECTORS_DIR, name, NULL);
}

static char *read_vector(const char *name, size_t *size) {
        g_autofree char *path = vector_path(name);
        g_autoptr(GError) error = NULL;
        char *data = NULL;
        gsize len = 0;
        if (!g_file_get_contents(path, &data, &len, &error))
                g_error("%s", error->message);
        if (size)
                *size = len;
        return data;
}

static EVP_PKEY *load_jwk(const char *name) {
        g_autofree char *text = read_vector(name, NULL);
        json_object *jwk = NULL;
        EVP_PKEY *key = NULL;
        char reason[256];

        g_assert_cmpint(json_parse_strict(text, strlen(text), 4, &jwk, reason, sizeof reason), ==,
                        0);
        if (jwe_jwk_to_pkey(jwk, &key, reason, sizeof reason) < 0)
                g_error("%s: %s", name, reason);
        json_object_put(jwk);
        return key;
}

/* Known answers from jose (latchset), an implementation that shares nothing with devgate:
 * see jwe-vectors/make-vectors.sh. */
static void test_vectors(void) {
        static const struct {
                const char *jwe, *key, *plaintext;
        } good[] = {
                { "p256-compact.jwe", "p256.jwk", "msg.txt" },
                { "p256-flattened.json", "p256.jwk", "msg.txt" },
                { "p256-binary.jwe", "p256.jwk", "binary.bin" },
                { "p256-empty.jwe", "p256.jwk", "empty.bin" },
                { "p256-apu-apv.jwe", "p256.jwk", "msg.txt" },
                { "p256-aad.json", "p256.jwk", "msg.txt" },
                { "p521-compact.jwe", "p521.jwk", "msg.txt" },
                { "p521-flattened.json", "p521.jwk", "msg.txt" },
        };
        static const struct {
                const char *jwe, *key, *reason;
                int error;
        } bad[] = {
                { "p256-a128gcm.jwe", "p256.jwk", "JWE enc \"A128GCM\" is not accepted",
                  -EOPNOTSUPP },
                { "p256-ecdh-es.jwe", "p256.jwk", "JWE alg \"ECDH-ES\" is not accepted",
                  -EOPNOTSUPP },
                { "p256-a128kw.jwe", "p256.jwk", "JWE alg \"ECDH-ES+A128KW\" is not accepted",
                  -EOPNOTSUPP },
                { "p256-header-epk.json", "p256.jwk",
                  "JWE header parameters outside the protected header (\"header\") are not "
                  "accepted",
                  -EOPNOTSUPP },
                { "p256-compact.jwe", "p521.jwk", "JWE epk is on P-256, the recipient key on P-521",
                  -EBADMSG },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
                size_t jwe_size, expected_size, size;
                g_autofree char *jwe = read_vector(good[i].jwe, &jwe_size);
                g_autofree char *expected = read_vector(good[i].plaintext, &expected_size);
                EVP_PKEY *key = load_jwk(good[i].key);
                uint8_t *pt = NULL;
                char reason[256];

                if (jwe_decrypt(jwe, jwe_size, key, &pt, &size, reason, sizeof reason) < 0)
                        g_error("%s: %s", good[i].jwe, reason);
                g_assert_cmpmem(pt, size, expected, expected_size);
                free(pt);

                /* And a change of the ciphertext is refused. */
                if (jwe[0] == '{' && expected_size > 0) {
                        g_autofree char *t = with_flipped_bit(jwe, "ciphertext", 0);
                        assert_refused(t, key, -EBADMSG, "JWE tag does not verify");
                }
                EVP_PKEY_free(key);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autofree char *jwe = read_vector(bad[i].jwe, NULL);
                EVP_PKEY *key = load_jwk(bad[i].key);
                assert_refused(jwe, key, bad[i].error, bad[i].reason);
                EVP_PKEY_free(key);
        }

        /* Our own JWE to jose's key decrypts with the key jose made. */
        EVP_PKEY *key = load_jwk("p256.jwk");
        g_autofree char *own = encrypt_to(key, "to jose's key");
        assert_decrypts(own, key, "to jose's key");
        EVP_PKEY_free(key);
}

static int import(const char *text, EVP_PKEY **ret, char *reason) {
        json_object *jwk = parse(text);
        int r = jwe_jwk_to_pkey(jwk, ret, reason, 256);
        json_object_put(jwk);
        return r;
}

static void test_jwk(void) {
        g_autofree char *text = read_vector("p256.jwk", NULL);
        json_object *jwk = parse(text);
        const char *d = json_object_get_string(json_object_object_get(jwk, "d"));
        const char *x = json_object_get_string(json_object_object_get(jwk, "x"));
        const char *y = json_object_get_string(json_object_object_get(jwk, "y"));
        EVP_PKEY *key = NULL;
        char reason[256];

        /* Public only, with the members JWKs often carry. */
        g_autofree char *pub = g_strdup_printf("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\","
                                               "\"y\":\"%s\",\"alg\":\"ECDH-ES+A256KW\","
                                               "\"use\":\"enc\",\"kid\":\"k1\"}",
                                               x, y);
        g_assert_cmpint(import(pub, &key, reason), ==, 0);
        EVP_PKEY_free(key);

        /* Another key's d: the pair does not match. */
        EVP_PKEY *fresh = new_key("P-256");
        BIGNUM *bn = NULL;
        uint8_t buf[32];
        g_assert_cmpint(EVP_PKEY_get_bn_param(fresh, "priv", &bn), ==, 1);
        g_assert_cmpint(BN_bn2binpad(bn, buf, 32), ==, 32);
        BN_clear_free(bn);
        EVP_PKEY_free(fresh);
        g_autofree char *other_d = b64(buf, 32);
        g_autofree char *mismatch = g_strdup_printf(
                "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"d\":\"%s\"}", x, y,
                other_d);
        g_assert_cmpint(import(mismatch, &key, reason), ==, -EBADMSG);
        g_assert_cmpstr(reason, ==, "JWK \"d\" does not belong to its public key");

        /* d = 0 and d past the group order. */
        uint8_t zero[32] = {}, ff[32];
        memset(ff, 0xff, sizeof ff);
        g_autofree char *z = b64(zero, 32), *f = b64(ff, 32);
        g_autofree char *d0 = g_strdup_printf(
                "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"d\":\"%s\"}", x, y,
                z);
        g_autofree char *dff = g_strdup_printf(
                "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"d\":\"%s\"}", x, y,
                f);
        g_assert_cmpint(import(d0, &key, reason), ==, -EBADMSG);
        g_assert_cmpint(import(dff, &key, reason), ==, -EBADMSG);

        /* Short d, short x (leading zero bytes dropped: RFC 7518 forbids it). */
        g_autofree char *d_short = g_strdup_printf(
                "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"d\":\"%.40s\"}", x,
                y, d);
        g_assert_cmpint(import(d_short, &key, reason), ==, -EBADMSG);
        g_assert_cmpstr(reason, ==, "JWK \"d\" is not 32 bytes");
        g_autofree char *x_short = g_strdup_printf(
                "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%.40s\",\"y\":\"%s\"}", x, y);
        g_assert_cmpint(import(x_short, &key, reason), ==, -EBADMSG);
        g_assert_cmpstr(reason, ==, "JWK \"x\" is not 32 bytes");

        g_assert_cmpint(import("{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", &key, reason), ==,
                        -EOPNOTSUPP);
        g_assert_cmpstr(reason, ==, "JWK kty \"RSA\" is not accepted (only \"EC\")");
        g_assert_cmpint(import("{\"kty\":\"EC\",\"crv\":\"secp256k1\"}", &key, reason), ==,
                        -EOPNOTSUPP);
        g_assert_cmpint(import("{\"crv\":\"P-256\"}", &key, reason), ==, -EBADMSG);
        g_assert_cmpstr(reason, ==, "JWK has no \"kty\"");
        g_assert_cmpint(import("[]", &key, reason), ==, -EBADMSG);
        g_assert_cmpstr(reason, ==, "JWK is not a JSON object");
        g_autofree char *d_int = g_strdup_printf(
                "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"d\":1}", x, y);
        g_assert_cmpint(import(d_int, &key, reason), ==, -EBADMSG);
        g_assert_cmpstr(reason, ==, "JWK \"d\" is not a string");
        json_object_put(jwk);
}

int main(int argc, char *argv[]) {
        int r;

        g_test_init(&argc, &argv, NULL);
        p256 = new_key("P-256");
        p521 = new_key("P-521");
        g_test_add_func("/jwe/round-trip", test_round_trip);
        g_test_add_func("/jwe/shape", test_shape);
        g_test_add_func("/jwe/size-limits", test_size_limits);
        g_test_add_func("/jwe/tamper", test_tamper);
        g_test_add_func("/jwe/wrong-key", test_wrong_key);
        g_test_add_func("/jwe/refused-algorithms", test_refused_algorithms);
        g_test_add_func("/jwe/unprotected", test_unprotected);
        g_test_add_func("/jwe/malformed-base64url", test_malformed_base64url);
        g_test_add_func("/jwe/duplicate-keys", test_duplicate_keys);
        g_test_add_func("/jwe/malformed", test_malformed);
        g_test_add_func("/jwe/epk", test_epk);
        g_test_add_func("/jwe/compact", test_compact);
        g_test_add_func("/jwe/vectors", test_vectors);
        g_test_add_func("/jwe/jwk", test_jwk);
        r = g_test_run();
        EVP_PKEY_free(p256);
        EVP_PKEY_free(p521);
        return r;
}
