// SPDX-License-Identifier: LGPL-2.1-or-later
#include <glib.h>

#include "sysfs-id.h"

static int parse(const char *s, bool prefix, unsigned digits, uint32_t *v) {
        return sysfs_parse_hex(s, strlen(s), prefix, digits, v);
}

static void test_hex(void) {
        uint32_t v;
        g_assert_cmpint(parse("0x1af4\n", true, 4, &v), ==, 0);
        g_assert_cmphex(v, ==, 0x1af4);
        g_assert_cmpint(parse("0x1AF4", true, 4, &v), ==, 0);
        g_assert_cmpint(parse("0x020000\n", true, 6, &v), ==, 0);
        g_assert_cmphex(v, ==, 0x020000);
        g_assert_cmpint(parse("1af4\n", false, 4, &v), ==, 0);

        const char *bad[] = { "",       "\n",         "0x",        "0x1af",   "0x1af4f",
                              "1af4",   "0x1af4\n\n", " 0x1af4",   "0x1af4 ", "0x1ag4",
                              "0x-1a4", "0X",         "0x1af4\r\n" };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                if (parse(bad[i], true, 4, &v) != -EBADMSG)
                        g_error("accepted \"%s\"", bad[i]);
        g_assert_cmpint(sysfs_parse_hex("0x1a\0f4", 7, true, 4, &v), ==, -EBADMSG);
}

/* A QEMU USB keyboard: device descriptor, one configuration with one HID interface. */
static const uint8_t keyboard[] = {
        18, 1,    0x00, 0x02, 0, 0, 0,    8,    0x27, 0x06, 0x01, 0x00, 0, 0, 1, 4, 11, 1,
        9,  2,    34,   0,    1, 1, 8,    0xa0, 50,   9,    4,    0,    0, 1, 3, 1, 1,  0,
        9,  0x21, 0x11, 0x01, 0, 1, 0x22, 63,   0,    7,    5,    0x81, 3, 8, 0, 7,
};

static void test_usb_descriptors(void) {
        uint64_t classes[4];
        uint8_t device_class;

        g_assert_cmpint(
                usb_parse_interface_classes(keyboard, sizeof keyboard, classes, &device_class), ==,
                1);
        g_assert_cmphex(classes[0], ==, 1u << 3);
        g_assert_cmpuint(device_class, ==, 0);

        /* Every truncation is rejected or parsed within bounds. */
        for (size_t len = 0; len < sizeof keyboard; len++) {
                int r = usb_parse_interface_classes(keyboard, len, classes, &device_class);
                g_assert_true(r == -EBADMSG || len == 18);
        }

        uint8_t bad[sizeof keyboard];
        memcpy(bad, keyboard, sizeof bad);
        bad[18 + 2] = 200; /* wTotalLength past the end */
        g_assert_cmpint(usb_parse_interface_classes(bad, sizeof bad, classes, &device_class), ==,
                        -EBADMSG);
        memcpy(bad, keyboard, sizeof bad);
        bad[27] = 0; /* zero-length descriptor would loop forever */
        g_assert_cmpint(usb_parse_interface_classes(bad, sizeof bad, classes, &device_class), ==,
                        -EBADMSG);
        memcpy(bad, keyboard, sizeof bad);
        bad[27] = 4; /* interface descriptor too short to hold its class */
        g_assert_cmpint(usb_parse_interface_classes(bad, sizeof bad, classes, &device_class), ==,
                        -EBADMSG);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/sysfs-id/hex", test_hex);
        g_test_add_func("/sysfs-id/usb-descriptors", test_usb_descriptors);
        return g_test_run();
}
