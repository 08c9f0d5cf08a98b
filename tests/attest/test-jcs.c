// SPDX-License-Identifier: LGPL-2.1-or-later
#include <glib.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdint.h>

#include "jcs.h"
#include "json-strict.h"

static json_object *parse(const char *text) {
        char reason[256];
        json_object *o = NULL;
        if (json_parse_strict(text, strlen(text), 16, &o, reason, sizeof reason) < 0)
                g_error("cannot parse %s: %s", text, reason);
        return o;
}

static char *canonical(json_object *o) {
        char *text = NULL;
        size_t len = 0;
        int r = jcs_serialize(o, &text, &len);
        if (r < 0)
                g_error("jcs_serialize: %s", g_strerror(-r));
        g_assert_cmpuint(len, ==, strlen(text));
        return text;
}

static void assert_canonical(const char *input, const char *expected) {
        json_object *o = parse(input);
        char *text = canonical(o);
        g_assert_cmpstr(text, ==, expected);
        free(text);
        json_object_put(o);
}

static void assert_refused(json_object *o, int error) {
        char *text = (char *) "untouched";
        size_t len = 42;
        g_assert_cmpint(jcs_serialize(o, &text, &len), ==, error);
        g_assert_cmpstr(text, ==, "untouched");
        g_assert_cmpuint(len, ==, 42);
        json_object_put(o);
}

/* RFC 8785 section 3.2.2.2, and the example of 3.2.2 without its "numbers", which hold
 * fractions devgate refuses. */
static void test_rfc8785_strings(void) {
        static const char *const string =
                "\"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\"";
        static const char *const expected = "\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"";
        char *input, *output;

        input = g_strdup_printf("{\"string\": %s}", string);
        output = g_strdup_printf("{\"string\":%s}", expected);
        assert_canonical(input, output);
        g_free(input);
        g_free(output);

        input = g_strdup_printf("{\n  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, "
                                "0.000000000000000000000000001],\n  \"string\": %s,\n  "
                                "\"literals\": [null, true, false]\n}",
                                string);
        assert_refused(parse(input), -EINVAL);
        g_free(input);

        input = g_strdup_printf("{\"string\": %s, \"literals\": [null, true, false]}", string);
        output = g_strdup_printf("{\"literals\":[null,true,false],\"string\":%s}", expected);
        assert_canonical(input, output);
        g_free(input);
        g_free(output);
}

/* RFC 8785 section 3.2.3: names sort by UTF-16 code units, so U+1F600 (D83D DE00) comes
 * before U+FB33, where code point or UTF-8 byte order would put it last. */
static void test_rfc8785_sorting(void) {
        assert_canonical("{\n"
                         "  \"\\u20ac\": \"Euro Sign\",\n"
                         "  \"\\r\": \"Carriage Return\",\n"
                         "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
                         "  \"1\": \"One\",\n"
                         "  \"\\ud83d\\ude00\": \"Emoji: Grinning Face\",\n"
                         "  \"\\u0080\": \"Control\",\n"
                         "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"\n"
                         "}",
                         "{\"\\r\":\"Carriage Return\","
                         "\"1\":\"One\","
                         "\"\xc2\x80\":\"Control\","
                         "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
                         "\"\xe2\x82\xac\":\"Euro Sign\","
                         "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
                         "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");

        /* Supplementary characters among themselves keep code point order; all of them sort
         * between U+D7FF and U+E000. */
        assert_canonical("{\"\\uffff\":1,\"\\ue000\":2,\"\\ud83d\\ude00\":3,\"\\ud800\\udc00\":4,"
                         "\"\\ud7ff\":5,\"\\udbff\\udfff\":6}",
                         "{\"\xed\x9f\xbf\":5,\"\xf0\x90\x80\x80\":4,\"\xf0\x9f\x98\x80\":3,"
                         "\"\xf4\x8f\xbf\xbf\":6,\"\xee\x80\x80\":2,\"\xef\xbf\xbf\":1}");

        /* A name sorts before every name it is a prefix of. */
        assert_canonical("{\"ab\":1,\"a\":2,\"\":3}", "{\"\":3,\"a\":2,\"ab\":1}");
}

static void test_values(void) {
        json_object *o;
        char *text;

        assert_canonical("[null,true,false,0,-1,9007199254740991,-9007199254740991]",
                         "[null,true,false,0,-1,9007199254740991,-9007199254740991]");
        assert_canonical("{\"one\": 1.0, \"minus-zero\": -0.0, \"hundred\": 1e2, \"e\": 2.5e1}",
                         "{\"e\":25,\"hundred\":100,\"minus-zero\":0,\"one\":1}");
        assert_canonical(" { \"a\" : [ ] , \"b\" : { } } ", "{\"a\":[],\"b\":{}}");
        assert_canonical("\"a/b\"", "\"a/b\"");
        assert_canonical("\"\\u007f\\u2028\\ufeff\"", "\"\x7f\xe2\x80\xa8\xef\xbb\xbf\"");

        /* U+0000 inside a string: json-c keeps it, JCS escapes it. */
        o = json_object_new_string_len("a\0b", 3);
        text = canonical(o);
        g_assert_cmpstr(text, ==, "\"a\\u0000b\"");
        free(text);
        json_object_put(o);

        /* NULL is JSON null to json-c, and ret_len may be left out. */
        g_assert_cmpint(jcs_serialize(NULL, &text, NULL), ==, 0);
        g_assert_cmpstr(text, ==, "null");
        free(text);

        /* Exactly JCS_MAX_DEPTH levels are fine (json-c's parser stops at 32: build them). */
        GString *deep = g_string_new(NULL);
        o = json_object_new_array();
        for (int i = 1; i < JCS_MAX_DEPTH; i++) {
                json_object *outer = json_object_new_array();
                json_object_array_add(outer, o);
                o = outer;
        }
        for (int i = 0; i < JCS_MAX_DEPTH; i++)
                g_string_append_c(deep, '[');
        for (int i = 0; i < JCS_MAX_DEPTH; i++)
                g_string_append_c(deep, ']');
        text = canonical(o);
        g_assert_cmpstr(text, ==, deep->str);
        free(text);
        g_string_free(deep, TRUE);

        /* One more is not. */
        json_object *outer = json_object_new_array();
        json_object_array_add(outer, o);
        assert_refused(outer, -EINVAL);
}

static void test_refused(void) {
        json_object *o;

        assert_refused(json_object_new_double(1.5), -EINVAL);
        assert_refused(json_object_new_double(-0.001), -EINVAL);
        assert_refused(json_object_new_double(NAN), -EINVAL);
        assert_refused(json_object_new_double(INFINITY), -EINVAL);
        assert_refused(json_object_new_double(-INFINITY), -EINVAL);
        assert_refused(json_object_new_double(1e30), -ERANGE);
        assert_refused(json_object_new_double(9007199254740992.0), -ERANGE);
        assert_refused(json_object_new_int64(INT64_C(9007199254740992)), -ERANGE);
        assert_refused(json_object_new_int64(INT64_C(-9007199254740992)), -ERANGE);
        assert_refused(json_object_new_int64(INT64_MIN), -ERANGE);
        assert_refused(json_object_new_uint64(UINT64_MAX), -ERANGE);

        /* Not UTF-8: a stray continuation byte, overlong "/", an encoded surrogate (CESU-8),
         * beyond U+10FFFF, a sequence cut short, a byte never used. */
        static const char *const bad[] = {
                "\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "a\xff",
        };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                assert_refused(json_object_new_string(bad[i]), -EINVAL);
                o = json_object_new_object();
                json_object_object_add(o, bad[i], json_object_new_int(1));
                assert_refused(o, -EINVAL);
        }

        /* An error deep inside leaves nothing behind either. */
        assert_refused(parse("{\"a\": [1, 2, {\"b\": 0.5}]}"), -EINVAL);

        /* json-c holds two members of one name only when told the name is new. */
        o = json_object_new_object();
        json_object_object_add_ex(o, "a", json_object_new_int(1), JSON_C_OBJECT_ADD_KEY_IS_NEW);
        json_object_object_add_ex(o, "a", json_object_new_int(2), JSON_C_OBJECT_ADD_KEY_IS_NEW);
        g_assert_cmpint(json_object_object_length(o), ==, 2);
        assert_refused(o, -EINVAL);
}

/* Why there is a canonicalizer at all: json-c's compact output equals JCS only when every
 * object was built with its names in sorted order and "/" is left alone. The JWK as
 * guest-components writes it (kty, crv, alg, x, y) is not sorted. */
static void test_json_c_differs(void) {
        static const char *const jwk =
                "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\",\"x\":\"a/b\"}";
        json_object *o = parse(jwk);
        char *text = canonical(o);

        g_assert_cmpstr(
                text, ==,
                "{\"alg\":\"ECDH-ES+A256KW\",\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"a/b\"}");
        g_assert_cmpstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE),
                        ==, jwk);
        json_object_put(o);

        o = parse(text);
        g_assert_cmpstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE),
                        ==, text);
        g_assert_cmpstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), !=, text);
        json_object_put(o);
        free(text);
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

static const char *member(json_object *o, const char *name) {
        json_object *v;
        return json_object_object_get_ex(o, name, &v) ? json_object_get_string(v) : NULL;
}

/* The vectors of make-reportdata-vectors.py: Python's own canonicalization, one digest
 * published in Trustee's tests, and where Python's json.dumps(sort_keys=True) differs. */
static void test_vectors(void) {
        json_object *doc = load_vectors(), *vectors;
        size_t n;

        g_assert_true(json_object_object_get_ex(doc, "jcs", &vectors));
        n = json_object_array_length(vectors);
        g_assert_cmpuint(n, >=, 10);
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(vectors, i), *equal;
                const char *name = member(v, "name"), *sha384 = member(v, "sha384");
                json_object *input = parse(member(v, "input"));
                char *text = canonical(input);

                if (!g_str_equal(text, member(v, "canonical")))
                        g_error("%s: got %s, expected %s", name, text, member(v, "canonical"));
                g_assert_true(json_object_object_get_ex(v, "python_json_dumps_equal", &equal));
                if (!json_object_get_boolean(equal))
                        g_assert_cmpstr(text, !=, member(v, "python_json_dumps"));

                if (sha384) {
                        uint8_t digest[48];
                        unsigned size = 0;
                        char hex[2 * sizeof digest + 1];
                        g_assert_cmpint(
                                EVP_Digest(text, strlen(text), digest, &size, EVP_sha384(), NULL),
                                ==, 1);
                        for (unsigned k = 0; k < size; k++)
                                sprintf(hex + 2 * k, "%02x", digest[k]);
                        g_assert_cmpstr(hex, ==, sha384);
                }
                g_test_message("%s: %s", name, text);
                free(text);
                json_object_put(input);
        }
        json_object_put(doc);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/jcs/rfc8785-strings", test_rfc8785_strings);
        g_test_add_func("/jcs/rfc8785-sorting", test_rfc8785_sorting);
        g_test_add_func("/jcs/values", test_values);
        g_test_add_func("/jcs/refused", test_refused);
        g_test_add_func("/jcs/json-c-differs", test_json_c_differs);
        g_test_add_func("/jcs/vectors", test_vectors);
        return g_test_run();
}
