// SPDX-License-Identifier: LGPL-2.1-or-later
/* Measuring the applied policy, against a fresh swtpm per test and a fake TDX measurement
 * directory (regular files in a temporary tree). What is checked does not trust devgate's code:
 * digests are recomputed with GLib, PCRs are read back with tpm2-tools, and the log is replayed
 * bank by bank to the value the TPM holds. */
#include <ftw.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "measure.h"
#include "swtpm-fixture.h"

#define DIGEST_MAX 64

typedef struct Fixture {
        Swtpm tpm;
        char *dir; /* the fake root for the TDX tree, and the state directory */
        char *log; /* dir/run/devgate/measure.log: its directories do not exist yet */
        char *tdx; /* dir/sys/devices/virtual/misc/tdx_guest/measurements, once made */
        MeasureOptions options;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
        swtpm_start(&f->tpm, data);
        f->dir = g_dir_make_tmp("devgate-measure-XXXXXX", NULL);
        g_assert_nonnull(f->dir);
        f->log = g_build_filename(f->dir, "run", "devgate", "measure.log", NULL);
        f->tdx = g_build_filename(f->dir, MEASURE_TDX_DIR, NULL);
        f->options = (MeasureOptions){
                .tcti = f->tpm.tcti,
                .rtmr_root = f->dir,
                .log_path = f->log,
        };
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void remove_tree(const char *dir) {
        g_assert_cmpint(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), ==, 0);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        remove_tree(f->dir);
        g_free(f->dir);
        g_free(f->log);
        g_free(f->tdx);
        swtpm_stop(&f->tpm, data);
}

/* A policy as the loader leaves it: only what is measured is filled in. */
static Policy test_policy(int64_t version) {
        g_autofree char *payload = g_strdup_printf("payload of version %" PRId64, version);
        g_autofree char *sha256 = g_compute_checksum_for_string(G_CHECKSUM_SHA256, payload, -1);
        Policy p = { .name = (char *) "test-policy", .version = version };

        g_assert_cmpuint(strlen(sha256), ==, 64);
        memcpy(p.sha256, sha256, 65);
        return p;
}

static char *policy_event(const Policy *p) {
        return g_strdup_printf("devgate:policy name=%s version=%" PRId64 " sha256=%s", p->name,
                               p->version, p->sha256);
}

static GChecksumType checksum_type(const char *bank) {
        if (streq(bank, "sha1"))
                return G_CHECKSUM_SHA1;
        if (streq(bank, "sha256"))
                return G_CHECKSUM_SHA256;
        if (streq(bank, "sha384"))
                return G_CHECKSUM_SHA384;
        g_assert_cmpstr(bank, ==, "sha512");
        return G_CHECKSUM_SHA512;
}

static size_t hash(const char *bank, const void *a, size_t a_size, const void *b, size_t b_size,
                   uint8_t ret[DIGEST_MAX]) {
        g_autoptr(GChecksum) c = g_checksum_new(checksum_type(bank));
        gsize len = DIGEST_MAX;

        g_checksum_update(c, a, a_size);
        if (b)
                g_checksum_update(c, b, b_size);
        g_checksum_get_digest(c, ret, &len);
        return len;
}

static char *hex(const uint8_t *data, size_t size) {
        GString *s = g_string_new(NULL);
        for (size_t i = 0; i < size; i++)
                g_string_append_printf(s, "%02x", data[i]);
        return g_string_free(s, FALSE);
}

/* The register after extending a fresh (zero) one once with the bank's digest of the event. */
static char *extend_zeros(const char *bank, const char *event) {
        uint8_t zeros[DIGEST_MAX] = {}, digest[DIGEST_MAX], value[DIGEST_MAX];
        size_t len = hash(bank, event, strlen(event), NULL, 0, digest);

        hash(bank, zeros, len, digest, len, value);
        return hex(value, len);
}

/* The banks that allocate `pcr`, as tpm2_getcap prints them: "  - sha256: [ 0, 1, ... ]". */
static GPtrArray *allocated_banks(Swtpm *t, unsigned pcr) {
        g_autofree char *out = NULL, *index = g_strdup_printf(" %u,", pcr),
                        *last = g_strdup_printf(" %u ]", pcr);
        g_auto(GStrv) lines = NULL;
        GPtrArray *banks = g_ptr_array_new_with_free_func(g_free);

        g_assert_cmpint(tpm2_tool(t, &out, "tpm2_getcap", "pcrs", NULL), ==, 0);
        lines = g_strsplit(out, "\n", -1);
        for (char **l = lines; *l; l++) {
                const char *s = strstr(*l, "- "), *colon;
                if (!s || !(colon = strchr(s, ':')))
                        continue;
                if (strstr(colon, index) || strstr(colon, last))
                        g_ptr_array_add(banks, g_strndup(s + 2, (gsize) (colon - s - 2)));
        }
        return banks;
}

static char *pcr_read(Fixture *f, const char *bank, unsigned pcr) {
        g_autofree char *spec = g_strdup_printf("%s:%u", bank, pcr);
        g_autofree char *path = g_build_filename(f->tpm.dir, "pcr.bin", NULL);
        g_autofree char *data = NULL;
        size_t size;

        assert_tool(&f->tpm, "tpm2_pcrread", spec, "-o", path);
        g_assert_true(g_file_get_contents(path, &data, &size, NULL));
        g_assert_cmpint(g_unlink(path), ==, 0);
        return hex((const uint8_t *) data, size);
}

static void json_free(gpointer o) {
        json_object_put(o);
}

/* The log's records, each line checked to be one JSON object ended by a newline. */
static GPtrArray *read_log(const char *path) {
        g_autofree char *data = NULL;
        g_auto(GStrv) lines = NULL;
        GPtrArray *records = g_ptr_array_new_with_free_func(json_free);
        size_t size;

        g_assert_true(g_file_get_contents(path, &data, &size, NULL));
        if (size == 0)
                return records;
        g_assert_cmpint(data[size - 1], ==, '\n');
        data[size - 1] = '\0';
        lines = g_strsplit(data, "\n", -1);
        for (char **l = lines; *l; l++) {
                json_object *o = json_tokener_parse(*l);
                g_assert_nonnull(o);
                g_assert_true(json_object_is_type(o, json_type_object));
                g_ptr_array_add(records, o);
        }
        return records;
}

static json_object *get(json_object *o, const char *key) {
        json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v))
                g_error("no \"%s\" in %s", key, json_object_to_json_string(o));
        return v;
}

static const char *get_string(json_object *o, const char *key) {
        json_object *v = get(o, key);
        g_assert_true(json_object_is_type(v, json_type_string));
        return json_object_get_string(v);
}

static int64_t get_int(json_object *o, const char *key) {
        json_object *v = get(o, key);
        g_assert_true(json_object_is_type(v, json_type_int));
        return json_object_get_int64(v);
}

/* The digest a record lists for a bank, NULL if none; checked to be the bank's hash of the
 * record's string, as a verifier checks it before it trusts the string. */
static const char *record_digest(json_object *record, const char *bank) {
        json_object *digests = get(record, "digests");
        const char *event = get_string(get(record, "content"), "string");

        for (size_t i = 0; i < json_object_array_length(digests); i++) {
                json_object *d = json_object_array_get_idx(digests, i);
                if (!streq(get_string(d, "hashAlg"), bank))
                        continue;
                uint8_t digest[DIGEST_MAX];
                g_autofree char *expected =
                        hex(digest, hash(bank, event, strlen(event), NULL, 0, digest));
                g_assert_cmpstr(get_string(d, "digest"), ==, expected);
                return get_string(d, "digest");
        }
        return NULL;
}

/* What a verifier does: start from zeros and extend with every record for this register. */
static char *replay(GPtrArray *records, const char *kind, unsigned index, const char *bank) {
        uint8_t value[DIGEST_MAX] = {}, digest[DIGEST_MAX];
        size_t len = hash(bank, "", 0, NULL, 0, digest);

        for (size_t i = 0; i < records->len; i++) {
                json_object *record = records->pdata[i], *v;
                if (!json_object_object_get_ex(record, kind, &v) ||
                    json_object_get_int64(v) != index)
                        continue;
                const char *d = record_digest(record, bank);
                g_assert_nonnull(d);
                g_assert_cmpuint(strlen(d), ==, 2 * len);
                for (size_t j = 0; j < len; j++) {
                        char byte[3] = { d[2 * j], d[2 * j + 1], '\0' };
                        digest[j] = (uint8_t) strtoul(byte, NULL, 16);
                }
                hash(bank, value, len, digest, len, value);
        }
        return hex(value, len);
}

/* Every allocated bank of the PCR holds what the log replays to. */
static void assert_pcr_replays(Fixture *f, unsigned pcr) {
        g_autoptr(GPtrArray) banks = allocated_banks(&f->tpm, pcr);
        g_autoptr(GPtrArray) records = read_log(f->log);

        g_assert_cmpuint(banks->len, >, 0);
        for (size_t i = 0; i < banks->len; i++) {
                g_autofree char *value = pcr_read(f, banks->pdata[i], pcr);
                g_autofree char *replayed = replay(records, "pcr", pcr, banks->pdata[i]);
                g_assert_cmpstr(value, ==, replayed);
        }
}

static void assert_pcr_zero(Fixture *f, unsigned pcr) {
        g_autofree char *value = pcr_read(f, "sha256", pcr);
        g_assert_cmpstr(value, ==,
                        "0000000000000000000000000000000000000000000000000000000000000000");
}

static void assert_record(json_object *record, int64_t recnum, const char *kind, int64_t index,
                          const char *event) {
        json_object *content = get(record, "content");

        g_assert_cmpint(get_int(record, "recnum"), ==, recnum);
        g_assert_cmpint(get_int(record, kind), ==, index);
        g_assert_cmpstr(get_string(record, "content_type"), ==, "devgate");
        g_assert_cmpstr(get_string(content, "eventType"), ==, "policy");
        g_assert_cmpstr(get_string(content, "string"), ==, event);
        g_assert_cmpint(get_int(content, "timestamp"), >, 0);
        g_assert_true(json_object_is_type(get(record, "digests"), json_type_array));
}

static void make_tdx(Fixture *f) {
        g_assert_cmpint(g_mkdir_with_parents(f->tdx, 0755), ==, 0);
        for (unsigned i = 0; i < 4; i++) {
                g_autofree char *name = g_strdup_printf("rtmr%u:sha384", i);
                g_autofree char *path = g_build_filename(f->tdx, name, NULL);
                g_assert_true(g_file_set_contents(path, "", 0, NULL));
        }
}

static char *rtmr_written(Fixture *f, unsigned index) {
        g_autofree char *name = g_strdup_printf("rtmr%u:sha384", index);
        g_autofree char *path = g_build_filename(f->tdx, name, NULL);
        g_autofree char *data = NULL;
        size_t size;

        g_assert_true(g_file_get_contents(path, &data, &size, NULL));
        return hex((const uint8_t *) data, size);
}

static char *sha384_hex(const char *event) {
        return g_compute_checksum_for_string(G_CHECKSUM_SHA384, event, -1);
}

static void test_pcr(Fixture *f, gconstpointer data) {
        Policy p = test_policy(3);
        g_autofree char *event = policy_event(&p);
        g_autoptr(GPtrArray) banks = allocated_banks(&f->tpm, 14);
        g_autoptr(GPtrArray) records = NULL;
        struct stat st;

        g_assert_cmpuint(MEASURE_PCR_DEFAULT, ==, 14);
        g_assert_cmpint(measure_policy(&f->options, &p), ==, 1);

        /* One record, every allocated bank in it, in the TPM's order. */
        records = read_log(f->log);
        g_assert_cmpuint(records->len, ==, 1);
        assert_record(records->pdata[0], 0, "pcr", 14, event);
        json_object *digests = get(records->pdata[0], "digests");
        g_assert_cmpuint(json_object_array_length(digests), ==, banks->len);
        for (size_t i = 0; i < banks->len; i++)
                g_assert_cmpstr(get_string(json_object_array_get_idx(digests, i), "hashAlg"), ==,
                                banks->pdata[i]);

        /* Each bank holds zeros extended with its own hash of the event string. */
        for (size_t i = 0; i < banks->len; i++) {
                g_autofree char *value = pcr_read(f, banks->pdata[i], 14);
                g_autofree char *expected = extend_zeros(banks->pdata[i], event);
                g_assert_cmpstr(value, ==, expected);
                g_assert_nonnull(record_digest(records->pdata[0], banks->pdata[i]));
        }
        assert_pcr_replays(f, 14);

        /* No other PCR moved; the log is 0600 and not marked as being written. */
        assert_pcr_zero(f, 9);
        g_assert_cmpint(stat(f->log, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 07777, ==, 0600);
}

static void test_recnum_increments(Fixture *f, gconstpointer data) {
        Policy p3 = test_policy(3), p4 = test_policy(4);
        g_autofree char *e3 = policy_event(&p3), *e4 = policy_event(&p4);
        g_autoptr(GPtrArray) records = NULL;

        g_assert_cmpint(measure_policy(&f->options, &p3), ==, 1);
        g_assert_cmpint(measure_policy(&f->options, &p4), ==, 1);
        records = read_log(f->log);
        g_assert_cmpuint(records->len, ==, 2);
        assert_record(records->pdata[0], 0, "pcr", 14, e3);
        assert_record(records->pdata[1], 1, "pcr", 14, e4);
        assert_pcr_replays(f, 14);

        /* The same policy again, on the same boot: measured again, numbered on. */
        g_assert_cmpint(measure_policy(&f->options, &p4), ==, 1);
        g_ptr_array_unref(records);
        records = read_log(f->log);
        g_assert_cmpuint(records->len, ==, 3);
        assert_record(records->pdata[2], 2, "pcr", 14, e4);
        assert_pcr_replays(f, 14);
}

/* recnum continues from whatever the last record says. */
static void test_recnum_continues(Fixture *f, gconstpointer data) {
        g_autofree char *dir = g_path_get_dirname(f->log);
        Policy p = test_policy(1);
        g_autoptr(GPtrArray) records = NULL;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(
                f->log, "{\"recnum\":40,\"pcr\":8}\n{\"recnum\":41,\"pcr\":8}\n", -1, NULL));
        g_assert_cmpint(measure_policy(&f->options, &p), ==, 1);
        records = read_log(f->log);
        g_assert_cmpuint(records->len, ==, 3);
        g_assert_cmpint(get_int(records->pdata[2], "recnum"), ==, 42);
}

/* Only the banks the TPM allocates are extended, each with its own hash. */
static void test_allocated_banks(Fixture *f, gconstpointer data) {
        Policy p = test_policy(5);
        g_autofree char *event = policy_event(&p);
        g_autoptr(GPtrArray) banks = NULL, records = NULL;

        assert_tool(&f->tpm, "tpm2_pcrallocate", "sha1:none+sha256:all+sha384:all+sha512:none");
        swtpm_reboot(&f->tpm);
        banks = allocated_banks(&f->tpm, 14);
        g_assert_cmpuint(banks->len, ==, 2);

        g_assert_cmpint(measure_policy(&f->options, &p), ==, 1);
        records = read_log(f->log);
        g_assert_cmpuint(records->len, ==, 1);
        g_assert_cmpuint(json_object_array_length(get(records->pdata[0], "digests")), ==, 2);
        g_assert_nonnull(record_digest(records->pdata[0], "sha256"));
        g_assert_nonnull(record_digest(records->pdata[0], "sha384"));
        g_assert_null(record_digest(records->pdata[0], "sha1"));
        g_assert_null(record_digest(records->pdata[0], "sha512"));
        for (size_t i = 0; i < banks->len; i++) {
                g_autofree char *value = pcr_read(f, banks->pdata[i], 14);
                g_autofree char *expected = extend_zeros(banks->pdata[i], event);
                g_assert_cmpstr(value, ==, expected);
        }
        assert_pcr_replays(f, 14);
}

static void test_other_pcr(Fixture *f, gconstpointer data) {
        Policy p = test_policy(2);
        g_autoptr(GPtrArray) records = NULL;

        f->options.pcr = 8;
        g_assert_cmpint(measure_policy(&f->options, &p), ==, 1);
        records = read_log(f->log);
        g_assert_cmpint(get_int(records->pdata[0], "pcr"), ==, 8);
        assert_pcr_replays(f, 8);
        assert_pcr_zero(f, 14);
}

static void test_rtmr(Fixture *f, gconstpointer data) {
        Policy p = test_policy(3);
        g_autofree char *event = policy_event(&p), *expected = sha384_hex(event);
        g_autoptr(GPtrArray) records = NULL;

        make_tdx(f);
        f->options.tcti = NULL;
        g_assert_cmpint(measure_policy(&f->options, &p), ==, 1);

        /* RTMR2 got the 48 bytes of SHA-384 of the string; the others nothing. */
        g_autofree char *rtmr2 = rtmr_written(f, 2);
        g_assert_cmpstr(rtmr2, ==, expected);
        for (unsigned i = 0; i < 4; i++)
                if (i != 2) {
                        g_autofree char *other = rtmr_written(f, i);
                        g_assert_cmpstr(other, ==, "");
                }

        records = read_log(f->log);
        g_assert_cmpuint(records->len, ==, 1);
        assert_record(records->pdata[0], 0, "rtmr", 2, event);
        g_assert_false(json_object_object_get_ex(records->pdata[0], "pcr", NULL));
        g_assert_cmpuint(json_object_array_length(get(records->pdata[0], "digests")), ==, 1);
        g_assert_cmpstr(record_digest(records->pdata[0], "sha384"), ==, expected);

        /* RTMR3 when asked. */
        Policy p4 = test_policy(4);
        g_autofree char *event4 = policy_event(&p4), *expected4 = sha384_hex(event4);
        f->options.rtmr = 3;
        g_assert_cmpint(measure_policy(&f->options, &p4), ==, 1);
        g_autofree char *rtmr3 = rtmr_written(f, 3);
        g_assert_cmpstr(rtmr3, ==, expected4);
        g_ptr_array_unref(records);
        records = read_log(f->log);
        g_assert_cmpuint(records->len, ==, 2);
        assert_record(records->pdata[1], 1, "rtmr", 3, event4);
}

static void test_tpm_and_rtmr(Fixture *f, gconstpointer data) {
        Policy p = test_policy(3);
        g_autofree char *event = policy_event(&p), *expected = sha384_hex(event);
        g_autoptr(GPtrArray) records = NULL;

        make_tdx(f);
        g_assert_cmpint(measure_policy(&f->options, &p), ==, 2);
        records = read_log(f->log);
        g_assert_cmpuint(records->len, ==, 2);
        assert_record(records->pdata[0], 0, "pcr", 14, event);
        assert_record(records->pdata[1], 1, "rtmr", 2, event);
        g_autofree char *rtmr2 = rtmr_written(f, 2);
        g_assert_cmpstr(rtmr2, ==, expected);
        assert_pcr_replays(f, 14);

        /* Told not to, RTMRs are left alone even when there are some. */
        Policy p4 = test_policy(4);
        g_autofree char *event4 = policy_event(&p4);
        f->options.no_rtmr = true;
        g_assert_cmpint(measure_policy(&f->options, &p4), ==, 1);
        g_autofree char *again = rtmr_written(f, 2);
        g_assert_cmpstr(again, ==, expected);
        g_ptr_array_unref(records);
        records = read_log(f->log);
        g_assert_cmpuint(records->len, ==, 3);
        assert_record(records->pdata[2], 2, "pcr", 14, event4);
}

/* No TPM given and no RTMR: nothing to do, and no log is made. */
static void test_nothing_to_measure(Fixture *f, gconstpointer data) {
        Policy p = test_policy(3);

        f->options.tcti = NULL;
        g_assert_cmpint(measure_policy(&f->options, &p), ==, 0);
        g_assert_false(g_file_test(f->log, G_FILE_TEST_EXISTS));
}

/* A TPM that is not there: a clear error, no record; an RTMR is still measured and recorded. */
static void test_missing_tpm(Fixture *f, gconstpointer data) {
        g_autofree char *tcti = g_strdup_printf("swtpm:path=%s/no-such-socket", f->dir);
        Policy p = test_policy(3);
        g_autofree char *event = policy_event(&p);
        g_autoptr(GPtrArray) records = NULL;
        struct stat st;

        if (g_test_subprocess()) {
                f->options.tcti = tcti;
                g_assert_cmpint(measure_policy(&f->options, &p), ==, -ENODEV);
                return;
        }
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
        g_test_trap_assert_stderr(
                "*Failed to extend PCR 14 of the TPM 'swtpm:path=*/no-such-socket'"
                ": No such device*");

        f->options.tcti = tcti;
        g_assert_cmpint(measure_policy(&f->options, &p), ==, -ENODEV);
        records = read_log(f->log);
        g_assert_cmpuint(records->len, ==, 0);

        make_tdx(f);
        g_assert_cmpint(measure_policy(&f->options, &p), ==, -ENODEV);
        g_ptr_array_unref(records);
        records = read_log(f->log);
        g_assert_cmpuint(records->len, ==, 1);
        assert_record(records->pdata[0], 0, "rtmr", 2, event);
        g_assert_cmpint(stat(f->log, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 07777, ==, 0600);
}

/* A log whose last record is not one: refused before anything is extended. */
static void test_damaged_log(Fixture *f, gconstpointer data) {
        static const char *const contents[] = {
                "{\"recnum\":0,\"pcr\":8}\n{\"recnum\":1,\"pc", /* torn */
                "{\"recnum\":0,\"pcr\":8}\nnot json\n",         /* garbage */
                "{\"pcr\":8}\n",                                /* no recnum */
                "{\"recnum\":\"3\",\"pcr\":8}\n",               /* not a number */
                "{\"recnum\":-1,\"pcr\":8}\n",                  /* negative */
                "{\"recnum\":1,\"recnum\":2}\n",                /* ambiguous */
        };
        g_autofree char *dir = g_path_get_dirname(f->log);
        Policy p = test_policy(3);

        make_tdx(f);
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        for (size_t i = 0; i < G_N_ELEMENTS(contents); i++) {
                g_autofree char *after = NULL;

                g_assert_true(g_file_set_contents(f->log, contents[i], -1, NULL));
                g_assert_cmpint(measure_policy(&f->options, &p), ==, -EBADMSG);
                g_assert_true(g_file_get_contents(f->log, &after, NULL, NULL));
                g_assert_cmpstr(after, ==, contents[i]);
        }
        assert_pcr_zero(f, 14);
        g_autofree char *rtmr2 = rtmr_written(f, 2);
        g_assert_cmpstr(rtmr2, ==, "");
}

/* A log left marked by a writer that died between extending and logging stays marked: it lacks a
 * record for good. Later records are still appended. */
static void test_aborted_log(Fixture *f, gconstpointer data) {
        g_autofree char *dir = g_path_get_dirname(f->log);
        Policy p = test_policy(3);
        g_autoptr(GPtrArray) records = NULL;
        struct stat st;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(f->log, "", 0, NULL));
        g_assert_cmpint(chmod(f->log, 0600 | S_ISVTX), ==, 0);

        g_assert_cmpint(measure_policy(&f->options, &p), ==, 1);
        g_assert_cmpint(stat(f->log, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 07777, ==, 0600 | S_ISVTX);
        records = read_log(f->log);
        g_assert_cmpuint(records->len, ==, 1);
}

static void test_invalid(Fixture *f, gconstpointer data) {
        static const unsigned bad_pcrs[] = { 1, 7, 16, 17, 22, 23, 24 };
        static const unsigned bad_rtmrs[] = { 1, 4 };
        Policy p = test_policy(3);
        MeasureOptions o = f->options;
        char *s = NULL;

        make_tdx(f);
        for (size_t i = 0; i < G_N_ELEMENTS(bad_pcrs); i++) {
                o.pcr = bad_pcrs[i];
                g_assert_cmpint(measure_policy(&o, &p), ==, -EINVAL);
        }
        o = f->options;
        for (size_t i = 0; i < G_N_ELEMENTS(bad_rtmrs); i++) {
                o.rtmr = bad_rtmrs[i];
                g_assert_cmpint(measure_policy(&o, &p), ==, -EINVAL);
        }
        o = f->options;
        o.log_path = NULL;
        g_assert_cmpint(measure_policy(&o, &p), ==, -EINVAL);

        /* Strings that would not read one way. */
        g_assert_cmpint(measure_policy_string("a b", 1, p.sha256, &s), ==, -EINVAL);
        g_assert_cmpint(measure_policy_string("a=b", 1, p.sha256, &s), ==, -EINVAL);
        g_assert_cmpint(measure_policy_string("", 1, p.sha256, &s), ==, -EINVAL);
        g_assert_cmpint(measure_policy_string("a", 1, "ABCDEF", &s), ==, -EINVAL);
        g_autofree char *upper = g_ascii_strup(p.sha256, -1);
        g_assert_cmpint(measure_policy_string("a", 1, upper, &s), ==, -EINVAL);
        g_assert_null(s);
        Policy spaced = p;
        spaced.name = (char *) "my policy";
        g_assert_cmpint(measure_policy(&f->options, &spaced), ==, -EINVAL);

        g_assert_cmpint(measure_event(&f->options, "policy", "policy name=x"), ==, -EINVAL);
        g_assert_cmpint(measure_event(&f->options, "policy", "devgate:a\nb"), ==, -EINVAL);
        g_assert_cmpint(measure_event(&f->options, "Policy", "devgate:a"), ==, -EINVAL);

        /* None of it touched a register or made a log. */
        assert_pcr_zero(f, 14);
        g_autofree char *rtmr2 = rtmr_written(f, 2);
        g_assert_cmpstr(rtmr2, ==, "");
        g_assert_false(g_file_test(f->log, G_FILE_TEST_EXISTS));

        g_assert_cmpint(measure_policy_string("a-b_c.d", -2, p.sha256, &s), ==, 0);
        g_autofree char *expected = g_strdup_printf("devgate:policy name=a-b_c.d version=-2 "
                                                    "sha256=%s",
                                                    p.sha256);
        g_assert_cmpstr(s, ==, expected);
        free(s);
}

/* Writers in parallel: the lock keeps extensions and records in the same order, so the log still
 * replays to the PCR, and no line is interleaved with another. */
static void test_concurrent(Fixture *f, gconstpointer data) {
        enum { WRITERS = 4, EACH = 5 };
        g_autoptr(GPtrArray) records = NULL;
        pid_t pids[WRITERS];

        for (int w = 0; w < WRITERS; w++) {
                pids[w] = fork();
                g_assert_cmpint(pids[w], >=, 0);
                if (pids[w] == 0) {
                        for (int i = 0; i < EACH; i++) {
                                Policy p = test_policy(100 * w + i);
                                if (measure_policy(&f->options, &p) != 1)
                                        _exit(EXIT_FAILURE);
                        }
                        _exit(EXIT_SUCCESS);
                }
        }
        for (int w = 0; w < WRITERS; w++) {
                int status;
                g_assert_cmpint(waitpid(pids[w], &status, 0), ==, pids[w]);
                g_assert_true(WIFEXITED(status));
                g_assert_cmpint(WEXITSTATUS(status), ==, EXIT_SUCCESS);
        }

        records = read_log(f->log);
        g_assert_cmpuint(records->len, ==, WRITERS * EACH);
        for (size_t i = 0; i < records->len; i++)
                g_assert_cmpint(get_int(records->pdata[i], "recnum"), ==, (int64_t) i);
        assert_pcr_replays(f, 14);
}

#define add_test(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

int main(int argc, char *argv[]) {
        if (!swtpm_available()) {
                printf("1..0 # SKIP swtpm is not installed\n");
                return 0;
        }

        g_test_init(&argc, &argv, NULL);
        log_setup(LOG_TARGET_STDERR, g_test_verbose() ? LOG_DEBUG : LOG_ERR);

        add_test("/measure/pcr", test_pcr);
        add_test("/measure/recnum-increments", test_recnum_increments);
        add_test("/measure/recnum-continues", test_recnum_continues);
        add_test("/measure/allocated-banks", test_allocated_banks);
        add_test("/measure/other-pcr", test_other_pcr);
        add_test("/measure/rtmr", test_rtmr);
        add_test("/measure/tpm-and-rtmr", test_tpm_and_rtmr);
        add_test("/measure/nothing-to-measure", test_nothing_to_measure);
        add_test("/measure/missing-tpm", test_missing_tpm);
        add_test("/measure/damaged-log", test_damaged_log);
        add_test("/measure/aborted-log", test_aborted_log);
        add_test("/measure/invalid", test_invalid);
        add_test("/measure/concurrent", test_concurrent);
        return g_test_run();
}
