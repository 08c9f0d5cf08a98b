// SPDX-License-Identifier: LGPL-2.1-or-later
/* The HTTP layer against a real HTTPS server on loopback (test-http.sh starts it). */
#include <glib.h>
#include <stdio.h>

#include "http.h"
#include "log.h"

static const char *base, *ca, *other_ca, *closed;

static HttpClient *client(const char *ca_file, void (*tweak)(HttpOptions *)) {
        HttpOptions o;
        HttpClient *c = NULL;

        http_options_init(&o);
        o.ca_file = ca_file;
        o.backoff_initial_ms = 10;
        o.backoff_max_ms = 50;
        if (tweak)
                tweak(&o);
        g_assert_cmpint(http_client_new(&o, &c), ==, 0);
        return c;
}

static int get(HttpClient *c, const char *path, HttpResponse *r, char *reason) {
        g_autofree char *url = g_strconcat(base, path, NULL);
        return http_request(c, url, NULL, r, reason, 256);
}

static void test_keep_alive_and_cookie(void) {
        HttpClient *c = client(ca, NULL);
        HttpResponse r = {};
        char reason[256];

        /* The session cookie set by one answer is sent with the next requests. */
        g_assert_cmpint(get(c, "/need-cookie", &r, reason), ==, 0);
        g_assert_cmpint(r.status, ==, 401);
        g_assert_cmpstr(r.problem, ==, "UnAuthenticated: no session");
        http_response_done(&r);
        g_assert_cmpint(get(c, "/set-cookie", &r, reason), ==, 0);
        http_response_done(&r);
        g_assert_cmpint(get(c, "/need-cookie", &r, reason), ==, 0);
        g_assert_cmpint(r.status, ==, 200);
        g_assert_cmpstr(r.body, ==, "{\"session\": \"ok\"}");
        http_response_done(&r);

        g_autofree char *url = g_strconcat(base, "/post", NULL);
        g_assert_cmpint(http_request(c, url, "{\"a\":1}", &r, reason, sizeof reason), ==, 0);
        g_assert_cmpstr(r.body, ==, "{\"echo\": {\"a\": 1}}");
        http_response_done(&r);

        /* Four requests, one TLS connection. */
        g_assert_cmpint(http_client_connections(c), ==, 1);
        http_client_free(c);
}

static void test_problem_details(void) {
        HttpClient *c = client(ca, NULL);
        HttpResponse r = {};
        char reason[256];

        g_assert_cmpint(get(c, "/problem", &r, reason), ==, 0);
        g_assert_cmpint(r.status, ==, 403);
        g_assert_cmpstr(r.problem, ==, "PolicyDeny: the resource policy denies this guest");
        http_response_done(&r);
        g_assert_cmpint(get(c, "/nowhere", &r, reason), ==, 0);
        g_assert_cmpint(r.status, ==, 404);
        http_response_done(&r);
        http_client_free(c);
}

static void test_retries_server_errors(void) {
        HttpClient *c = client(ca, NULL);
        HttpResponse r = {};
        char reason[256];

        g_assert_cmpint(get(c, "/flaky", &r, reason), ==, 0);
        g_assert_cmpint(r.status, ==, 200);
        g_assert_cmpstr(r.body, ==, "{\"after\": 3}");
        http_response_done(&r);

        /* Retries run out: the last 500 is returned to the caller. */
        g_assert_cmpint(get(c, "/always-500", &r, reason), ==, 0);
        g_assert_cmpint(r.status, ==, 500);
        http_response_done(&r);
        http_client_free(c);
}

static void short_deadline(HttpOptions *o) {
        o->deadline_ms = 700;
        o->response_timeout_ms = 300;
}

static void test_deadline(void) {
        HttpClient *c = client(ca, short_deadline);
        HttpResponse r = {};
        char reason[256];

        /* Five attempts of 300 ms would outlast the 700 ms deadline: the deadline ends the
         * call, not the retry count (the server would answer after 3 s). */
        g_assert_cmpint(get(c, "/slow", &r, reason), ==, -ETIMEDOUT);
        g_assert_nonnull(strstr(reason, "no answer within the deadline of 700 ms"));
        http_client_free(c);
}

static void test_oversized(void) {
        HttpClient *c = client(ca, NULL);
        HttpResponse r = {};
        char reason[256];

        g_assert_cmpint(get(c, "/big", &r, reason), ==, -EFBIG);
        g_assert_nonnull(strstr(reason, "larger than 4194304 bytes"));
        g_assert_null(r.body);
        http_client_free(c);
}

static void test_truncated(void) {
        HttpClient *c = client(ca, NULL);
        HttpResponse r = {};
        char reason[256];

        g_assert_cmpint(get(c, "/truncated", &r, reason), <, 0);
        g_assert_null(r.body);
        http_client_free(c);
}

static void test_wrong_ca(void) {
        HttpClient *c = client(other_ca, NULL);
        HttpResponse r = {};
        char reason[256];

        g_assert_cmpint(get(c, "/ok", &r, reason), ==, -EKEYREJECTED);
        g_test_message("%s", reason);
        http_client_free(c);
}

static void bad_pin(HttpOptions *o) {
        o->pinned_pubkey = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
}

static void test_wrong_pin(void) {
        HttpClient *c = client(ca, bad_pin);
        HttpResponse r = {};
        char reason[256];

        g_assert_cmpint(get(c, "/ok", &r, reason), ==, -EKEYREJECTED);
        http_client_free(c);
}

static void test_server_down(void) {
        HttpClient *c = client(ca, NULL);
        g_autofree char *url = g_strconcat(closed, "/ok", NULL);
        HttpResponse r = {};
        char reason[256];

        g_assert_cmpint(http_request(c, url, NULL, &r, reason, sizeof reason), ==, -ECONNREFUSED);
        g_assert_nonnull(strstr(reason, "Couldn't connect"));
        http_client_free(c);
}

static void test_https_only(void) {
        HttpClient *c = client(ca, NULL);
        HttpResponse r = {};
        char reason[256];
        g_autofree char *url = g_strdup_printf("http://%s/ok", base + strlen("https://"));

        g_assert_cmpint(http_request(c, url, NULL, &r, reason, sizeof reason), <, 0);
        http_client_free(c);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        if (argc != 5) {
                printf("1..0 # SKIP run through test-http.sh, which starts the server\n");
                return 0;
        }
        base = argv[1];
        ca = argv[2];
        other_ca = argv[3];
        closed = argv[4];
        log_setup(LOG_TARGET_STDERR, LOG_ERR);

        g_test_add_func("/http/keep-alive-and-cookie", test_keep_alive_and_cookie);
        g_test_add_func("/http/problem-details", test_problem_details);
        g_test_add_func("/http/retries-server-errors", test_retries_server_errors);
        g_test_add_func("/http/deadline", test_deadline);
        g_test_add_func("/http/oversized", test_oversized);
        g_test_add_func("/http/truncated", test_truncated);
        g_test_add_func("/http/wrong-ca", test_wrong_ca);
        g_test_add_func("/http/wrong-pin", test_wrong_pin);
        g_test_add_func("/http/server-down", test_server_down);
        g_test_add_func("/http/https-only", test_https_only);
        return g_test_run();
}
