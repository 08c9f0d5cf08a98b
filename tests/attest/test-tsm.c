// SPDX-License-Identifier: LGPL-2.1-or-later
/* TDX and SEV-SNP evidence through configfs-tsm, against recorded blobs (tsm-vectors/README.md)
 * served by a FUSE fake of configfs-tsm (fake-tsm.h): the code under test runs its real path,
 * mkdir to rmdir, on a file system that behaves as the kernel's does. Tests needing the fake
 * skip when FUSE cannot be mounted here; the parser tests always run.
 *
 * The independent references: the SEV-SNP report is checked against AMD's signature with its
 * VCEK (so the recorded bytes are what the PSP signed), and its attestation_report JSON against
 * the one Trustee's own test evidence has for the same report (so the serde form is Trustee's,
 * key order included). */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base64.h"
#include "evidence.h"
#include "fake-tsm.h"
#include "log.h"
#include "tsm-evidence.h"
#include "tsm-report.h"

#define TDX_REPORT_DATA_OFFSET 568 /* version 4: 48-byte header + 520 */
#define SNP_REPORT_DATA_OFFSET 0x50

static bool fuse_usable;

static GBytes *vector(const char *name) {
        g_autofree char *path = g_build_filename(TSM_VECTORS_DIR, name, NULL);
        g_autoptr(GError) error = NULL;
        char *data;
        gsize size;

        if (!g_file_get_contents(path, &data, &size, &error))
                g_error("%s", error->message);
        return g_bytes_new_take(data, size);
}

static const uint8_t *bytes_at(GBytes *b, size_t offset) {
        gsize size;
        const uint8_t *p = g_bytes_get_data(b, &size);

        g_assert_cmpuint(offset, <, size);
        return p + offset;
}

static FakeTsm *start_fake(const FakeTsmConfig *config) {
        FakeTsm *f;

        if (!fuse_usable) {
                g_test_skip("no private mount namespace for a FUSE mount");
                return NULL;
        }
        f = fake_tsm_start(config);
        if (!f)
                g_test_skip("FUSE cannot be mounted here");
        return f;
}

/* After every run: exactly one directory was made, 0700, with an unpredictable name, and it
 * is gone again. */
static void assert_cleaned_up(FakeTsm *f) {
        FakeTsmStats s;

        fake_tsm_stats(f, &s);
        g_assert_cmpuint(s.mkdirs, ==, 1);
        g_assert_cmpuint(s.rmdirs, ==, 1);
        g_assert_cmpuint(s.live_dirs, ==, 0);
        g_assert_cmpuint(s.last_mode, ==, 0700);
        g_assert_true(g_regex_match_simple("^devgate-[0-9a-f]{16}$", s.last_name, 0, 0));
}

static json_object *parse_json(const char *text) {
        json_object *o = json_tokener_parse(text);

        g_assert_nonnull(o);
        return o;
}

static char *base64(GBytes *b) {
        char *text = NULL;
        gsize size;
        const uint8_t *p = g_bytes_get_data(b, &size);

        g_assert_cmpint(base64_encode(p, size, &text), ==, 0);
        return text;
}

static void test_tdx(void) {
        g_autoptr(GBytes) quote = vector("tdx-quote-v4-gcp.bin");
        const uint8_t *rd = bytes_at(quote, TDX_REPORT_DATA_OFFSET);
        FakeTsmConfig c = { .provider = "tdx_guest", .generation = 41 };
        g_autofree char *evidence = NULL, *expected = NULL;
        TsmReport report = {};
        json_object *o, *v;
        FakeTsmStats s;
        char reason[256] = "";
        FakeTsm *f;

        c.outblob = g_bytes_get_data(quote, &c.outblob_size);
        f = start_fake(&c);
        if (!f)
                return;

        g_assert_cmpint(tsm_report_get(fake_tsm_root(f), TSM_PROVIDER_TDX, rd, &report, reason,
                                       sizeof reason),
                        ==, 0);
        g_assert_cmpint(report.provider, ==, TSM_PROVIDER_TDX);
        g_assert_cmpmem(report.outblob, report.outblob_size, c.outblob, c.outblob_size);
        g_assert_null(report.auxblob);

        fake_tsm_stats(f, &s);
        g_assert_cmpmem(s.inblob, s.inblob_size, rd, 64);
        g_assert_cmpuint(s.inblob_commits, ==, 1);
        g_assert_cmpuint(s.outblob_reads, >=, 1);
        assert_cleaned_up(f);

        g_assert_cmpint(tsm_evidence_json(&report, rd, NULL, 0, &evidence, reason, sizeof reason),
                        ==, 0);
        o = parse_json(evidence);
        g_assert_cmpint(json_object_object_length(o), ==, 2);
        g_assert_true(json_object_object_get_ex(o, "cc_eventlog", &v));
        g_assert_null(v);
        g_assert_true(json_object_object_get_ex(o, "quote", &v));
        expected = base64(quote);
        g_assert_cmpstr(json_object_get_string(v), ==, expected);
        json_object_put(o);

        tsm_report_done(&report);
        fake_tsm_stop(f);
}

static void test_tdx_ccel(void) {
        static const uint8_t ccel[] = "not a real event log";
        g_autoptr(GBytes) quote = vector("tdx-quote-v4-gcp.bin");
        g_autofree char *evidence = NULL;
        gsize size;
        const uint8_t *q = g_bytes_get_data(quote, &size);

        g_assert_cmpint(tdx_evidence_json(q, size, ccel, sizeof ccel - 1, &evidence), ==, 0);
        g_assert_true(g_str_has_prefix(evidence,
                                       "{\"cc_eventlog\":\"bm90IGEgcmVhbCBldmVudCBsb2c=\","
                                       "\"quote\":\"BAACAIEAAAAAAAAAk5pyM/ec"));
}

static void assert_snp_signed_by_vcek(GBytes *report, GBytes *vcek_der) {
        gsize size, der_size;
        const uint8_t *p = g_bytes_get_data(report, &size);
        const uint8_t *der = g_bytes_get_data(vcek_der, &der_size);
        X509 *cert = d2i_X509(NULL, &der, (long) der_size);
        ECDSA_SIG *sig = ECDSA_SIG_new();
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char *sig_der = NULL;
        int sig_len;

        g_assert_nonnull(cert);
        /* r and s are little-endian, 72 bytes each, at 0x2A0; the signed bytes are 0-0x29F. */
        g_assert_cmpint(ECDSA_SIG_set0(sig, BN_lebin2bn(p + 0x2A0, 72, NULL),
                                       BN_lebin2bn(p + 0x2A0 + 72, 72, NULL)),
                        ==, 1);
        sig_len = i2d_ECDSA_SIG(sig, &sig_der);
        g_assert_cmpint(sig_len, >, 0);
        g_assert_cmpint(EVP_DigestVerifyInit(ctx, NULL, EVP_sha384(), NULL, X509_get0_pubkey(cert)),
                        ==, 1);
        g_assert_cmpint(EVP_DigestVerify(ctx, sig_der, (size_t) sig_len, p, 0x2A0), ==, 1);
        OPENSSL_free(sig_der);
        EVP_MD_CTX_free(ctx);
        ECDSA_SIG_free(sig);
        X509_free(cert);
}

static void test_snp_vector_is_signed(void) {
        g_autoptr(GBytes) report = vector("snp-report-v2-milan.bin");
        g_autoptr(GBytes) vcek = vector("snp-vcek-milan.der");

        assert_snp_signed_by_vcek(report, vcek);
}

/* attestation_report as Trustee's e2e evidence spells it, re-serialised plainly by json-c,
 * which keeps key order. */
static char *trustee_attestation_report(void) {
        g_autoptr(GBytes) text = vector("trustee-e2e-evidence.json");
        g_autofree char *s = g_strndup(g_bytes_get_data(text, NULL), g_bytes_get_size(text));
        json_object *o = parse_json(s), *r;
        char *out;

        g_assert_true(json_object_object_get_ex(o, "attestation_report", &r));
        out = g_strdup(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return out;
}

static void assert_snp_evidence(const char *evidence, GBytes *vcek) {
        g_autofree char *expected = trustee_attestation_report();
        json_object *o = parse_json(evidence), *r, *chain, *e, *v;
        gsize vcek_size;
        const uint8_t *vcek_bytes;

        g_assert_cmpint(json_object_object_length(o), ==, 2);
        g_assert_true(json_object_object_get_ex(o, "attestation_report", &r));
        g_assert_cmpstr(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN), ==, expected);

        g_assert_true(json_object_object_get_ex(o, "cert_chain", &chain));
        if (!vcek) {
                g_assert_null(chain);
                json_object_put(o);
                return;
        }
        /* The table's entry with an unknown GUID is left out. */
        g_assert_cmpuint(json_object_array_length(chain), ==, 1);
        e = json_object_array_get_idx(chain, 0);
        g_assert_cmpint(json_object_object_length(e), ==, 2);
        g_assert_true(json_object_object_get_ex(e, "cert_type", &v));
        g_assert_cmpstr(json_object_get_string(v), ==, "VCEK");
        g_assert_true(json_object_object_get_ex(e, "data", &v));
        vcek_bytes = g_bytes_get_data(vcek, &vcek_size);
        g_assert_cmpuint(json_object_array_length(v), ==, vcek_size);
        for (size_t i = 0; i < vcek_size; i++)
                g_assert_cmpint(json_object_get_int(json_object_array_get_idx(v, i)), ==,
                                vcek_bytes[i]);
        json_object_put(o);
}

static void test_snp(gconstpointer with_certs) {
        g_autoptr(GBytes) outblob = vector("snp-report-v2-milan.bin");
        g_autoptr(GBytes) auxblob = vector("snp-auxblob.bin");
        g_autoptr(GBytes) vcek = vector("snp-vcek-milan.der");
        const uint8_t *rd = bytes_at(outblob, SNP_REPORT_DATA_OFFSET);
        FakeTsmConfig c = { .provider = "sev_guest" };
        g_autofree char *evidence = NULL;
        TsmReport report = {};
        char reason[256] = "";
        FakeTsmStats s;
        FakeTsm *f;

        c.outblob = g_bytes_get_data(outblob, &c.outblob_size);
        if (with_certs)
                c.auxblob = g_bytes_get_data(auxblob, &c.auxblob_size);
        f = start_fake(&c);
        if (!f)
                return;

        g_assert_cmpint(tsm_report_get(fake_tsm_root(f), TSM_PROVIDER_ANY, rd, &report, reason,
                                       sizeof reason),
                        ==, 0);
        g_assert_cmpint(report.provider, ==, TSM_PROVIDER_SNP);
        if (with_certs)
                g_assert_cmpmem(report.auxblob, report.auxblob_size, c.auxblob, c.auxblob_size);
        else
                g_assert_null(report.auxblob);
        fake_tsm_stats(f, &s);
        g_assert_cmpmem(s.inblob, s.inblob_size, rd, 64);
        assert_cleaned_up(f);

        g_assert_cmpint(tsm_evidence_json(&report, rd, NULL, 0, &evidence, reason, sizeof reason),
                        ==, 0);
        assert_snp_evidence(evidence, with_certs ? vcek : NULL);

        tsm_report_done(&report);
        fake_tsm_stop(f);
}

/* Runs tsm_report_get() against a fake that should make it fail; checks the error, a word of
 * the reason, and that the directory was removed all the same. */
static void assert_report_fails(const FakeTsmConfig *c, TsmProvider want, int error,
                                const char *reason_part) {
        static const uint8_t inblob[TSM_INBLOB_SIZE] = { 1, 2, 3 };
        TsmReport report = {};
        char reason[256] = "";
        FakeTsm *f = start_fake(c);

        if (!f)
                return;
        g_assert_cmpint(
                tsm_report_get(fake_tsm_root(f), want, inblob, &report, reason, sizeof reason), ==,
                error);
        if (!strstr(reason, reason_part))
                g_error("reason \"%s\" lacks \"%s\"", reason, reason_part);
        g_assert_null(report.outblob);
        assert_cleaned_up(f);
        fake_tsm_stop(f);
}

static const uint8_t small_blob[] = "a report";

/* What devgate attest runs: tee_detect() picks the TEE from the provider, evidence_collect()
 * goes through the report interface to the evidence object sent to the server. */
static void test_evidence_source(void) {
        g_autoptr(GBytes) outblob = vector("snp-report-v2-milan.bin");
        const uint8_t *rd = bytes_at(outblob, SNP_REPORT_DATA_OFFSET);
        FakeTsmConfig c = { .provider = "sev_guest" };
        json_object *evidence = NULL, *v;
        char reason[256] = "";
        FakeTsmStats s;
        FakeTsm *f;
        Tee tee;

        c.outblob = g_bytes_get_data(outblob, &c.outblob_size);
        f = start_fake(&c);
        if (!f)
                return;
        g_assert_cmpint(tee_detect(fake_tsm_root(f), &tee, reason, sizeof reason), ==, 0);
        g_assert_cmpint(tee, ==, TEE_SNP);

        EvidenceSource source = { .tee = tee, .tsm_root = fake_tsm_root(f) };
        g_assert_cmpint(evidence_collect(&source, rd, &evidence, reason, sizeof reason), ==, 0);
        g_assert_true(json_object_object_get_ex(evidence, "attestation_report", &v));
        g_assert_true(json_object_is_type(v, json_type_object));
        fake_tsm_stats(f, &s);
        g_assert_cmpmem(s.inblob, s.inblob_size, rd, 64);
        json_object_put(evidence);
        evidence_source_done(&source);

        /* Asked for TDX on an SNP guest: refused before the host is asked for anything. */
        source.tee = TEE_TDX;
        g_assert_cmpint(evidence_collect(&source, rd, &evidence, reason, sizeof reason), ==,
                        -EMEDIUMTYPE);
        fake_tsm_stop(f);
}

static void test_generation_race(void) {
        FakeTsmConfig c = { .provider = "tdx_guest",
                            .outblob = small_blob,
                            .outblob_size = sizeof small_blob,
                            .racing_writes = 1,
                            .generation = 7 };

        assert_report_fails(&c, TSM_PROVIDER_TDX, -EBUSY, "generation 7 -> 9, expected 8");
}

static void test_outblob_limits(void) {
        g_autofree uint8_t *big = g_malloc0(TSM_BLOB_MAX + 1);
        FakeTsmConfig c = { .provider = "tdx_guest",
                            .outblob = big,
                            .outblob_size = TSM_BLOB_MAX + 1 };
        FakeTsmConfig empty = { .provider = "tdx_guest" };
        static const uint8_t inblob[TSM_INBLOB_SIZE] = {};
        TsmReport report = {};
        char reason[256];
        FakeTsm *f;

        assert_report_fails(&c, TSM_PROVIDER_TDX, -EFBIG, "larger than 32768 bytes");
        assert_report_fails(&empty, TSM_PROVIDER_TDX, -ENODATA, "outblob' is empty");

        /* Exactly the limit is fine. */
        c.outblob_size = TSM_BLOB_MAX;
        f = start_fake(&c);
        if (!f)
                return;
        g_assert_cmpint(tsm_report_get(fake_tsm_root(f), TSM_PROVIDER_TDX, inblob, &report, reason,
                                       sizeof reason),
                        ==, 0);
        g_assert_cmpuint(report.outblob_size, ==, TSM_BLOB_MAX);
        tsm_report_done(&report);
        fake_tsm_stop(f);
}

static void test_provider(void) {
        FakeTsmConfig none = { .outblob = small_blob, .outblob_size = sizeof small_blob };
        FakeTsmConfig cca = none, enxio = none, tdx = none;
        FakeTsmStats s;
        FakeTsm *f;

        assert_report_fails(&none, TSM_PROVIDER_ANY, -EPROTO, "has no \"provider\"");

        cca.provider = "arm_cca_guest";
        assert_report_fails(&cca, TSM_PROVIDER_ANY, -EOPNOTSUPP,
                            "\"arm_cca_guest\" is not supported");

        enxio.provider_errno = ENXIO;
        assert_report_fails(&enxio, TSM_PROVIDER_ANY, -EOPNOTSUPP, "No TSM provider is registered");

        /* The wrong TEE: refused before anything is asked of the host. */
        tdx.provider = "tdx_guest";
        assert_report_fails(&tdx, TSM_PROVIDER_SNP, -EMEDIUMTYPE, "is tdx_guest, not sev_guest");
        f = start_fake(&tdx);
        if (!f)
                return;
        {
                static const uint8_t inblob[TSM_INBLOB_SIZE] = {};
                TsmReport report = {};
                char reason[256];
                g_assert_cmpint(tsm_report_get(fake_tsm_root(f), TSM_PROVIDER_SNP, inblob, &report,
                                               reason, sizeof reason),
                                ==, -EMEDIUMTYPE);
        }
        fake_tsm_stats(f, &s);
        g_assert_cmpuint(s.inblob_commits, ==, 0);
        g_assert_cmpuint(s.outblob_reads, ==, 0);
        fake_tsm_stop(f);
}

static void test_root_missing(void) {
        static const uint8_t inblob[TSM_INBLOB_SIZE] = {};
        g_autofree char *tmp = g_dir_make_tmp("devgate-tsm-XXXXXX", NULL);
        g_autofree char *root = g_build_filename(tmp, "report", NULL);
        TsmReport report = {};
        TsmProvider p;
        char reason[256] = "";

        g_assert_cmpint(
                tsm_report_get(root, TSM_PROVIDER_ANY, inblob, &report, reason, sizeof reason), ==,
                -ENOENT);
        g_assert_nonnull(strstr(reason, "No configfs-tsm report interface at"));
        g_assert_cmpint(tsm_detect(root, &p, reason, sizeof reason), ==, -ENOENT);
        g_assert_cmpint(g_rmdir(tmp), ==, 0);
}

static void test_detect(void) {
        static const char *const providers[] = { "tdx_guest", "sev_guest" };

        for (size_t i = 0; i < G_N_ELEMENTS(providers); i++) {
                FakeTsmConfig c = { .provider = providers[i] };
                TsmProvider p = TSM_PROVIDER_ANY;
                char reason[256];
                FakeTsmStats s;
                FakeTsm *f = start_fake(&c);

                if (!f)
                        return;
                g_assert_cmpint(tsm_detect(fake_tsm_root(f), &p, reason, sizeof reason), ==, 0);
                g_assert_cmpint(p, ==, i == 0 ? TSM_PROVIDER_TDX : TSM_PROVIDER_SNP);
                g_assert_cmpstr(tsm_provider_tee(p), ==, i == 0 ? "tdx" : "snp");
                /* Detection asks the host for nothing. */
                fake_tsm_stats(f, &s);
                g_assert_cmpuint(s.inblob_commits, ==, 0);
                g_assert_cmpuint(s.outblob_reads, ==, 0);
                assert_cleaned_up(f);
                fake_tsm_stop(f);
        }
}

/* A report that answers another inblob (a racing writer the generation did not show, or a
 * lying host) must not become evidence. */
static void test_report_data_mismatch(void) {
        g_autoptr(GBytes) quote = vector("tdx-quote-v4-gcp.bin");
        g_autoptr(GBytes) snp = vector("snp-report-v2-milan.bin");
        static const uint8_t other[64] = { 0xff };
        TsmReport report = {};
        char *evidence = NULL;
        char reason[256] = "";

        report.provider = TSM_PROVIDER_TDX;
        report.outblob = (uint8_t *) g_bytes_get_data(quote, &report.outblob_size);
        g_assert_cmpint(
                tsm_evidence_json(&report, other, NULL, 0, &evidence, reason, sizeof reason), ==,
                -EKEYREJECTED);
        g_assert_nonnull(strstr(reason, "other REPORTDATA"));

        report.provider = TSM_PROVIDER_SNP;
        report.outblob = (uint8_t *) g_bytes_get_data(snp, &report.outblob_size);
        g_assert_cmpint(
                tsm_evidence_json(&report, other, NULL, 0, &evidence, reason, sizeof reason), ==,
                -EKEYREJECTED);
        g_assert_null(evidence);
}

static void assert_snp_rejected(const uint8_t *data, size_t size, int error, const char *part) {
        SnpReport r;
        char reason[256] = "";

        g_assert_cmpint(snp_report_parse(data, size, &r, reason, sizeof reason), ==, error);
        if (!strstr(reason, part))
                g_error("reason \"%s\" lacks \"%s\"", reason, part);
}

static void test_snp_parse(void) {
        g_autoptr(GBytes) vector_bytes = vector("snp-report-v2-milan.bin");
        gsize size;
        const uint8_t *orig = g_bytes_get_data(vector_bytes, &size);
        uint8_t b[SNP_REPORT_SIZE];
        g_autofree char *evidence = NULL;
        char reason[256];
        json_object *o, *r, *v;
        SnpReport rep;

        g_assert_cmpuint(size, ==, SNP_REPORT_SIZE);
        assert_snp_rejected(orig, size - 1, -EBADMSG, "of 1183 bytes");

#define RESET() memcpy(b, orig, sizeof b)
        RESET();
        b[0] = 5;
        assert_snp_rejected(b, sizeof b, -EOPNOTSUPP, "version 5");
        RESET();
        b[0] = 1;
        assert_snp_rejected(b, sizeof b, -EOPNOTSUPP, "version 1");
        RESET();
        b[0x34] = 2;
        assert_snp_rejected(b, sizeof b, -EOPNOTSUPP, "algorithm 2");
        /* Reserved bytes the JSON cannot carry: the verifier could never rebuild the signed
         * bytes, so such a report is refused here. */
        static const size_t reserved[] = { 0x4C, 0x188, 0x19F, 0x1EB, 0x1EF, 0x1F8, 0x29F };
        for (size_t i = 0; i < G_N_ELEMENTS(reserved); i++) {
                RESET();
                b[reserved[i]] = 1;
                assert_snp_rejected(b, sizeof b, -EBADMSG, "reserved byte");
        }
        RESET();
        b[0x38 + 3] = 1; /* a reserved byte of the pre-Turin current TCB */
        assert_snp_rejected(b, sizeof b, -EBADMSG, "TCB at 0x38");
        /* The signature's reserved part is neither signed nor carried. */
        RESET();
        b[0x49F] = 1;
        g_assert_cmpint(snp_report_parse(b, sizeof b, &rep, reason, sizeof reason), ==, 0);

        /* Version 3 on a Milan (family 0x19): CPUID bytes become fields, the TCB layout stays. */
        RESET();
        b[0] = 3;
        b[0x188] = 0x19;
        b[0x189] = 0x01;
        b[0x18A] = 0x01;
        g_assert_cmpint(snp_report_parse(b, sizeof b, &rep, reason, sizeof reason), ==, 0);
        g_assert_true(rep.has_cpuid);
        g_assert_false(rep.reported_tcb.has_fmc);
        g_assert_cmpuint(rep.reported_tcb.snp, ==, 8);
        g_assert_cmpuint(rep.reported_tcb.microcode, ==, 115);
        g_assert_cmpint(snp_evidence_json(&rep, NULL, 0, &evidence), ==, 0);
        o = parse_json(evidence);
        g_assert_true(json_object_object_get_ex(o, "attestation_report", &r));
        g_assert_true(json_object_object_get_ex(r, "cpuid_fam_id", &v));
        g_assert_cmpint(json_object_get_int(v), ==, 0x19);
        g_assert_true(json_object_object_get_ex(r, "reported_tcb", &v));
        g_assert_cmpstr(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), ==,
                        "{\"fmc\":null,\"bootloader\":3,\"tee\":0,\"snp\":8,\"microcode\":115}");
        json_object_put(o);

        /* Family 0x1A (Turin) reads FMC, BOOT_LOADER, TEE, SNP at 0-3 and MICROCODE at 7;
         * this Milan TCB has SNP at byte 6, reserved in that layout. */
        b[0x188] = 0x1A;
        assert_snp_rejected(b, sizeof b, -EBADMSG, "TCB at 0x38");
        for (size_t i = 0; i < 4; i++) {
                static const size_t tcbs[] = { 0x38, 0x180, 0x1E0, 0x1F0 };
                memcpy(b + tcbs[i], (const uint8_t[]){ 1, 2, 3, 4, 0, 0, 0, 5 }, 8);
        }
        g_assert_cmpint(snp_report_parse(b, sizeof b, &rep, reason, sizeof reason), ==, 0);
        g_assert_true(rep.launch_tcb.has_fmc);
        g_assert_cmpuint(rep.launch_tcb.fmc, ==, 1);
        g_assert_cmpuint(rep.launch_tcb.bootloader, ==, 2);
        g_assert_cmpuint(rep.launch_tcb.tee, ==, 3);
        g_assert_cmpuint(rep.launch_tcb.snp, ==, 4);
        g_assert_cmpuint(rep.launch_tcb.microcode, ==, 5);
#undef RESET
}

static void assert_table_rejected(const uint8_t *t, size_t size, const char *part) {
        SnpCert certs[SNP_CERTS_MAX];
        size_t n;
        char reason[256] = "";

        g_assert_cmpint(snp_cert_table_parse(t, size, certs, &n, reason, sizeof reason), ==,
                        -EBADMSG);
        if (!strstr(reason, part))
                g_error("reason \"%s\" lacks \"%s\"", reason, part);
}

static void put_entry(uint8_t *at, const char *guid_hex, uint32_t offset, uint32_t length) {
        for (size_t i = 0; i < 16; i++)
                sscanf(guid_hex + 2 * i, "%2hhx", &at[i]);
        memcpy(at + 16, &offset, 4); /* little-endian host, as the test machines are */
        memcpy(at + 20, &length, 4);
}

static void assert_chain(const SnpCert *certs, size_t n, const char *expected) {
        g_autoptr(GBytes) b = vector("snp-report-v2-milan.bin");
        g_autofree char *evidence = NULL;
        char reason[256];
        json_object *o, *chain;
        SnpReport r;

        g_assert_cmpint(snp_report_parse(g_bytes_get_data(b, NULL), g_bytes_get_size(b), &r, reason,
                                         sizeof reason),
                        ==, 0);
        g_assert_cmpint(snp_evidence_json(&r, certs, n, &evidence), ==, 0);
        o = parse_json(evidence);
        g_assert_true(json_object_object_get_ex(o, "cert_chain", &chain));
        g_assert_cmpstr(json_object_to_json_string_ext(chain, JSON_C_TO_STRING_PLAIN), ==,
                        expected);
        json_object_put(o);
}

#define VCEK_GUID "63da758de6644564adc5f4b93be8accd"
#define ASK_GUID  "4ab7b379bbac4fe4a02f05aef327c782"

static void test_cert_table(void) {
        g_autoptr(GBytes) aux = vector("snp-auxblob.bin");
        uint8_t t[256] = {};
        SnpCert certs[SNP_CERTS_MAX];
        char reason[256];
        gsize size;
        size_t n = 99;

        g_assert_cmpint(snp_cert_table_parse(g_bytes_get_data(aux, &size), size, certs, &n, reason,
                                             sizeof reason),
                        ==, 0);
        g_assert_cmpuint(n, ==, 1);
        g_assert_cmpint(certs[0].type, ==, SNP_CERT_VCEK);
        g_assert_cmpuint(certs[0].size, ==, 1360);

        /* Only the terminator: no certificates. */
        g_assert_cmpint(snp_cert_table_parse(t, 24, certs, &n, reason, sizeof reason), ==, 0);
        g_assert_cmpuint(n, ==, 0);

        assert_table_rejected(t, 23, "no terminating entry");
        put_entry(t, VCEK_GUID, 0, 8);
        assert_table_rejected(t, 24, "no terminating entry");
        put_entry(t, VCEK_GUID, 72, 8);
        put_entry(t + 24, ASK_GUID, 80, 8);
        g_assert_cmpint(snp_cert_table_parse(t, 88, certs, &n, reason, sizeof reason), ==, 0);
        g_assert_cmpuint(n, ==, 2);
        g_assert_cmpint(certs[1].type, ==, SNP_CERT_ASK);
        g_assert_true(certs[1].data == t + 80);
        assert_chain(certs, 2,
                     "[{\"cert_type\":\"VCEK\",\"data\":[0,0,0,0,0,0,0,0]},"
                     "{\"cert_type\":\"ASK\",\"data\":[0,0,0,0,0,0,0,0]}]");
        /* Without the key that signed the report the verifier would refuse the chain. */
        assert_chain(certs + 1, 1, "null");
        assert_table_rejected(t, 87, "lies outside");
        put_entry(t + 24, ASK_GUID, 80, 0);
        assert_table_rejected(t, 88, "lies outside");
        put_entry(t + 24, ASK_GUID, UINT32_MAX, 8);
        assert_table_rejected(t, 88, "lies outside");
        put_entry(t + 24, VCEK_GUID, 80, 8);
        assert_table_rejected(t, 88, "two VCEK entries");
        put_entry(t + 24, ASK_GUID, 80, 8);
        t[48 + 20] = 1; /* the terminator's length */
        assert_table_rejected(t, 88, "ends with a non-zero entry");
}

static void assert_quote_rejected(const uint8_t *q, size_t size, int error, const char *part) {
        static const uint8_t rd[64] = {};
        char reason[256] = "";

        g_assert_cmpint(tdx_quote_check(q, size, rd, reason, sizeof reason), ==, error);
        if (!strstr(reason, part))
                g_error("reason \"%s\" lacks \"%s\"", reason, part);
}

static void test_tdx_quote_check(void) {
        g_autoptr(GBytes) quote = vector("tdx-quote-v4-gcp.bin");
        gsize size;
        const uint8_t *orig = g_bytes_get_data(quote, &size);
        g_autofree uint8_t *q = g_malloc(size + 16);
        char reason[256];
        uint32_t sig_len;

        memcpy(q, orig, size);
        memset(q + size, 0, 16);
        /* Zero padding after the declared end is what some tools hand out: accepted. */
        g_assert_cmpint(
                tdx_quote_check(q, size + 16, orig + TDX_REPORT_DATA_OFFSET, reason, sizeof reason),
                ==, 0);
        q[size + 3] = 1;
        assert_quote_rejected(q, size + 16, -EBADMSG, "not padding");
        assert_quote_rejected(q, 47, -EBADMSG, "too short");
        assert_quote_rejected(q, 600, -EBADMSG, "truncated in its body");
        assert_quote_rejected(q, size - 1, -EBADMSG, "exceeds the quote");
        q[0] = 3;
        assert_quote_rejected(q, size, -EOPNOTSUPP, "version 3");
        q[0] = 4;
        q[4] = 0x00;
        assert_quote_rejected(q, size, -EBADMSG, "TEE type 0x0");
        q[4] = 0x81;
        memcpy(&sig_len, q + 632, 4);
        g_assert_cmpuint(sig_len, ==, size - 636);

        /* Version 5: a body descriptor before the body. */
        q[0] = 5;
        assert_quote_rejected(q, size, -EBADMSG, "body type");
}

int main(int argc, char *argv[]) {
        /* Before any thread exists: a private mount namespace for the FUSE mounts. */
        fuse_usable = fake_tsm_unshare();
        g_test_init(&argc, &argv, NULL);
        log_setup(LOG_TARGET_STDERR, LOG_WARNING);

        g_test_add_func("/tsm/tdx", test_tdx);
        g_test_add_func("/tsm/tdx-ccel", test_tdx_ccel);
        g_test_add_func("/tsm/snp-vector-signed", test_snp_vector_is_signed);
        g_test_add_data_func("/tsm/snp", GINT_TO_POINTER(1), test_snp);
        g_test_add_data_func("/tsm/snp-no-certs", GINT_TO_POINTER(0), test_snp);
        g_test_add_func("/tsm/evidence-source", test_evidence_source);
        g_test_add_func("/tsm/generation-race", test_generation_race);
        g_test_add_func("/tsm/outblob-limits", test_outblob_limits);
        g_test_add_func("/tsm/provider", test_provider);
        g_test_add_func("/tsm/root-missing", test_root_missing);
        g_test_add_func("/tsm/detect", test_detect);
        g_test_add_func("/tsm/report-data-mismatch", test_report_data_mismatch);
        g_test_add_func("/tsm/snp-parse", test_snp_parse);
        g_test_add_func("/tsm/cert-table", test_cert_table);
        g_test_add_func("/tsm/tdx-quote-check", test_tdx_quote_check);
        return g_test_run();
}
