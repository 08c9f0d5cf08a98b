// SPDX-License-Identifier: LGPL-2.1-or-later
#include <glib.h>

#include "config.h"

static const char good[] = "# the site's attestation server\n"
                           "url = https://kbs.example:8080\n"
                           "ca=/etc/devgate/kbs-ca.pem\n"
                           "\n"
                           "resource = default/devgate-policy/cc-default\n"
                           "\ttee = tpm   \n"
                           "deadline-ms = 90000\n"
                           "retries = 2\n";

static void test_valid(void) {
        AttestConfig c;
        char reason[256];

        attest_config_init(&c);
        g_assert_cmpint(attest_config_parse(&c, good, strlen(good), reason, sizeof reason), ==, 0);
        g_assert_cmpstr(c.url, ==, "https://kbs.example:8080");
        g_assert_cmpstr(c.http.ca_file, ==, "/etc/devgate/kbs-ca.pem");
        g_assert_cmpstr(c.resource, ==, "default/devgate-policy/cc-default");
        g_assert_cmpstr(c.tee, ==, "tpm");
        g_assert_cmpint(c.http.deadline_ms, ==, 90000);
        g_assert_cmpuint(c.http.retries, ==, 2);
        g_assert_cmpint(c.http.connect_timeout_ms, ==, 5000); /* default kept */
        attest_config_done(&c);
}

static void assert_rejected(const char *text, const char *reason_expected) {
        AttestConfig c;
        char reason[256];

        attest_config_init(&c);
        g_assert_cmpint(attest_config_parse(&c, text, strlen(text), reason, sizeof reason), ==,
                        -EINVAL);
        if (!g_str_equal(reason, reason_expected))
                g_error("\"%s\": expected \"%s\", got \"%s\"", text, reason_expected, reason);
        attest_config_done(&c);
}

#define REQUIRED "url = https://k\nca = /ca.pem\nresource = a/b/c\n"

static void test_rejections(void) {
        assert_rejected("url = http://kbs\n", "line 1: url must start with https://");
        assert_rejected(REQUIRED "url = https://other\n", "line 4: \"url\" is set twice");
        assert_rejected(REQUIRED "colour = red\n", "line 4: unknown key \"colour\"");
        assert_rejected(REQUIRED "tee = sample\n",
                        "line 4: tee must be auto, tpm, tdx or snp (\"sample\")");
        assert_rejected("resource = ../../admin/x\n",
                        "line 1: resource must be REPOSITORY/TYPE/TAG of letters, digits, '-', "
                        "'_' and '.'");
        assert_rejected("resource = a/b\n",
                        "line 1: resource must be REPOSITORY/TYPE/TAG of letters, digits, '-', "
                        "'_' and '.'");
        assert_rejected("resource = a/b/c?x=1\n",
                        "line 1: resource must be REPOSITORY/TYPE/TAG of letters, digits, '-', "
                        "'_' and '.'");
        assert_rejected(
                REQUIRED "deadline-ms = -5\n",
                "line 4: deadline-ms must be a number of milliseconds from 1000 to 3600000");
        assert_rejected(
                REQUIRED "deadline-ms = 0\n",
                "line 4: deadline-ms must be a number of milliseconds from 1000 to 3600000");
        assert_rejected(REQUIRED "response-timeout-ms = 0\n", "line 4: response-timeout-ms must be "
                                                              "a number of milliseconds from 100 "
                                                              "to 600000");
        assert_rejected(REQUIRED "backoff-initial-ms = 500\nbackoff-max-ms = 100\n",
                        "line 6: backoff-max-ms (100) is below backoff-initial-ms (500)");
        assert_rejected(
                REQUIRED "deadline-ms = 99999999999999999999\n",
                "line 4: deadline-ms must be a number of milliseconds from 1000 to 3600000");
        assert_rejected(REQUIRED "retries = 1000\n", "line 4: retries must be 0 to 100");
        assert_rejected(REQUIRED "just words\n", "line 4: expected KEY = VALUE");
        assert_rejected(REQUIRED "proxy =\n", "line 4: expected KEY = VALUE");
        assert_rejected(REQUIRED "pinned-pubkey = abc\n",
                        "line 4: pinned-pubkey must be sha256//BASE64 of the public key");
        assert_rejected(REQUIRED "proxy = http://p\r\n", "line 4: control character 0x0d");
        assert_rejected("url = https://k\nca = /ca.pem\n",
                        "line 3: url, resource and ca are required");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/attest-config/valid", test_valid);
        g_test_add_func("/attest-config/rejections", test_rejections);
        return g_test_run();
}
