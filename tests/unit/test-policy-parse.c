// SPDX-License-Identifier: LGPL-2.1-or-later
#include <glib.h>

#include "macro.h"
#include "policy.h"

#define HEAD "{\"format\": 1, \"name\": \"t\", \"version\": 3, "

static Policy *parse_ok(const char *json) {
        PolicyError error = {};
        Policy *p = NULL;
        int r = policy_parse(json, strlen(json), &p, &error);
        if (r < 0)
                g_error("rejected: %s: %s", error.path, error.reason);
        return p;
}

/* The document must be rejected at exactly this path, with a reason containing `reason`. */
static void assert_rejected(const char *json, const char *path, const char *reason) {
        PolicyError error = {};
        Policy *p = NULL;
        g_assert_cmpint(policy_parse(json, strlen(json), &p, &error), ==, -EINVAL);
        g_assert_null(p);
        g_assert_cmpstr(error.path, ==, path);
        if (!strstr(error.reason, reason))
                g_error("reason \"%s\" does not contain \"%s\"", error.reason, reason);
}

static void test_valid(void) {
        _cleanup_(policy_freep) Policy *p = parse_ok(
                HEAD
                "\"description\": \"d\", \"default\": \"deny\", \"rules\": ["
                "{\"comment\": \"c\", \"action\": \"allow\", \"driver\": \"virtio-pci\","
                " \"match\": {\"bus\": \"pci\", \"virtio\": [\"net\", \"block\"]}},"
                "{\"action\": \"deny\", \"match\": {\"bus\": \"pci\", \"class\": [\"0x0604xx\","
                " \"0x010601/0xffff00\"], \"vendor\": \"0x8086\"}},"
                "{\"action\": \"allow\", \"kernel\": {\"min\": \"6.1\", \"max\": \"6.12\"},"
                " \"match\": {\"bus\": \"usb\", \"vendor\": \"0x0627\", \"interface_class\": "
                "\"0x03\"}}]}");

        g_assert_cmpstr(p->name, ==, "t");
        g_assert_cmpint(p->version, ==, 3);
        g_assert_cmpint(p->default_action, ==, ACTION_DENY);
        g_assert_cmpuint(p->n_rules, ==, 3);
        g_assert_cmpstr(p->rules[0].driver, ==, "virtio-pci");
        g_assert_cmpuint(p->rules[0].match.virtio.n, ==, 2);
        g_assert_cmpuint(p->rules[0].match.virtio.ids[0], ==, 1);
        g_assert_cmpuint(p->rules[0].match.virtio.ids[1], ==, 2);
        g_assert_cmpuint(p->rules[1].match.class.n, ==, 2);
        g_assert_cmphex(p->rules[1].match.class.patterns[0].value, ==, 0x060400);
        g_assert_cmphex(p->rules[1].match.class.patterns[0].mask, ==, 0xffff00);
        g_assert_cmphex(p->rules[1].match.class.patterns[1].value, ==, 0x010600);
        g_assert_cmphex(p->rules[1].match.vendor.ids[0], ==, 0x8086);
        g_assert_cmpstr(p->rules[2].kernel.min, ==, "6.1");
        g_assert_cmphex(p->rules[2].match.interface_class.ids[0], ==, 3);
}

static void test_default_is_deny(void) {
        _cleanup_(policy_freep) Policy *p = parse_ok(HEAD "\"rules\": []}");
        g_assert_cmpint(p->default_action, ==, ACTION_DENY);
        g_assert_cmpuint(p->n_rules, ==, 0);
}

static void test_rejections(void) {
        assert_rejected("", "", "not valid JSON");
        assert_rejected("{\"format\": 1", "", "unexpected end");
        assert_rejected("[]", "", "expected a policy object");
        assert_rejected(HEAD "\"rules\": []} x", "", "not valid JSON");
        assert_rejected("{\"name\": \"t\", \"version\": 1, \"rules\": []}", "",
                        "missing \"format\"");
        assert_rejected("{\"format\": 2, \"name\": \"t\", \"version\": 1, \"rules\": []}", "format",
                        "expected 1");
        assert_rejected(HEAD "\"rules\": [], \"colour\": 1}", "colour", "unknown key");
        assert_rejected("{\"format\": 1, \"name\": \"t\", \"version\": -1, \"rules\": []}",
                        "version", "non-negative integer");
        assert_rejected("{\"format\": 1, \"name\": \"t\", \"version\": 1.5, \"rules\": []}",
                        "version", "non-negative integer");
        assert_rejected("{\"format\": 1, \"name\": \"a b\", \"version\": 1, \"rules\": []}", "name",
                        "may contain only");
        assert_rejected("{\"format\": 1, \"name\": \"a\\u0000b\", \"version\": 1, \"rules\": []}",
                        "name", "NUL byte");
        assert_rejected(HEAD "\"description\": \"a\\u001b[2J\", \"rules\": []}", "description",
                        "control character 0x1b");
        assert_rejected(HEAD "\"description\": \"one\\nfake: line\", \"rules\": []}", "description",
                        "control character 0x0a");
        assert_rejected(HEAD "\"description\": \"\xff\", \"rules\": []}", "", "not valid JSON");
        assert_rejected(HEAD "\"default\": \"maybe\", \"rules\": []}", "default",
                        "expected \"allow\" or \"deny\"");
        assert_rejected(HEAD "\"rules\": {}}", "rules", "expected an array");
        assert_rejected(HEAD "\"rules\": [{\"match\": {\"bus\": \"pci\"}}]}", "rules[0]",
                        "missing \"action\"");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"allow\"}]}", "rules[0]",
                        "missing \"match\"");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"allow\", \"match\": {}}]}",
                        "rules[0].match", "missing \"bus\"");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"allow\", \"match\": {\"bus\": \"isa\"}}]}",
                        "rules[0].match.bus", "expected \"pci\", \"virtio\" or \"usb\"");
        assert_rejected(
                HEAD
                "\"rules\": [{\"action\": \"allow\", \"match\": {\"bus\": \"pci\"}},"
                "{\"action\": \"deny\", \"match\": {\"bus\": \"pci\"}},"
                "{\"action\": \"deny\", \"match\": {\"bus\": \"pci\"}},"
                "{\"action\": \"deny\", \"match\": {\"bus\": \"pci\", \"class\": \"0x0604\"}}]}",
                "rules[3].match.class", "expected \"0xCCSSPP\" or \"0xCCSSPP/0xMASK\"");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"allow\", \"match\": {\"bus\": \"pci\","
                             " \"class\": \"0x0604xx/0xffffff\"}}]}",
                        "rules[0].match.class", "expected \"0xCCSSPP\"");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"allow\", \"match\": {\"bus\": \"pci\","
                             " \"subsytem_vendor\": \"0x1af4\"}}]}",
                        "rules[0].match.subsytem_vendor", "not a property of pci devices");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"allow\", \"match\": {\"bus\": \"usb\","
                             " \"class\": \"0x030000\"}}]}",
                        "rules[0].match.class", "not a property of usb devices");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"allow\", \"match\": {\"bus\": \"pci\","
                             " \"vendor\": \"0x11af4\"}}]}",
                        "rules[0].match.vendor", "at most 4 digits");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"allow\", \"match\": {\"bus\": \"pci\","
                             " \"vendor\": 6900}}]}",
                        "rules[0].match.vendor", "expected a string");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"allow\", \"match\": {\"bus\": \"pci\","
                             " \"device\": [\"0x1000\", \"1001\"]}}]}",
                        "rules[0].match.device[1]", "expected a hex ID");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"allow\", \"match\": {\"bus\": \"pci\","
                             " \"device\": []}}]}",
                        "rules[0].match.device", "at least one value");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"allow\", \"match\": {\"bus\": \"virtio\","
                             " \"virtio\": [\"net\", \"floppy\"]}}]}",
                        "rules[0].match.virtio[1]", "unknown virtio device type \"floppy\"");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"allow\", \"match\": {\"bus\": \"pci\","
                             " \"virtio\": \"net\", \"device\": \"0x1041\"}}]}",
                        "rules[0].match.device", "use one or the other");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"deny\", \"driver\": \"ahci\","
                             " \"match\": {\"bus\": \"pci\"}}]}",
                        "rules[0].driver", "only an allow rule");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"allow\", \"driver\": \"usbhid\","
                             " \"match\": {\"bus\": \"usb\"}}]}",
                        "rules[0].driver", "authorized as a whole");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"allow\", \"driver\": \"../x\","
                             " \"match\": {\"bus\": \"pci\"}}]}",
                        "rules[0].driver", "may contain only");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"allow\", \"kernel\": {\"min\": \"6.x\"},"
                             " \"match\": {\"bus\": \"pci\"}}]}",
                        "rules[0].kernel.min", "kernel version");
        assert_rejected(HEAD "\"rules\": [{\"action\": \"allow\", \"kernel\": {},"
                             " \"match\": {\"bus\": \"pci\"}}]}",
                        "rules[0].kernel", "\"min\" and/or \"max\"");
}

static void test_expires(void) {
        _cleanup_(policy_freep) Policy *p = parse_ok(HEAD "\"expires\": \"2027-01-31T00:00:00Z\", "
                                                          "\"rules\": []}");
        g_assert_cmpint(p->expires, ==, 1801353600); /* date -u -d 2027-01-31 +%s */

        const char *bad[] = {
                "2027-02-31T00:00:00Z", /* normalized to March 3rd by strptime */
                "2027-01-31T00:00:60Z",      "2027-01- 1T00:00:00Z", "2027-01-31T00:00:00",
                "2027-01-31T00:00:00+00:00", "2027-01-31 00:00:00Z", "1969-12-31T23:59:59Z",
                "2027-01-31T00:00:00.5Z",
        };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autofree char *json =
                        g_strdup_printf(HEAD "\"expires\": \"%s\", \"rules\": []}", bad[i]);
                assert_rejected(json, "expires", "expected a UTC time");
        }
}

static void test_deep_nesting(void) {
        GString *s = g_string_new(HEAD "\"rules\": ");
        for (int i = 0; i < 10000; i++)
                g_string_append_c(s, '[');
        PolicyError error = {};
        Policy *p = NULL;
        g_assert_cmpint(policy_parse(s->str, s->len, &p, &error), ==, -EINVAL);
        g_assert_nonnull(strstr(error.reason, "not valid JSON"));
        g_string_free(s, TRUE);
}

static void test_kernel_range(void) {
        KernelRange r = { .min = (char *) "6.1", .max = (char *) "6.12" };
        g_assert_true(kernel_range_contains(&r, "6.1.0-28-amd64"));
        g_assert_true(kernel_range_contains(&r, "6.12.9"));
        g_assert_true(kernel_range_contains(&r, "6.9"));
        g_assert_false(kernel_range_contains(&r, "6.0.12"));
        g_assert_false(kernel_range_contains(&r, "6.13.0"));
        g_assert_false(kernel_range_contains(&r, "5.15.0"));
        KernelRange open = {};
        g_assert_true(kernel_range_contains(&open, "4.19"));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/policy/parse/valid", test_valid);
        g_test_add_func("/policy/parse/default-is-deny", test_default_is_deny);
        g_test_add_func("/policy/parse/rejections", test_rejections);
        g_test_add_func("/policy/parse/deep-nesting", test_deep_nesting);
        g_test_add_func("/policy/parse/expires", test_expires);
        g_test_add_func("/policy/kernel-range", test_kernel_range);
        return g_test_run();
}
