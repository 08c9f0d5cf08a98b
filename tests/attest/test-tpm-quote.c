// SPDX-License-Identifier: LGPL-2.1-or-later
/* TPM quotes against swtpm, as tests/tpm/test-tpm-counter.c does it: every test starts a fresh
 * swtpm in its own temporary directory on a Unix socket and checks at the end, with tpm2-tools,
 * that no transient object or session was left in the TPM. swtpm dies with the test process
 * (PR_SET_PDEATHSIG). The evidence is checked the way Trustee's verifier checks it (AK pinned
 * by the SHA-256 of its DER, RSASSA-SHA256 over the message, SHA-256 of the 24 PCR values
 * against pcrDigest, extraData against the report data); tpm2_checkquote checks it
 * independently in test-checkquote.sh. Skips only if swtpm is missing. */
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <tss2/tss2_mu.h>
#include <unistd.h>

#include "base64.h"
#include "hex.h"
#include "log.h"
#include "swtpm-fixture.h"
#include "tpm-quote.h"

#define SHA256_SIZE 32

static char *transient_handles(Swtpm *t) {
        char *out = NULL;
        g_assert_cmpint(tpm2_tool(t, &out, "tpm2_getcap", "handles-transient", NULL), ==, 0);
        return g_strstrip(out);
}

static TpmAk *open_ak(Swtpm *t) {
        TpmAk *ak = NULL;
        g_assert_cmpint(tpm_ak_open(t->tcti, &ak), ==, 0);
        g_assert_nonnull(ak);
        return ak;
}

static char *ak_pem(Swtpm *t) {
        _cleanup_tpm_ak_ TpmAk *ak = open_ak(t);
        char *pem = NULL;
        g_assert_cmpint(tpm_ak_public_pem(ak, &pem), ==, 0);
        return pem;
}

static EVP_PKEY *pem_to_pkey(const char *pem) {
        BIO *bio = BIO_new_mem_buf(pem, -1);
        EVP_PKEY *pkey;

        g_assert_nonnull(bio);
        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
        g_assert_nonnull(pkey);
        return pkey;
}

static GBytes *pkey_der(EVP_PKEY *pkey) {
        unsigned char *der = NULL;
        int len = i2d_PUBKEY(pkey, &der);
        GBytes *b;

        g_assert_cmpint(len, >, 0);
        b = g_bytes_new(der, (size_t) len);
        OPENSSL_free(der);
        return b;
}

static GBytes *sha256(const void *data, size_t size) {
        uint8_t md[SHA256_SIZE];
        unsigned len = 0;
        g_assert_cmpint(EVP_Digest(data, size, md, &len, EVP_sha256(), NULL), ==, 1);
        return g_bytes_new(md, len);
}

static void fill_report_data(uint8_t report_data[TPM_REPORT_DATA_SIZE], uint8_t seed) {
        /* As a KBS makes it: a SHA-384 digest, zero-padded to 64 bytes. */
        memset(report_data, 0, TPM_REPORT_DATA_SIZE);
        for (size_t i = 0; i < 48; i++)
                report_data[i] = (uint8_t) (seed + 7 * i);
}

/* The evidence, decoded field by field. */
typedef struct Evidence {
        GBytes *ak_public, *report_data, *message, *signature;
        uint8_t pcrs[TPM_QUOTE_PCRS][SHA256_SIZE];
} Evidence;

static void evidence_clear(Evidence *e) {
        g_bytes_unref(e->ak_public);
        g_bytes_unref(e->report_data);
        g_bytes_unref(e->message);
        g_bytes_unref(e->signature);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Evidence, evidence_clear)

static json_object *member(json_object *o, const char *key, json_type type) {
        json_object *v = NULL;

        g_assert_true(json_object_is_type(o, json_type_object));
        if (!json_object_object_get_ex(o, key, &v))
                g_error("no \"%s\" in the evidence", key);
        g_assert_true(json_object_is_type(v, type));
        return v;
}

/* Standard base64 with padding, nothing else: base64_decode() is that strict. */
static GBytes *base64_member(json_object *o, const char *key) {
        json_object *v = member(o, key, json_type_string);
        uint8_t *data = NULL;
        size_t size = 0;

        g_assert_cmpint(base64_decode(json_object_get_string(v),
                                      (size_t) json_object_get_string_len(v), &data, &size),
                        ==, 0);
        return g_bytes_new_take(data, size);
}

static void evidence_parse(const char *json, Evidence *ret) {
        json_object *root = json_tokener_parse(json), *quote, *pcrs;

        g_assert_nonnull(root);
        /* One line, keys sorted, nothing else in it. */
        g_assert_null(strchr(json, '\n'));
        g_assert_cmpint(json_object_object_length(root), ==, 3);
        ret->ak_public = base64_member(root, "ak_public");
        ret->report_data = base64_member(root, "report_data");
        quote = member(root, "tpm_quote", json_type_object);
        g_assert_cmpint(json_object_object_length(quote), ==, 3);
        ret->message = base64_member(quote, "message");
        ret->signature = base64_member(quote, "signature");
        pcrs = member(quote, "pcrs", json_type_array);
        g_assert_cmpuint(json_object_array_length(pcrs), ==, TPM_QUOTE_PCRS);
        for (size_t i = 0; i < TPM_QUOTE_PCRS; i++) {
                json_object *v = json_object_array_get_idx(pcrs, i);
                const char *s = json_object_get_string(v);

                g_assert_true(json_object_is_type(v, json_type_string));
                g_assert_cmpint(json_object_get_string_len(v), ==, 2 * SHA256_SIZE);
                for (size_t j = 0; j < SHA256_SIZE; j++) {
                        /* Lowercase, as hex::encode writes it. */
                        g_assert_false(g_ascii_isupper(s[2 * j]) || g_ascii_isupper(s[2 * j + 1]));
                        int hi = hex_digit_value(s[2 * j]), lo = hex_digit_value(s[2 * j + 1]);
                        g_assert_cmpint(hi, >=, 0);
                        g_assert_cmpint(lo, >=, 0);
                        ret->pcrs[i][j] = (uint8_t) (hi << 4 | lo);
                }
        }
        json_object_put(root);
}

static void parse_attest(GBytes *message, TPMS_ATTEST *ret) {
        size_t size, offset = 0;
        const uint8_t *data = g_bytes_get_data(message, &size);

        g_assert_cmpint(Tss2_MU_TPMS_ATTEST_Unmarshal(data, size, &offset, ret), ==, 0);
        g_assert_cmpuint(offset, ==, size);
}

/* Trustee's checks (deps/verifier/src/tpm/mod.rs): each returns false where the verifier bails
 * out. `trusted_pem` stands for its trusted_ak_keys_dir. */
static bool trustee_verify(const Evidence *e, const char *trusted_pem,
                           const uint8_t *expected_report_data, size_t expected_size) {
        g_autoptr(GBytes) trusted_der = NULL, trusted_hash = NULL, ak_hash = NULL;
        g_autoptr(GBytes) pcr_digest = NULL;
        uint8_t padded[TPM_REPORT_DATA_SIZE] = {};
        TPMT_SIGNATURE sig;
        TPMS_ATTEST attest;
        EVP_PKEY *trusted, *ak;
        const uint8_t *p;
        size_t size, offset = 0;
        EVP_MD_CTX *ctx;
        int ok;

        /* 1. The AK is one of the trusted keys: SHA-256 of the DER both sides. */
        trusted = pem_to_pkey(trusted_pem);
        trusted_der = pkey_der(trusted);
        EVP_PKEY_free(trusted);
        trusted_hash = sha256(g_bytes_get_data(trusted_der, NULL), g_bytes_get_size(trusted_der));
        ak_hash = sha256(g_bytes_get_data(e->ak_public, NULL), g_bytes_get_size(e->ak_public));
        if (!g_bytes_equal(trusted_hash, ak_hash))
                return false;

        /* 2. The signature: a TPMT_SIGNATURE with RSASSA, checked as PKCS#1 v1.5 with SHA-256
         * over the message by the DER key from the evidence. */
        p = g_bytes_get_data(e->signature, &size);
        if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(p, size, &offset, &sig) != 0 ||
            sig.sigAlg != TPM2_ALG_RSASSA)
                return false;
        p = g_bytes_get_data(e->ak_public, &size);
        ak = d2i_PUBKEY(NULL, &p, (long) size);
        g_assert_nonnull(ak);
        ctx = EVP_MD_CTX_new();
        g_assert_nonnull(ctx);
        g_assert_cmpint(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, ak), ==, 1);
        ok = EVP_DigestVerify(ctx, sig.signature.rsassa.sig.buffer, sig.signature.rsassa.sig.size,
                              g_bytes_get_data(e->message, NULL), g_bytes_get_size(e->message));
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(ak);
        if (ok != 1)
                return false;

        /* 3. The PCR values: SHA-256 of the 24 values, in order, is the quote's pcrDigest. */
        parse_attest(e->message, &attest);
        pcr_digest = sha256(e->pcrs, sizeof e->pcrs);
        if (attest.attested.quote.pcrDigest.size != SHA256_SIZE ||
            memcmp(attest.attested.quote.pcrDigest.buffer, g_bytes_get_data(pcr_digest, NULL),
                   SHA256_SIZE) != 0)
                return false;

        /* 4. extraData is the expected report data, zero-padded to 64 bytes. */
        g_assert_cmpuint(expected_size, <=, sizeof padded);
        memcpy(padded, expected_report_data, expected_size);
        return attest.extraData.size == sizeof padded &&
               memcmp(attest.extraData.buffer, padded, sizeof padded) == 0;
}

static char *quote(TpmAk *ak, const uint8_t report_data[TPM_REPORT_DATA_SIZE]) {
        char *json = NULL;
        g_assert_cmpint(tpm_quote(ak, report_data, &json), ==, 0);
        g_assert_nonnull(json);
        return json;
}

/* The PCR values as tpm2_pcrread reads them. */
static void read_pcrs(Swtpm *t, uint8_t ret[TPM_QUOTE_PCRS][SHA256_SIZE]) {
        g_autofree char *path = g_build_filename(t->dir, "pcrs", NULL);
        g_autofree char *data = NULL;
        size_t size;

        assert_tool(t, "tpm2_pcrread", "-Q",
                    "sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23", "-o",
                    path);
        g_assert_true(g_file_get_contents(path, &data, &size, NULL));
        g_assert_cmpuint(size, ==, TPM_QUOTE_PCRS * SHA256_SIZE);
        memcpy(ret, data, size);
        g_assert_cmpint(g_unlink(path), ==, 0);
}

/* Same TPM, same key: across handles and across reboots. */
static void test_ak_stable(Swtpm *t, gconstpointer data) {
        g_autofree char *first = ak_pem(t), *again = NULL, *after_reboot = NULL;
        g_autofree char *handles = NULL;
        EVP_PKEY *pkey;

        g_assert_true(g_str_has_prefix(first, "-----BEGIN PUBLIC KEY-----\n"));
        g_assert_true(g_str_has_suffix(first, "\n-----END PUBLIC KEY-----\n"));
        pkey = pem_to_pkey(first);
        g_assert_cmpint(EVP_PKEY_get_base_id(pkey), ==, EVP_PKEY_RSA);
        g_assert_cmpint(EVP_PKEY_get_bits(pkey), ==, 2048);
        EVP_PKEY_free(pkey);

        handles = transient_handles(t);
        g_assert_cmpstr(handles, ==, "");

        again = ak_pem(t);
        g_assert_cmpstr(again, ==, first);
        swtpm_reboot(t);
        after_reboot = ak_pem(t);
        g_assert_cmpstr(after_reboot, ==, first);

        /* Two at once: two transient copies of the same key. */
        _cleanup_tpm_ak_ TpmAk *a = open_ak(t), *b = open_ak(t);
        const uint8_t *der_a, *der_b;
        size_t size_a, size_b;
        g_assert_cmpint(tpm_ak_public_der(a, &der_a, &size_a), ==, 0);
        g_assert_cmpint(tpm_ak_public_der(b, &der_b, &size_b), ==, 0);
        g_assert_cmpmem(der_a, size_a, der_b, size_b);
}

/* Another TPM, another key. */
static void test_ak_per_tpm(Swtpm *t, gconstpointer data) {
        Swtpm other = {};
        g_autofree char *mine = ak_pem(t), *theirs = NULL;

        swtpm_start(&other, NULL);
        theirs = ak_pem(&other);
        swtpm_stop(&other, NULL);
        g_assert_cmpstr(mine, !=, theirs);
}

/* The template in tpm-quote.h is the whole truth: tpm2-tools makes the same key from it. */
static void test_ak_template_documented(Swtpm *t, gconstpointer data) {
        g_autofree char *mine = ak_pem(t), *theirs = NULL, *path = NULL;

        assert_tool(t, "tpm2_createprimary", "-Q", "-C", "e", "-g", "sha256", "-G",
                    "rsa2048:rsassa-sha256:null", "-a",
                    "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign|noda",
                    "-c", "ak.ctx");
        assert_tool(t, "tpm2_readpublic", "-Q", "-c", "ak.ctx", "-f", "pem", "-o", "ak.pem");
        /* Without a resource manager, tpm2-tools leave what they loaded in the TPM. */
        assert_tool(t, "tpm2_flushcontext", "-t");
        path = g_build_filename(t->dir, "ak.pem", NULL);
        g_assert_true(g_file_get_contents(path, &theirs, NULL, NULL));
        g_assert_cmpstr(mine, ==, theirs);
        g_assert_cmpint(g_unlink(path), ==, 0);
        g_free(path);
        path = g_build_filename(t->dir, "ak.ctx", NULL);
        g_assert_cmpint(g_unlink(path), ==, 0);
}

/* The AK is in the TPM while open, and only then. */
static void test_ak_flushed(Swtpm *t, gconstpointer data) {
        g_autofree char *before = NULL, *during = NULL, *after = NULL;
        TpmAk *ak;

        before = transient_handles(t);
        g_assert_cmpstr(before, ==, "");
        ak = open_ak(t);
        during = transient_handles(t);
        /* One handle, in tpm2_getcap's YAML: "- 0x80xxxxxx". */
        g_assert_true(g_str_has_prefix(during, "- 0x80"));
        g_assert_null(strchr(during, '\n'));
        g_assert_null(tpm_ak_free(ak));
        after = transient_handles(t);
        g_assert_cmpstr(after, ==, "");
        g_assert_null(tpm_ak_free(NULL));
}

static void test_evidence(Swtpm *t, gconstpointer data) {
        _cleanup_tpm_ak_ TpmAk *ak = open_ak(t);
        g_autofree char *pem = NULL, *json = NULL, *other_pem = NULL;
        g_auto(Evidence) e = {};
        uint8_t report_data[TPM_REPORT_DATA_SIZE], tpm_pcrs[TPM_QUOTE_PCRS][SHA256_SIZE];
        const uint8_t *der;
        size_t der_size;
        TPMS_ATTEST attest;
        TPMT_SIGNATURE sig;
        size_t offset = 0;

        g_assert_cmpint(tpm_ak_public_pem(ak, &pem), ==, 0);
        g_assert_cmpint(tpm_ak_public_der(ak, &der, &der_size), ==, 0);
        fill_report_data(report_data, 1);
        json = quote(ak, report_data);
        g_test_message("evidence: %s", json);
        evidence_parse(json, &e);

        /* ak_public: the DER of the PEM that --print-ak shows. */
        EVP_PKEY *pkey = pem_to_pkey(pem);
        g_autoptr(GBytes) pem_der = pkey_der(pkey);
        EVP_PKEY_free(pkey);
        g_assert_true(g_bytes_equal(e.ak_public, pem_der));
        g_assert_cmpmem(der, der_size, g_bytes_get_data(e.ak_public, NULL),
                        g_bytes_get_size(e.ak_public));
        g_assert_cmpmem(g_bytes_get_data(e.report_data, NULL), g_bytes_get_size(e.report_data),
                        report_data, sizeof report_data);

        /* message: a quote over SHA-256 PCRs 0-23 with the report data as extraData. */
        parse_attest(e.message, &attest);
        g_assert_cmpuint(attest.magic, ==, TPM2_GENERATED_VALUE);
        g_assert_cmpuint(attest.type, ==, TPM2_ST_ATTEST_QUOTE);
        g_assert_cmpmem(attest.extraData.buffer, attest.extraData.size, report_data,
                        sizeof report_data);
        g_assert_cmpuint(attest.attested.quote.pcrSelect.count, ==, 1);
        const TPMS_PCR_SELECTION *s = &attest.attested.quote.pcrSelect.pcrSelections[0];
        g_assert_cmpuint(s->hash, ==, TPM2_ALG_SHA256);
        g_assert_cmpuint(s->sizeofSelect, ==, 3);
        g_assert_cmpmem(s->pcrSelect, 3, "\xff\xff\xff", 3);

        /* signature: a whole TPMT_SIGNATURE, RSASSA with SHA-256. */
        g_assert_cmpint(Tss2_MU_TPMT_SIGNATURE_Unmarshal(g_bytes_get_data(e.signature, NULL),
                                                         g_bytes_get_size(e.signature), &offset,
                                                         &sig),
                        ==, 0);
        g_assert_cmpuint(offset, ==, g_bytes_get_size(e.signature));
        g_assert_cmpuint(sig.sigAlg, ==, TPM2_ALG_RSASSA);
        g_assert_cmpuint(sig.signature.rsassa.hash, ==, TPM2_ALG_SHA256);
        g_assert_cmpuint(sig.signature.rsassa.sig.size, ==, 256);

        /* pcrs: what the TPM holds. */
        read_pcrs(t, tpm_pcrs);
        g_assert_cmpmem(e.pcrs, sizeof e.pcrs, tpm_pcrs, sizeof tpm_pcrs);

        /* Trustee accepts it with the AK trusted, with the unpadded 48 bytes it expects, and
         * refuses it with another AK trusted or other report data. */
        g_assert_true(trustee_verify(&e, pem, report_data, sizeof report_data));
        g_assert_true(trustee_verify(&e, pem, report_data, 48));
        EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
        g_assert_nonnull(other);
        BIO *bio = BIO_new(BIO_s_mem());
        g_assert_cmpint(PEM_write_bio_PUBKEY(bio, other), ==, 1);
        char *p;
        long len = BIO_get_mem_data(bio, &p);
        other_pem = g_strndup(p, (gsize) len);
        BIO_free(bio);
        EVP_PKEY_free(other);
        g_assert_false(trustee_verify(&e, other_pem, report_data, sizeof report_data));
        report_data[47] ^= 1;
        g_assert_false(trustee_verify(&e, pem, report_data, sizeof report_data));
        report_data[47] ^= 1;

        /* ...and refuses a tampered PCR value or message. */
        e.pcrs[16][0] ^= 1;
        g_assert_false(trustee_verify(&e, pem, report_data, sizeof report_data));
        e.pcrs[16][0] ^= 1;
        g_autofree uint8_t *m =
                g_memdup2(g_bytes_get_data(e.message, NULL), g_bytes_get_size(e.message));
        gsize m_size = g_bytes_get_size(e.message);
        m[m_size - 1] ^= 1;
        g_bytes_unref(e.message);
        e.message = g_bytes_new(m, m_size);
        g_assert_false(trustee_verify(&e, pem, report_data, sizeof report_data));
}

/* A measurement shows up in the quote: Trustee's init-data binding reads PCR 8 as
 * SHA-256(0^32 || initdata digest), i.e. one extend of a zero PCR. */
static void test_evidence_pcr_extended(Swtpm *t, gconstpointer data) {
        static const char init_data_hex[] =
                "5f3a1c0d9e8b7a6f5e4d3c2b1a0918273645546372819a0b1c2d3e4f5a6b7c8d";
        _cleanup_tpm_ak_ TpmAk *ak = open_ak(t);
        g_autofree char *json = NULL, *extend = NULL, *pem = NULL;
        g_auto(Evidence) e = {};
        uint8_t report_data[TPM_REPORT_DATA_SIZE], input[2 * SHA256_SIZE] = {};

        extend = g_strdup_printf("8:sha256=%s", init_data_hex);
        assert_tool(t, "tpm2_pcrextend", extend);
        for (size_t i = 0; i < SHA256_SIZE; i++)
                input[SHA256_SIZE + i] = (uint8_t) (hex_digit_value(init_data_hex[2 * i]) << 4 |
                                                    hex_digit_value(init_data_hex[2 * i + 1]));
        g_autoptr(GBytes) expected = sha256(input, sizeof input);

        fill_report_data(report_data, 2);
        json = quote(ak, report_data);
        evidence_parse(json, &e);
        g_assert_cmpmem(e.pcrs[8], SHA256_SIZE, g_bytes_get_data(expected, NULL), SHA256_SIZE);
        g_assert_cmpint(tpm_ak_public_pem(ak, &pem), ==, 0);
        g_assert_true(trustee_verify(&e, pem, report_data, sizeof report_data));
}

/* Every quote carries its own report data; the AK stays the same. */
static void test_evidence_fresh(Swtpm *t, gconstpointer data) {
        _cleanup_tpm_ak_ TpmAk *ak = open_ak(t);
        g_autofree char *json1 = NULL, *json2 = NULL, *pem = NULL;
        g_auto(Evidence) e1 = {}, e2 = {};
        uint8_t rd1[TPM_REPORT_DATA_SIZE], rd2[TPM_REPORT_DATA_SIZE];

        g_assert_cmpint(tpm_ak_public_pem(ak, &pem), ==, 0);
        fill_report_data(rd1, 3);
        fill_report_data(rd2, 4);
        json1 = quote(ak, rd1);
        json2 = quote(ak, rd2);
        evidence_parse(json1, &e1);
        evidence_parse(json2, &e2);
        g_assert_true(g_bytes_equal(e1.ak_public, e2.ak_public));
        g_assert_false(g_bytes_equal(e1.message, e2.message));
        g_assert_true(trustee_verify(&e1, pem, rd1, sizeof rd1));
        g_assert_true(trustee_verify(&e2, pem, rd2, sizeof rd2));
        g_assert_false(trustee_verify(&e1, pem, rd2, sizeof rd2));
}

typedef struct Extender {
        Swtpm *t;
        gint stop;
        unsigned extends;
} Extender;

static gpointer extend_until_stopped(gpointer data) {
        Extender *x = data;

        while (!g_atomic_int_get(&x->stop)) {
                assert_tool(x->t, "tpm2_pcrextend",
                            "16:sha256="
                            "0000000000000000000000000000000000000000000000000000000000000001");
                x->extends++;
        }
        return NULL;
}

/* Someone else extends a PCR all along (early boot has systemd-pcrphase and friends): every
 * quote either comes with the PCR values it covers or fails with -EAGAIN, never with values
 * from before or after it. */
static void test_evidence_pcrs_changing(Swtpm *t, gconstpointer data) {
        _cleanup_tpm_ak_ TpmAk *ak = open_ak(t);
        g_autofree char *pem = NULL;
        Extender x = { .t = t };
        unsigned quoted = 0, gave_up = 0;
        GThread *thread;

        g_assert_cmpint(tpm_ak_public_pem(ak, &pem), ==, 0);
        thread = g_thread_new("extender", extend_until_stopped, &x);
        for (uint8_t i = 0; i < 20; i++) {
                g_autofree char *json = NULL;
                g_auto(Evidence) e = {};
                uint8_t report_data[TPM_REPORT_DATA_SIZE];
                int r;

                fill_report_data(report_data, i);
                r = tpm_quote(ak, report_data, &json);
                if (r == -EAGAIN) {
                        g_assert_null(json);
                        gave_up++;
                        continue;
                }
                g_assert_cmpint(r, ==, 0);
                evidence_parse(json, &e);
                g_assert_true(trustee_verify(&e, pem, report_data, sizeof report_data));
                quoted++;
        }
        g_atomic_int_set(&x.stop, 1);
        g_thread_join(thread);
        g_test_message("%u quotes, %u given up, %u extends meanwhile", quoted, gave_up, x.extends);
        g_assert_cmpuint(x.extends, >, 0);
}

/* The documented assumption: empty endorsement authorization. Nothing is left behind when it
 * does not hold. */
static void test_endorsement_password(Swtpm *t, gconstpointer data) {
        TpmAk *ak = NULL;

        assert_tool(t, "tpm2_changeauth", "-c", "e", "secret");
        g_assert_cmpint(tpm_ak_open(t->tcti, &ak), ==, -EACCES);
        g_assert_null(ak);
}

static void test_endorsement_disabled(Swtpm *t, gconstpointer data) {
        TpmAk *ak = NULL;

        assert_tool(t, "tpm2_hierarchycontrol", "-C", "p", "ehEnable", "clear");
        g_assert_cmpint(tpm_ak_open(t->tcti, &ak), ==, -EPERM);
        g_assert_null(ak);
        /* Enabled again at the next TPM2_Startup(CLEAR). */
        swtpm_reboot(t);
        g_free(ak_pem(t));
}

/* A TPM without a SHA-256 bank: the AK works, the quote is refused, nothing is left. */
static void test_no_sha256_bank(Swtpm *t, gconstpointer data) {
        uint8_t report_data[TPM_REPORT_DATA_SIZE];
        char *json = NULL;

        assert_tool(t, "tpm2_pcrallocate", "-Q", "sha1:all+sha256:none");
        swtpm_reboot(t);

        _cleanup_tpm_ak_ TpmAk *ak = open_ak(t);
        fill_report_data(report_data, 5);
        g_assert_cmpint(tpm_quote(ak, report_data, &json), ==, -EOPNOTSUPP);
        g_assert_null(json);
}

static void test_no_tpm(void) {
        g_autofree char *dir = NULL, *missing = NULL, *device = NULL;
        TpmAk *ak = NULL;

        dir = g_dir_make_tmp("devgate-quote-XXXXXX", NULL);
        g_assert_nonnull(dir);
        missing = g_strdup_printf("swtpm:path=%s/sock", dir);
        device = g_strdup_printf("device:%s/tpmrm0", dir);

        g_assert_cmpint(tpm_ak_open(missing, &ak), ==, -ENODEV);
        g_assert_cmpint(tpm_ak_open(device, &ak), ==, -ENODEV);
        g_assert_cmpint(tpm_ak_open("no-such-tcti", &ak), ==, -EOPNOTSUPP);
        g_assert_cmpint(tpm_ak_open("swtpm:bogus", &ak), ==, -EINVAL);
        g_assert_null(ak);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

#define add_swtpm_test(path, fn) g_test_add(path, Swtpm, NULL, swtpm_start, fn, swtpm_stop)

int main(int argc, char *argv[]) {
        if (!swtpm_available()) {
                printf("1..0 # SKIP swtpm is not installed\n");
                return 0;
        }

        g_test_init(&argc, &argv, NULL);
        log_setup(LOG_TARGET_STDERR, g_test_verbose() ? LOG_DEBUG : LOG_ERR);

        add_swtpm_test("/tpm-quote/ak/stable", test_ak_stable);
        add_swtpm_test("/tpm-quote/ak/per-tpm", test_ak_per_tpm);
        add_swtpm_test("/tpm-quote/ak/template-documented", test_ak_template_documented);
        add_swtpm_test("/tpm-quote/ak/flushed", test_ak_flushed);
        add_swtpm_test("/tpm-quote/evidence", test_evidence);
        add_swtpm_test("/tpm-quote/evidence/pcr-extended", test_evidence_pcr_extended);
        add_swtpm_test("/tpm-quote/evidence/fresh", test_evidence_fresh);
        add_swtpm_test("/tpm-quote/evidence/pcrs-changing", test_evidence_pcrs_changing);
        add_swtpm_test("/tpm-quote/endorsement/password", test_endorsement_password);
        add_swtpm_test("/tpm-quote/endorsement/disabled", test_endorsement_disabled);
        add_swtpm_test("/tpm-quote/no-sha256-bank", test_no_sha256_bank);
        g_test_add_func("/tpm-quote/no-tpm", test_no_tpm);
        return g_test_run();
}
