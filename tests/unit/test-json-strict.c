// SPDX-License-Identifier: LGPL-2.1-or-later
#include <glib.h>

#include "json-strict.h"

static int parse(const char *text, char *reason) {
        json_object *o = NULL;
        int r = json_parse_strict(text, strlen(text), 8, &o, reason, 256);
        json_object_put(o);
        return r;
}

static void test_accepts(void) {
        char reason[256];
        const char *good[] = {
                "{}",
                "[]",
                "{\"a\": 1, \"b\": {\"a\": 2}}",
                "{\"a\": \"x:y\", \"b\": \"\\\":\"}",
                "[{\"a\": 1}, {\"a\": 1}]",
                "{\"a\": [1, {\"b\": 2}]}\n",
                "\"s\"",
        };
        for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
                if (parse(good[i], reason) < 0)
                        g_error("rejected %s: %s", good[i], reason);
}

static void test_duplicate_keys(void) {
        char reason[256];
        const char *bad[] = {
                "{\"a\": 1, \"a\": 2}",
                "{\"a\": {\"x\": 1, \"y\": 2}, \"a\": 3}",
                "{\"a\": 1, \"b\": {\"c\": 1, \"c\": 1}}",
                "[{\"k\": 1, \"k\": 1}]",
                /* The same key spelled with an escape: json-c decodes it to the same key. */
                "{\"a\": 1, \"\\u0061\": 2}",
        };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_assert_cmpint(parse(bad[i], reason), ==, -EBADMSG);
                g_assert_cmpstr(reason, ==, "an object names the same key twice");
        }
}

static void test_rejects(void) {
        char reason[256];
        g_assert_cmpint(parse("{\"a\": 1} {}", reason), ==, -EBADMSG);
        g_assert_cmpint(parse("{\"a\": 1,}", reason), ==, -EBADMSG);
        g_assert_cmpint(parse("[[[[[[[[[[1]]]]]]]]]]", reason), ==, -EBADMSG);
        g_assert_nonnull(strstr(reason, "nesting too deep"));
        g_assert_cmpint(json_parse_strict("{}\0", 3, 8, &(json_object *){ NULL }, reason, 256), ==,
                        -EBADMSG);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/json-strict/accepts", test_accepts);
        g_test_add_func("/json-strict/duplicate-keys", test_duplicate_keys);
        g_test_add_func("/json-strict/rejects", test_rejects);
        return g_test_run();
}
