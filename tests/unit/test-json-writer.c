// SPDX-License-Identifier: LGPL-2.1-or-later
#include <glib.h>
#include <json-c/json.h>

#include "json-writer.h"

/* Writes one string and reads it back with json-c: what goes in must come out. */
static void assert_round_trip(const char *s) {
        JsonWriter w = {};
        char *text;
        size_t len;

        json_writer_begin(&w, '[');
        json_writer_string(&w, s);
        json_writer_end(&w, ']');
        g_assert_cmpint(json_writer_finish(&w, &text, &len), ==, 0);
        g_assert_cmpuint(strlen(text), ==, len);

        json_object *o = json_tokener_parse(text);
        if (!o)
                g_error("not JSON: %s", text);
        g_assert_cmpstr(json_object_get_string(json_object_array_get_idx(o, 0)), ==, s);
        json_object_put(o);
        free(text);
}

static void test_escaping(void) {
        assert_round_trip("");
        assert_round_trip("plain");
        assert_round_trip("/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0");
        assert_round_trip("\"");
        assert_round_trip("\\");
        assert_round_trip("a\"b\\c\nd\te\x01\x1f");
        /* Special bytes at every position of an 8-byte word, and across word boundaries. */
        for (size_t at = 0; at < 24; at++) {
                char s[32];
                memset(s, 'x', 24);
                s[24] = '\0';
                s[at] = '"';
                assert_round_trip(s);
                s[at] = '\x1b';
                assert_round_trip(s);
                s[at] = '\\';
                assert_round_trip(s);
        }
        /* Bytes of UTF-8 text pass through unchanged. */
        assert_round_trip("caf\xc3\xa9 \xe2\x9c\x93");
}

static void test_document(void) {
        JsonWriter w = {};
        char *text;
        size_t len;

        json_writer_begin(&w, '{');
        json_writer_field(&w, "name", "cc-default");
        json_writer_field(&w, "skipped", "");
        json_writer_field(&w, "also_skipped", NULL);
        json_writer_key(&w, "version");
        json_writer_int(&w, -3);
        json_writer_key(&w, "list");
        json_writer_begin(&w, '[');
        json_writer_begin(&w, '{');
        json_writer_end(&w, '}');
        json_writer_string(&w, "x");
        json_writer_end(&w, ']');
        json_writer_end(&w, '}');
        g_assert_cmpint(json_writer_finish(&w, &text, &len), ==, 0);
        g_assert_cmpstr(text, ==, "{\"name\":\"cc-default\",\"version\":-3,\"list\":[{},\"x\"]}");
        free(text);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/json-writer/escaping", test_escaping);
        g_test_add_func("/json-writer/document", test_document);
        return g_test_run();
}
