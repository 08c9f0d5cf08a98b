// SPDX-License-Identifier: LGPL-2.1-or-later
/* The TPM version floor against swtpm: every test starts a fresh swtpm in its own temporary
 * directory, talks to it over a Unix socket (no port to race for) and checks at the end, with
 * tpm2-tools, that no transient object or session was left in the TPM. swtpm dies with the test
 * process (PR_SET_PDEATHSIG), also when an assertion aborts it. Skips only if swtpm is missing. */
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "swtpm-fixture.h"
#include "tpm-counter.h"

#define COUNTER_INDEX DEVGATE_TPM_NV_INDEX
#define BASE_INDEX    (DEVGATE_TPM_NV_INDEX + 1)
/* Another tool's counter, defined and deleted before devgate's. */
#define OTHER_INDEX   UINT32_C(0x01000010)

/* The attributes devgate gives its indexes, in tpm2_nvdefine's words. */
#define COUNTER_ATTRIBUTES "authwrite|authread|nt=counter|no_da"
#define BASE_ATTRIBUTES    "ownerwrite|authread|writedefine|no_da"

static TpmCounter *open_counter(Swtpm *t) {
        TpmCounter *c = NULL;
        g_assert_cmpint(tpm_counter_open(t->tcti, DEVGATE_TPM_NV_INDEX, &c), ==, 0);
        return c;
}

static uint64_t read_version(TpmCounter *c) {
        uint64_t v = 0;
        g_assert_cmpint(tpm_counter_read(c, &v), ==, 0);
        return v;
}

static char *index_string(uint32_t index) {
        return g_strdup_printf("0x%08" PRIx32, index);
}

/* The counter's raw value, as the TPM holds it. */
static uint64_t raw_counter(Swtpm *t) {
        g_autofree char *index = index_string(COUNTER_INDEX);
        g_autofree char *path = g_build_filename(t->dir, "raw", NULL);
        g_autofree char *data = NULL;
        uint64_t v = 0;
        size_t size;

        assert_tool(t, "tpm2_nvread", "-C", index, "-s", "8", "-o", path, index);
        g_assert_true(g_file_get_contents(path, &data, &size, NULL));
        g_assert_cmpuint(size, ==, 8);
        for (size_t i = 0; i < 8; i++)
                v = v << 8 | (uint8_t) data[i];
        g_assert_cmpint(g_unlink(path), ==, 0);
        return v;
}

static void write_base(Swtpm *t, uint64_t v) {
        g_autofree char *index = index_string(BASE_INDEX);
        g_autofree char *path = g_build_filename(t->dir, "base", NULL);
        char data[8];

        for (size_t i = 0; i < 8; i++)
                data[i] = (char) (v >> (8 * (7 - i)));
        g_assert_true(g_file_set_contents(path, data, sizeof data, NULL));
        assert_tool(t, "tpm2_nvwrite", "-C", "o", "-i", path, index);
        g_assert_cmpint(g_unlink(path), ==, 0);
}

static char *read_public(Swtpm *t, uint32_t index) {
        g_autofree char *s = index_string(index);
        char *out = NULL;
        g_assert_cmpint(tpm2_tool(t, &out, "tpm2_nvreadpublic", s, NULL), ==, 0);
        return out;
}

static void test_fresh_tpm(Swtpm *t, gconstpointer data) {
        _cleanup_tpm_counter_ TpmCounter *c = open_counter(t);
        g_autofree char *nv = NULL;
        uint64_t v = 42;

        g_assert_cmpint(tpm_counter_read(c, &v), ==, -ENOENT);
        g_assert_cmpuint(v, ==, 42); /* untouched on failure */
        /* Reading defines nothing. */
        g_assert_cmpint(tpm2_tool(t, &nv, "tpm2_getcap", "handles-nv-index", NULL), ==, 0);
        g_assert_null(strstr(nv, "0x1306467"));
        g_assert_null(strstr(nv, "0x1306468"));
}

static void test_advance(Swtpm *t, gconstpointer data) {
        _cleanup_tpm_counter_ TpmCounter *c = open_counter(t);
        uint64_t raw;

        g_assert_cmpint(tpm_counter_advance(c, 3), ==, 0);
        g_assert_cmpuint(read_version(c), ==, 3);
        raw = raw_counter(t);

        /* Again: no increment. */
        g_assert_cmpint(tpm_counter_advance(c, 3), ==, 0);
        g_assert_cmpuint(read_version(c), ==, 3);
        g_assert_cmpuint(raw_counter(t), ==, raw);

        /* Never back. */
        g_assert_cmpint(tpm_counter_advance(c, 2), ==, -ERANGE);
        g_assert_cmpint(tpm_counter_advance(c, 0), ==, -ERANGE);
        g_assert_cmpuint(read_version(c), ==, 3);
        g_assert_cmpuint(raw_counter(t), ==, raw);

        g_assert_cmpint(tpm_counter_advance(c, 7), ==, 0);
        g_assert_cmpuint(read_version(c), ==, 7);
        g_assert_cmpuint(raw_counter(t), ==, raw + 4);

        /* Another handle on the same TPM, as on the next boot. */
        _cleanup_tpm_counter_ TpmCounter *again = open_counter(t);
        g_assert_cmpuint(read_version(again), ==, 7);
}

static void test_inherited_high_water_mark(Swtpm *t, gconstpointer data) {
        g_autofree char *other = index_string(OTHER_INDEX);
        _cleanup_tpm_counter_ TpmCounter *c = NULL;

        /* Another counter counts to 25 and is deleted: the next counter starts above it. */
        assert_tool(t, "tpm2_nvdefine", "-C", "o", "-s", "8", "-a", COUNTER_ATTRIBUTES, other);
        for (int i = 0; i < 25; i++)
                assert_tool(t, "tpm2_nvincrement", "-C", other, other);
        assert_tool(t, "tpm2_nvundefine", "-C", "o", other);

        c = open_counter(t);
        g_assert_cmpint(tpm_counter_advance(c, 3), ==, 0);
        g_assert_cmpuint(raw_counter(t), >, 25);
        g_assert_cmpuint(read_version(c), ==, 3);
        g_assert_cmpint(tpm_counter_advance(c, 5), ==, 0);
        g_assert_cmpuint(read_version(c), ==, 5);
        g_assert_cmpint(tpm_counter_advance(c, 4), ==, -ERANGE);
}

static void test_max_step(Swtpm *t, gconstpointer data) {
        _cleanup_tpm_counter_ TpmCounter *c = open_counter(t);
        uint64_t raw;

        g_assert_cmpint(tpm_counter_advance(c, 3), ==, 0);
        raw = raw_counter(t);
        g_assert_cmpint(tpm_counter_advance(c, 3 + TPM_COUNTER_MAX_STEP + 1), ==, -E2BIG);
        g_assert_cmpint(tpm_counter_advance(c, UINT64_MAX), ==, -E2BIG);
        g_assert_cmpuint(read_version(c), ==, 3);
        g_assert_cmpuint(raw_counter(t), ==, raw);

        /* The largest step is allowed. */
        g_assert_cmpint(tpm_counter_advance(c, 3 + TPM_COUNTER_MAX_STEP), ==, 0);
        g_assert_cmpuint(read_version(c), ==, 3 + TPM_COUNTER_MAX_STEP);
}

/* The first record costs no increment, whatever the version. */
static void test_first_advance_any_version(Swtpm *t, gconstpointer data) {
        _cleanup_tpm_counter_ TpmCounter *c = open_counter(t);

        g_assert_cmpint(tpm_counter_advance(c, UINT64_C(20250101000000)), ==, 0);
        g_assert_cmpuint(raw_counter(t), ==, 1);
        g_assert_cmpuint(read_version(c), ==, UINT64_C(20250101000000));
        g_assert_cmpint(tpm_counter_advance(c, UINT64_C(20250101000002)), ==, 0);
        g_assert_cmpuint(read_version(c), ==, UINT64_C(20250101000002));
}

/* Whoever may delete the counter cannot roll the floor back with it: a new counter starts above
 * every deleted one. */
static void test_counter_undefined(Swtpm *t, gconstpointer data) {
        g_autofree char *counter = index_string(COUNTER_INDEX);
        _cleanup_tpm_counter_ TpmCounter *c = open_counter(t);
        uint64_t v;

        g_assert_cmpint(tpm_counter_advance(c, 7), ==, 0);
        assert_tool(t, "tpm2_nvundefine", "-C", "o", counter);
        g_assert_cmpint(tpm_counter_read(c, &v), ==, -ENOENT);

        g_assert_cmpint(tpm_counter_advance(c, 2), ==, -ERANGE);
        g_assert_cmpuint(read_version(c), ==, 8);
        g_assert_cmpint(tpm_counter_advance(c, 9), ==, 0);
        g_assert_cmpuint(read_version(c), ==, 9);
}

/* The documented limit: whoever may delete both indexes erases the TPM floor (the floor file in
 * the initramfs is what is left), and may record a lower version after. */
static void test_both_undefined(Swtpm *t, gconstpointer data) {
        g_autofree char *counter = index_string(COUNTER_INDEX), *base = index_string(BASE_INDEX);
        _cleanup_tpm_counter_ TpmCounter *c = open_counter(t);
        uint64_t v;

        g_assert_cmpint(tpm_counter_advance(c, 7), ==, 0);
        assert_tool(t, "tpm2_nvundefine", "-C", "o", counter);
        assert_tool(t, "tpm2_nvundefine", "-C", "o", base);
        g_assert_cmpint(tpm_counter_read(c, &v), ==, -ENOENT);
        g_assert_cmpint(tpm_counter_advance(c, 2), ==, 0);
        g_assert_cmpuint(read_version(c), ==, 2);
}

/* An advance stopped after the counter's first increment, before the base was written. */
static void test_interrupted_before_base_written(Swtpm *t, gconstpointer data) {
        g_autofree char *counter = index_string(COUNTER_INDEX), *base = index_string(BASE_INDEX);
        _cleanup_tpm_counter_ TpmCounter *c = open_counter(t);
        g_autofree char *public = NULL;
        uint64_t v;

        assert_tool(t, "tpm2_nvdefine", "-C", "o", "-s", "8", "-a", BASE_ATTRIBUTES, base);
        assert_tool(t, "tpm2_nvdefine", "-C", "o", "-s", "8", "-a", COUNTER_ATTRIBUTES, counter);
        g_assert_cmpint(tpm_counter_read(c, &v), ==, -ENOENT);
        assert_tool(t, "tpm2_nvincrement", "-C", counter, counter);
        g_assert_cmpint(tpm_counter_read(c, &v), ==, -ENOENT);

        g_assert_cmpint(tpm_counter_advance(c, 4), ==, 0);
        g_assert_cmpuint(read_version(c), ==, 4);
        public = read_public(t, BASE_INDEX);
        g_assert_nonnull(strstr(public, "writelocked"));
}

/* An advance stopped between writing the base and locking it: the next one locks it. */
static void test_interrupted_before_lock(Swtpm *t, gconstpointer data) {
        g_autofree char *counter = index_string(COUNTER_INDEX), *base = index_string(BASE_INDEX);
        _cleanup_tpm_counter_ TpmCounter *c = open_counter(t);
        g_autofree char *public = NULL;

        assert_tool(t, "tpm2_nvdefine", "-C", "o", "-s", "8", "-a", BASE_ATTRIBUTES, base);
        assert_tool(t, "tpm2_nvdefine", "-C", "o", "-s", "8", "-a", COUNTER_ATTRIBUTES, counter);
        assert_tool(t, "tpm2_nvincrement", "-C", counter, counter);
        write_base(t, raw_counter(t) - 4);
        g_assert_cmpuint(read_version(c), ==, 4);

        g_assert_cmpint(tpm_counter_advance(c, 4), ==, 0);
        public = read_public(t, BASE_INDEX);
        g_assert_nonnull(strstr(public, "writelocked"));
        g_assert_cmpint(tpm_counter_advance(c, 6), ==, 0);
        g_assert_cmpuint(read_version(c), ==, 6);
}

/* An index at devgate's handle that devgate did not define is refused, and left alone. */
static void test_foreign_index(Swtpm *t, gconstpointer data) {
        g_autofree char *counter = index_string(COUNTER_INDEX), *base = index_string(BASE_INDEX);
        _cleanup_tpm_counter_ TpmCounter *c = open_counter(t);
        uint64_t v;

        /* A base that could be rewritten: no writedefine. */
        assert_tool(t, "tpm2_nvdefine", "-C", "o", "-s", "8", "-a", "ownerwrite|authread|no_da",
                    base);
        g_assert_cmpint(tpm_counter_advance(c, 3), ==, -EBADMSG);
        assert_tool(t, "tpm2_nvundefine", "-C", "o", base);

        /* Another tool's ordinary index where the counter goes. */
        assert_tool(t, "tpm2_nvdefine", "-C", "o", "-s", "8", "-a", "ownerwrite|ownerread",
                    counter);
        g_assert_cmpint(tpm_counter_read(c, &v), ==, -EBADMSG);
        g_assert_cmpint(tpm_counter_advance(c, 3), ==, -EBADMSG);
        g_autofree char *public = read_public(t, COUNTER_INDEX);
        g_assert_null(strstr(public, "written"));
        /* ...and nothing was defined beside it. */
        g_autofree char *nv = NULL;
        g_assert_cmpint(tpm2_tool(t, &nv, "tpm2_getcap", "handles-nv-index", NULL), ==, 0);
        g_assert_null(strstr(nv, "0x1306468"));
}

/* Defining needs the owner's authorization; once defined, an owner password set later does not
 * stop the counter. */
static void test_owner_password(Swtpm *t, gconstpointer data) {
        _cleanup_tpm_counter_ TpmCounter *c = open_counter(t);

        g_assert_cmpint(tpm_counter_advance(c, 3), ==, 0);
        assert_tool(t, "tpm2_changeauth", "-c", "owner", "secret");
        g_assert_cmpint(tpm_counter_advance(c, 5), ==, 0);
        g_assert_cmpuint(read_version(c), ==, 5);
}

static void test_owner_password_fresh(Swtpm *t, gconstpointer data) {
        _cleanup_tpm_counter_ TpmCounter *c = open_counter(t);
        uint64_t v;

        assert_tool(t, "tpm2_changeauth", "-c", "owner", "secret");
        g_assert_cmpint(tpm_counter_advance(c, 3), ==, -EACCES);
        g_assert_cmpint(tpm_counter_read(c, &v), ==, -ENOENT);
}

static void test_no_tpm(void) {
        g_autofree char *dir = NULL, *missing = NULL, *device = NULL, *tcp = NULL;
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof sa;
        TpmCounter *c = NULL;
        int fd;

        /* A port that is bound but not listening: connections are refused, and nothing else
         * can take it meanwhile. */
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(bind(fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
        g_assert_cmpint(getsockname(fd, (struct sockaddr *) &sa, &len), ==, 0);

        dir = g_dir_make_tmp("devgate-tpm-XXXXXX", NULL);
        g_assert_nonnull(dir);
        missing = g_strdup_printf("swtpm:path=%s/sock", dir);
        device = g_strdup_printf("device:%s/tpmrm0", dir);
        tcp = g_strdup_printf("swtpm:host=127.0.0.1,port=%u", ntohs(sa.sin_port));

        const char *const tctis[] = { tcp, missing, device };
        for (size_t i = 0; i < G_N_ELEMENTS(tctis); i++) {
                gint64 start = g_get_monotonic_time();
                g_assert_cmpint(tpm_counter_open(tctis[i], DEVGATE_TPM_NV_INDEX, &c), ==, -ENODEV);
                g_assert_null(c);
                g_assert_cmpint(g_get_monotonic_time() - start, <, 2 * G_USEC_PER_SEC);
        }
        g_assert_cmpint(tpm_counter_open("no-such-tcti", DEVGATE_TPM_NV_INDEX, &c), ==,
                        -EOPNOTSUPP);
        g_assert_cmpint(tpm_counter_open("swtpm:bogus", DEVGATE_TPM_NV_INDEX, &c), ==, -EINVAL);

        close(fd);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_index_range(void) {
        TpmCounter *c = NULL;

        g_assert_cmpint(tpm_counter_open(NULL, 0x00ffffff, &c), ==, -EINVAL);
        g_assert_cmpint(tpm_counter_open(NULL, 0x013fffff, &c), ==, -EINVAL); /* base outside */
        g_assert_cmpint(tpm_counter_open(NULL, 0x01400000, &c), ==, -EINVAL);
        g_assert_cmpint(tpm_counter_open(NULL, 0x81000001, &c), ==, -EINVAL);
        g_assert_null(c);
}

#define add_swtpm_test(path, fn) g_test_add(path, Swtpm, NULL, swtpm_start, fn, swtpm_stop)

int main(int argc, char *argv[]) {
        if (!swtpm_available()) {
                printf("1..0 # SKIP swtpm is not installed\n");
                return 0;
        }

        g_test_init(&argc, &argv, NULL);
        log_setup(LOG_TARGET_STDERR, g_test_verbose() ? LOG_DEBUG : LOG_ERR);

        add_swtpm_test("/tpm-counter/fresh-tpm", test_fresh_tpm);
        add_swtpm_test("/tpm-counter/advance", test_advance);
        add_swtpm_test("/tpm-counter/inherited-high-water-mark", test_inherited_high_water_mark);
        add_swtpm_test("/tpm-counter/max-step", test_max_step);
        add_swtpm_test("/tpm-counter/first-advance-any-version", test_first_advance_any_version);
        add_swtpm_test("/tpm-counter/counter-undefined", test_counter_undefined);
        add_swtpm_test("/tpm-counter/both-undefined", test_both_undefined);
        add_swtpm_test("/tpm-counter/interrupted/before-base-written",
                       test_interrupted_before_base_written);
        add_swtpm_test("/tpm-counter/interrupted/before-lock", test_interrupted_before_lock);
        add_swtpm_test("/tpm-counter/foreign-index", test_foreign_index);
        add_swtpm_test("/tpm-counter/owner-password/set-later", test_owner_password);
        add_swtpm_test("/tpm-counter/owner-password/set-before", test_owner_password_fresh);
        g_test_add_func("/tpm-counter/no-tpm", test_no_tpm);
        g_test_add_func("/tpm-counter/index-range", test_index_range);
        return g_test_run();
}
