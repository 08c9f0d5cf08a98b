// SPDX-License-Identifier: LGPL-2.1-or-later
#include <glib.h>

#include "match.h"
#include "virtio-ids.h"

static Device pci_device(uint16_t vendor, uint16_t device, uint16_t subsystem_device,
                         uint32_t class) {
        return (Device){
                .id = { .bus = BUS_PCI,
                        .pci = { .vendor = vendor,
                                 .device = device,
                                 .subsystem_vendor = vendor,
                                 .subsystem_device = subsystem_device,
                                 .class = class } },
        };
}

static bool is_virtio(uint16_t vendor, uint16_t device, uint16_t subsystem_device, uint32_t class,
                      const IdList *types) {
        Device d = pci_device(vendor, device, subsystem_device, class);
        return pci_is_virtio_type(&d.id.pci, types);
}

static void test_virtio_expansion(void) {
        uint32_t net_block_console[] = { 1, 2, 3 };
        IdList types = { net_block_console, 3 };

        /* modern: 0x1040 + type */
        g_assert_true(is_virtio(0x1af4, 0x1041, 0x1100, 0, &types));
        g_assert_true(is_virtio(0x1af4, 0x1043, 0x1100, 0, &types));
        g_assert_false(is_virtio(0x1af4, 0x1044, 0x1100, 0, &types));
        /* transitional: table, not arithmetic; console is 0x1003, 0x1002 is balloon */
        g_assert_true(is_virtio(0x1af4, 0x1000, 1, 0, &types));
        g_assert_true(is_virtio(0x1af4, 0x1001, 2, 0, &types));
        g_assert_true(is_virtio(0x1af4, 0x1003, 3, 0, &types));
        g_assert_false(is_virtio(0x1af4, 0x1002, 5, 0, &types));
        /* a transitional ID whose subsystem device names another type */
        g_assert_false(is_virtio(0x1af4, 0x1000, 4, 0, &types));
        g_assert_false(is_virtio(0x1af4, 0x1003, 2, 0, &types));
        /* another vendor */
        g_assert_false(is_virtio(0x8086, 0x1041, 0x1100, 0, &types));
}

static void test_virtio_names(void) {
        uint32_t t;
        g_assert_cmpint(virtio_type_from_name("vsock", &t), ==, 0);
        g_assert_cmpuint(t, ==, 19);
        g_assert_cmpint(virtio_type_from_name("fs", &t), ==, 0);
        g_assert_cmpuint(t, ==, 26);
        g_assert_cmpint(virtio_type_from_name("floppy", &t), ==, -ENOENT);
        g_assert_cmpstr(virtio_type_to_name(9), ==, "9p");
        g_assert_cmphex(virtio_transitional_pci_id(4), ==, 0x1005);
        g_assert_cmphex(virtio_transitional_pci_id(19), ==, 0);
        g_assert_true(virtio_type_of_pci(0x1af4, 0x1000, 4, &t));
        g_assert_cmpuint(t, ==, 4); /* driven as its subsystem device */
        g_assert_true(virtio_type_of_pci(0x1af4, 0x105a, 0x1100, &t));
        g_assert_cmpuint(t, ==, 26);
        g_assert_false(virtio_type_of_pci(0x1af4, 0x1080, 0, &t));
}

static void test_pci_rule(void) {
        uint32_t vendor[] = { 0x8086 };
        ClassPattern bridges[] = { { 0x060400, 0xffff00 } };
        Rule rule = { .action = ACTION_DENY,
                      .match = {
                              .bus = BUS_PCI, .vendor = { vendor, 1 }, .class = { bridges, 1 } } };
        char why[128];

        Device pci_bridge = pci_device(0x8086, 0x1234, 0, 0x060401);
        g_assert_true(rule_matches(&rule, &pci_bridge, "6.1", why, sizeof why));

        Device ahci = pci_device(0x8086, 0x2922, 0, 0x010601);
        g_assert_false(rule_matches(&rule, &ahci, "6.1", why, sizeof why));
        g_assert_cmpstr(why, ==, "class 010601 is not listed");

        Device other = pci_device(0x1b36, 0x000c, 0, 0x060400);
        g_assert_false(rule_matches(&rule, &other, "6.1", why, sizeof why));
        g_assert_cmpstr(why, ==, "vendor 1b36 is not listed");

        Device unreadable = pci_bridge;
        unreadable.identity_error = -EBADMSG;
        g_assert_false(rule_matches(&rule, &unreadable, "6.1", why, sizeof why));

        Device virtio = { .id = { .bus = BUS_VIRTIO, .virtio = { 1, 0x1af4 } } };
        g_assert_false(rule_matches(&rule, &virtio, "6.1", why, sizeof why));
        g_assert_cmpstr(why, ==, "rule is for the pci bus");

        rule.kernel.min = (char *) "6.6";
        g_assert_false(rule_matches(&rule, &pci_bridge, "6.1.0-28-amd64", why, sizeof why));
        g_assert_true(rule_matches(&rule, &pci_bridge, "6.6.1", why, sizeof why));
}

static Device usb_device(const uint8_t *classes, size_t n) {
        Device d = { .id = { .bus = BUS_USB, .usb = { .vendor = 0x0627, .product = 1 } } };
        for (size_t i = 0; i < n; i++)
                d.id.usb.interface_class[classes[i] / 64] |= UINT64_C(1) << (classes[i] % 64);
        d.id.usb.n_interfaces = (unsigned) n;
        return d;
}

static void test_usb_every_interface(void) {
        uint32_t hid[] = { 0x03 };
        Rule rule = { .action = ACTION_ALLOW,
                      .match = { .bus = BUS_USB, .interface_class = { hid, 1 } } };
        const uint8_t keyboard[] = { 0x03 }, keyboard_and_storage[] = { 0x03, 0x08 };
        char why[128];

        Device k = usb_device(keyboard, 1);
        g_assert_true(rule_matches(&rule, &k, "6.1", why, sizeof why));
        Device ks = usb_device(keyboard_and_storage, 2);
        g_assert_false(rule_matches(&rule, &ks, "6.1", why, sizeof why));
        Device none = usb_device(NULL, 0);
        g_assert_false(rule_matches(&rule, &none, "6.1", why, sizeof why));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/match/virtio-expansion", test_virtio_expansion);
        g_test_add_func("/match/virtio-names", test_virtio_names);
        g_test_add_func("/match/pci-rule", test_pci_rule);
        g_test_add_func("/match/usb-every-interface", test_usb_every_interface);
        return g_test_run();
}
