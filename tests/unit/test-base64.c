// SPDX-License-Identifier: LGPL-2.1-or-later
#include <glib.h>
#include <stdlib.h>

#include "base64.h"

static void assert_decodes(const char *text, const char *expected, size_t size) {
        uint8_t *out = NULL;
        size_t out_size;
        g_assert_cmpint(base64_decode(text, strlen(text), &out, &out_size), ==, 0);
        g_assert_cmpmem(out, out_size, expected, size);
        free(out);
}

static void test_decode(void) {
        assert_decodes("", "", 0);
        assert_decodes("Zg==", "f", 1);
        assert_decodes("Zm8=", "fo", 2);
        assert_decodes("Zm9v", "foo", 3);
        assert_decodes("Zm9vYmFy", "foobar", 6);
        assert_decodes("AP8A", "\0\377\0", 3);
        assert_decodes("+/+/", "\373\377\277", 3);

        /* One spelling per byte string: everything else is refused. */
        const char *bad[] = {
                "Zg",       /* no padding */
                "Zg=",      /* short padding */
                "Zg===",    /* too much */
                "Zh==",     /* bits the padding says are not there */
                "Zm9=",     /* likewise with one pad */
                "Zm9v\n",   /* whitespace */
                " Zm9v",    /* whitespace */
                "Zm-v",     /* URL-safe alphabet */
                "Zm_v",     /* URL-safe alphabet */
                "Z===",     /* three pads */
                "=Zm9",     /* padding first */
                "Zm=v",     /* padding in the middle */
                "Zg==Zg==", /* padding before the end */
        };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                uint8_t *out = NULL;
                size_t size;
                if (base64_decode(bad[i], strlen(bad[i]), &out, &size) != -EBADMSG)
                        g_error("accepted \"%s\"", bad[i]);
                g_assert_null(out);
        }
}

static void test_round_trip(void) {
        uint8_t data[256];
        for (size_t i = 0; i < sizeof data; i++)
                data[i] = (uint8_t) (i * 37 + 11);
        for (size_t len = 0; len <= sizeof data; len++) {
                char *text = NULL;
                uint8_t *back = NULL;
                size_t back_size;
                g_assert_cmpint(base64_encode(data, len, &text), ==, 0);
                g_assert_cmpuint(strlen(text), ==, (len + 2) / 3 * 4);
                g_assert_cmpint(base64_decode(text, strlen(text), &back, &back_size), ==, 0);
                g_assert_cmpmem(back, back_size, data, len);
                free(text);
                free(back);
        }
}

static void test_url(void) {
        uint8_t data[64], *back = NULL;
        size_t back_size;
        char *text = NULL;

        for (size_t i = 0; i < sizeof data; i++)
                data[i] = (uint8_t) (0xfb + i * 13);
        for (size_t len = 0; len <= sizeof data; len++) {
                g_assert_cmpint(base64url_encode(data, len, &text), ==, 0);
                g_assert_null(strpbrk(text, "+/="));
                g_assert_cmpint(base64url_decode(text, strlen(text), &back, &back_size), ==, 0);
                g_assert_cmpmem(back, back_size, data, len);
                free(text);
                free(back);
        }
        g_assert_cmpint(base64url_decode("-_8", 3, &back, &back_size), ==, 0);
        g_assert_cmpmem(back, back_size, "\373\377", 2);
        free(back);

        const char *bad[] = { "Zg==", "Zm9v+", "+/8", "Z", "Zh", "Zm9", "Zm v" };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                if (base64url_decode(bad[i], strlen(bad[i]), &back, &back_size) != -EBADMSG)
                        g_error("accepted \"%s\"", bad[i]);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/base64/decode", test_decode);
        g_test_add_func("/base64/round-trip", test_round_trip);
        g_test_add_func("/base64/url", test_url);
        return g_test_run();
}
