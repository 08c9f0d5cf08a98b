// SPDX-License-Identifier: LGPL-2.1-or-later
/* The verifier of Trustee's "tpm" evidence (tpm-verify.c) against what the attester makes
 * (tpm-quote.c on swtpm), against quotes tpm2-tools makes with the same AK (a TPM2_Certify, a
 * quote of other PCRs), and against quotes crafted and signed here with a software key, for
 * what no TPM signs (trailing bytes, wrong magic, other selections). Every refusal is checked
 * for its errno and a one-line reason; the swtpm is started once, for the material, and is
 * left empty. Skips only if swtpm is missing. */
#include <glib.h>
#include <glib/gstdio.h>
#include <json.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <tss2/tss2_mu.h>
#include <unistd.h>

#include "base64.h"
#include "log.h"
#include "swtpm-fixture.h"
#include "tpm-quote.h"
#include "tpm-verify.h"

#define SHA256_SIZE   TPM_VERIFY_SHA256_SIZE
#define PCR_LIST_0_23 "sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23"
#define PCR_LIST_0_22 "sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TpmAkSet, tpm_ak_set_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_object, json_object_put)

/* What the tests verify, made once. */
typedef struct Material {
        uint8_t report_data[TPM_REPORT_DATA_SIZE];
        char *evidence; /* tpm_quote() */
        char *ak_pem;
        /* Signed by the same AK, made by tpm2-tools from the template of tpm-quote.h. */
        GBytes *certify_message, *certify_signature; /* TPM2_Certify: an attestation, no quote */
        GBytes *partial_message, *partial_signature; /* a quote of PCRs 0-22 only */
        /* RSA-2048 software keys: one for crafted quotes, one that is never anybody's AK. */
        EVP_PKEY *software_key, *other_key;
} Material;

static Material material;

static char *bytes_to_hex(const uint8_t *data, size_t size) {
        GString *s = g_string_sized_new(2 * size);
        for (size_t i = 0; i < size; i++)
                g_string_append_printf(s, "%02x", data[i]);
        return g_string_free(s, FALSE);
}

/* Reads a file a tool wrote into the swtpm's directory, and removes it. */
static GBytes *take_file(const char *dir, const char *name) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autoptr(GError) error = NULL;
        char *data = NULL;
        size_t size = 0;

        g_file_get_contents(path, &data, &size, &error);
        g_assert_no_error(error);
        g_assert_cmpint(g_unlink(path), ==, 0);
        return g_bytes_new_take(data, size);
}

static EVP_PKEY *rsa_2048(void) {
        EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
        g_assert_nonnull(pkey);
        return pkey;
}

static char *pkey_pem(EVP_PKEY *pkey) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *data, *pem;
        long len;

        g_assert_nonnull(bio);
        g_assert_cmpint(PEM_write_bio_PUBKEY(bio, pkey), ==, 1);
        len = BIO_get_mem_data(bio, &data);
        pem = g_strndup(data, (size_t) len);
        BIO_free(bio);
        return pem;
}

static char *pkey_id(EVP_PKEY *pkey) {
        unsigned char *der = NULL, md[SHA256_SIZE];
        unsigned md_size = 0;
        int len = i2d_PUBKEY(pkey, &der);

        g_assert_cmpint(len, >, 0);
        g_assert_cmpint(EVP_Digest(der, (size_t) len, md, &md_size, EVP_sha256(), NULL), ==, 1);
        OPENSSL_free(der);
        return bytes_to_hex(md, md_size);
}

static EVP_PKEY *pem_pkey(const char *pem) {
        BIO *bio = BIO_new_mem_buf(pem, -1);
        EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
        g_assert_nonnull(pkey);
        return pkey;
}

static void make_material(void) {
        g_autofree char *report_data_hex = NULL;
        TpmAk *ak = NULL;
        Swtpm t = {};

        /* As a KBS makes it: a SHA-384 digest, zero-padded to 64 bytes. */
        for (size_t i = 0; i < 48; i++)
                material.report_data[i] = (uint8_t) (0x5a + 11 * i);
        report_data_hex = bytes_to_hex(material.report_data, TPM_REPORT_DATA_SIZE);

        swtpm_start(&t, NULL);
        g_assert_cmpint(tpm_ak_open(t.tcti, &ak), ==, 0);
        g_assert_cmpint(tpm_ak_public_pem(ak, &material.ak_pem), ==, 0);
        g_assert_cmpint(tpm_quote(ak, material.report_data, &material.evidence), ==, 0);
        g_assert_null(tpm_ak_free(ak));

        /* The same key, by tpm2-tools (test-tpm-quote.c checks that it is the same). Without a
         * resource manager every tool leaves what it loaded in the TPM: flushed after each. */
        assert_tool(&t, "tpm2_createprimary", "-Q", "-C", "e", "-g", "sha256", "-G",
                    "rsa2048:rsassa-sha256:null", "-a",
                    "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign|noda",
                    "-c", "ak.ctx");
        assert_tool(&t, "tpm2_flushcontext", "-t");
        assert_tool(&t, "tpm2_certify", "-Q", "-c", "ak.ctx", "-C", "ak.ctx", "-g", "sha256", "-o",
                    "certify.msg", "-s", "certify.sig");
        assert_tool(&t, "tpm2_flushcontext", "-t");
        assert_tool(&t, "tpm2_quote", "-Q", "-c", "ak.ctx", "-l", PCR_LIST_0_22, "-q",
                    report_data_hex, "-m", "partial.msg", "-s", "partial.sig");
        assert_tool(&t, "tpm2_flushcontext", "-t");
        material.certify_message = take_file(t.dir, "certify.msg");
        material.certify_signature = take_file(t.dir, "certify.sig");
        material.partial_message = take_file(t.dir, "partial.msg");
        material.partial_signature = take_file(t.dir, "partial.sig");
        g_bytes_unref(take_file(t.dir, "ak.ctx"));
        swtpm_stop(&t, NULL);

        material.software_key = rsa_2048();
        material.other_key = rsa_2048();
}

static const Material *get_material(void) {
        if (!material.evidence)
                make_material();
        return &material;
}

static void material_clear(void) {
        g_free(material.evidence);
        g_free(material.ak_pem);
        g_clear_pointer(&material.certify_message, g_bytes_unref);
        g_clear_pointer(&material.certify_signature, g_bytes_unref);
        g_clear_pointer(&material.partial_message, g_bytes_unref);
        g_clear_pointer(&material.partial_signature, g_bytes_unref);
        EVP_PKEY_free(material.software_key);
        EVP_PKEY_free(material.other_key);
}

/* A temporary AK directory, removed with everything in it. */
static char *ak_dir_new(void) {
        g_autoptr(GError) error = NULL;
        char *dir = g_dir_make_tmp("devgate-aks-XXXXXX", &error);
        g_assert_no_error(error);
        return dir;
}

static void ak_dir_remove(char *dir) {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);

        g_assert_nonnull(d);
        for (const char *name; (name = g_dir_read_name(d));) {
                g_autofree char *path = g_build_filename(dir, name, NULL);
                if (g_file_test(path, G_FILE_TEST_IS_DIR) &&
                    !g_file_test(path, G_FILE_TEST_IS_SYMLINK))
                        g_assert_cmpint(g_rmdir(path), ==, 0);
                else
                        g_assert_cmpint(g_unlink(path), ==, 0);
        }
        g_assert_cmpint(g_rmdir(dir), ==, 0);
        g_free(dir);
}
/* g_autoptr(char_dir): a char * naming a directory to remove. */
typedef char char_dir;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(char_dir, ak_dir_remove)

static void write_text(const char *dir, const char *name, const char *text) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autoptr(GError) error = NULL;
        g_file_set_contents(path, text, -1, &error);
        g_assert_no_error(error);
}

/* A set of the given PEM keys, NULL-terminated. */
static TpmAkSet *set_of(const char *pem, ...) {
        g_autoptr(char_dir) dir = ak_dir_new();
        TpmAkSet *set = NULL;
        char reason[256] = "";
        unsigned n = 0;
        va_list ap;

        va_start(ap, pem);
        for (const char *p = pem; p; p = va_arg(ap, const char *)) {
                g_autofree char *name = g_strdup_printf("ak%u.pub", n++);
                write_text(dir, name, p);
        }
        va_end(ap);
        g_assert_cmpint(tpm_ak_set_load(dir, &set, reason, sizeof reason), ==, 0);
        g_assert_nonnull(set);
        g_assert_cmpuint(tpm_ak_set_size(set), ==, n);
        return set;
}

static TpmAkSet *ak_set(void) {
        return set_of(get_material()->ak_pem, NULL);
}

static json_object *parse(const char *json) {
        json_object *o = json_tokener_parse(json);
        g_assert_nonnull(o);
        return o;
}

static json_object *quote_member(json_object *evidence) {
        json_object *q = NULL;
        g_assert_true(json_object_object_get_ex(evidence, "tpm_quote", &q));
        return q;
}

static GBytes *get_base64(json_object *o, const char *name) {
        json_object *v = NULL;
        uint8_t *data = NULL;
        size_t size = 0;

        g_assert_true(json_object_object_get_ex(o, name, &v));
        g_assert_cmpint(base64_decode(json_object_get_string(v),
                                      (size_t) json_object_get_string_len(v), &data, &size),
                        ==, 0);
        return g_bytes_new_take(data, size);
}

static void set_string(json_object *o, const char *name, const char *value) {
        g_assert_cmpint(json_object_object_add(o, name, json_object_new_string(value)), ==, 0);
}

static void set_base64(json_object *o, const char *name, const void *data, size_t size) {
        g_autofree char *text = NULL;
        g_assert_cmpint(base64_encode(data, size, &text), ==, 0);
        set_string(o, name, text);
}

/* Verifies and checks the outcome: on failure, the errno, a one-line reason and ret untouched. */
static void assert_verify_full(json_object *evidence, const uint8_t *report_data,
                               const TpmAkSet *set, int expected, const char *reason_part) {
        TpmVerified v, untouched;
        char reason[256];
        int r;

        memset(&v, 0xa5, sizeof v);
        untouched = v;
        memset(reason, 0, sizeof reason);
        r = tpm_evidence_verify(evidence, report_data, set, &v, reason, sizeof reason);
        if (r < 0)
                g_test_message("refused: %s", reason);
        g_assert_cmpint(r, ==, expected);
        if (r == 0)
                return;
        g_assert_cmpmem(&v, sizeof v, &untouched, sizeof untouched);
        g_assert_cmpuint(strlen(reason), >, 0);
        g_assert_null(strchr(reason, '\n'));
        if (reason_part && !strstr(reason, reason_part))
                g_error("reason \"%s\" does not say \"%s\"", reason, reason_part);
}

static void assert_verify(json_object *evidence, int expected, const char *reason_part) {
        g_autoptr(TpmAkSet) set = ak_set();
        assert_verify_full(evidence, get_material()->report_data, set, expected, reason_part);
}

/* The attester's evidence, with its AK registered. */
static void test_accepted(void) {
        const Material *m = get_material();
        g_autoptr(TpmAkSet) set = NULL;
        g_autoptr(json_object) evidence = parse(m->evidence);
        g_autofree char *expected_id = NULL;
        json_object *pcrs = NULL;
        TpmVerified v = {};
        char reason[256] = "";
        EVP_PKEY *ak;

        /* Registered among other keys, found by its hash. */
        g_autofree char *other = pkey_pem(m->other_key), *software = pkey_pem(m->software_key);
        set = set_of(other, m->ak_pem, software, NULL);
        g_assert_cmpint(
                tpm_evidence_verify(evidence, m->report_data, set, &v, reason, sizeof reason), ==,
                0);

        ak = pem_pkey(m->ak_pem);
        expected_id = pkey_id(ak);
        EVP_PKEY_free(ak);
        g_assert_cmpstr(v.ak_id, ==, expected_id);

        g_assert_true(json_object_object_get_ex(quote_member(evidence), "pcrs", &pcrs));
        for (size_t i = 0; i < TPM_QUOTE_PCRS; i++) {
                g_autofree char *hex = bytes_to_hex(v.pcrs[i], SHA256_SIZE);
                g_assert_cmpstr(hex, ==,
                                json_object_get_string(json_object_array_get_idx(pcrs, i)));
        }
}

/* Parsed from text the way devgate-kbs reads a request: same result. */
static void test_accepted_key_order(void) {
        const Material *m = get_material();
        g_autoptr(json_object) evidence = parse(m->evidence), reordered = json_object_new_object();
        json_object *q = quote_member(evidence), *q2 = json_object_new_object();

        /* Members in another order than the attester writes them. */
        json_object_object_add(q2, "signature",
                               json_object_get(json_object_object_get(q, "signature")));
        json_object_object_add(q2, "pcrs", json_object_get(json_object_object_get(q, "pcrs")));
        json_object_object_add(q2, "message",
                               json_object_get(json_object_object_get(q, "message")));
        json_object_object_add(reordered, "tpm_quote", q2);
        json_object_object_add(reordered, "report_data",
                               json_object_get(json_object_object_get(evidence, "report_data")));
        json_object_object_add(reordered, "ak_public",
                               json_object_get(json_object_object_get(evidence, "ak_public")));
        assert_verify(reordered, 0, NULL);
}

static void test_ak_not_registered(void) {
        const Material *m = get_material();
        g_autoptr(json_object) evidence = parse(m->evidence);
        g_autofree char *other = pkey_pem(m->other_key), *id = NULL, *expected = NULL;
        g_autoptr(TpmAkSet) set = set_of(other, NULL), empty = set_of(NULL);
        EVP_PKEY *ak = pem_pkey(m->ak_pem);

        id = pkey_id(ak);
        EVP_PKEY_free(ak);
        expected = g_strdup_printf("AK sha256:%s is not registered", id);
        assert_verify_full(evidence, m->report_data, set, -ENOKEY, expected);
        assert_verify_full(evidence, m->report_data, empty, -ENOKEY, expected);
}

/* The registered key's signature, but the evidence names another key: refused as unknown,
 * never checked against the key the evidence carries. */
static void test_ak_swapped(void) {
        const Material *m = get_material();
        g_autoptr(json_object) evidence = parse(m->evidence);
        unsigned char *der = NULL;
        int len = i2d_PUBKEY(m->other_key, &der);

        g_assert_cmpint(len, >, 0);
        set_base64(evidence, "ak_public", der, (size_t) len);
        OPENSSL_free(der);
        assert_verify(evidence, -ENOKEY, "is not registered");
}

/* Every byte of the message, one at a time: the signature no longer verifies. */
static void test_message_tampered(void) {
        const Material *m = get_material();
        g_autoptr(json_object) original = parse(m->evidence);
        g_autoptr(GBytes) message = get_base64(quote_member(original), "message");
        g_autoptr(TpmAkSet) set = ak_set();
        size_t size;
        const uint8_t *data = g_bytes_get_data(message, &size);

        for (size_t i = 0; i < size; i++) {
                g_autoptr(json_object) evidence = parse(m->evidence);
                g_autofree uint8_t *copy = g_memdup2(data, size);

                copy[i] ^= 0x01;
                set_base64(quote_member(evidence), "message", copy, size);
                assert_verify_full(evidence, m->report_data, set, -EKEYREJECTED, "does not verify");
        }
}

/* Every byte of the RSA signature; the TPMT_SIGNATURE header is sigAlg (2 bytes), hash (2) and
 * size (2). */
static void test_signature_tampered(void) {
        const Material *m = get_material();
        g_autoptr(json_object) original = parse(m->evidence);
        g_autoptr(GBytes) signature = get_base64(quote_member(original), "signature");
        g_autoptr(TpmAkSet) set = ak_set();
        size_t size;
        const uint8_t *data = g_bytes_get_data(signature, &size);

        g_assert_cmpuint(size, ==, 6 + 256);
        for (size_t i = 0; i < size; i++) {
                g_autoptr(json_object) evidence = parse(m->evidence);
                g_autofree uint8_t *copy = g_memdup2(data, size);
                TpmVerified v;
                char reason[256] = "";
                int r;

                copy[i] ^= 0x80;
                set_base64(quote_member(evidence), "signature", copy, size);
                if (i >= 6) {
                        assert_verify_full(evidence, m->report_data, set, -EKEYREJECTED,
                                           "does not verify");
                        continue;
                }
                /* Another algorithm, hash or size: malformed or not acceptable, never good. */
                r = tpm_evidence_verify(evidence, m->report_data, set, &v, reason, sizeof reason);
                g_assert_true(r == -EBADMSG || r == -EKEYREJECTED);
        }
}

static void test_signature_trailing(void) {
        const Material *m = get_material();
        g_autoptr(json_object) evidence = parse(m->evidence);
        g_autoptr(GBytes) signature = get_base64(quote_member(evidence), "signature");
        g_autoptr(GByteArray) longer = g_byte_array_new();

        g_byte_array_append(longer, g_bytes_get_data(signature, NULL),
                            (guint) g_bytes_get_size(signature));
        g_byte_array_append(longer, (const guint8 *) "", 1);
        set_base64(quote_member(evidence), "signature", longer->data, longer->len);
        assert_verify(evidence, -EBADMSG, "after its TPMT_SIGNATURE");
}

/* Each PCR value changed in turn: the quote's pcrDigest no longer matches. */
static void test_pcr_changed(void) {
        const Material *m = get_material();
        g_autoptr(TpmAkSet) set = ak_set();

        for (size_t i = 0; i < TPM_QUOTE_PCRS; i++) {
                g_autoptr(json_object) evidence = parse(m->evidence);
                json_object *pcrs = json_object_object_get(quote_member(evidence), "pcrs");
                g_autofree char *value =
                        g_strdup(json_object_get_string(json_object_array_get_idx(pcrs, i)));

                value[63] = value[63] == '0' ? '1' : '0';
                json_object_array_put_idx(pcrs, i, json_object_new_string(value));
                assert_verify_full(evidence, m->report_data, set, -EBADE, "pcrDigest");
        }

        /* Two different values swapped: the digest is over the values in order. PCR 17 starts
         * as all ones, PCR 0 as zeros. */
        g_autoptr(json_object) evidence = parse(m->evidence);
        json_object *pcrs = json_object_object_get(quote_member(evidence), "pcrs");
        g_autofree char *pcr0 =
                g_strdup(json_object_get_string(json_object_array_get_idx(pcrs, 0)));
        g_autofree char *pcr17 =
                g_strdup(json_object_get_string(json_object_array_get_idx(pcrs, 17)));
        g_assert_cmpstr(pcr0, !=, pcr17);
        json_object_array_put_idx(pcrs, 0, json_object_new_string(pcr17));
        json_object_array_put_idx(pcrs, 17, json_object_new_string(pcr0));
        assert_verify_full(evidence, m->report_data, set, -EBADE, "pcrDigest");
}

static void test_report_data_wrong(void) {
        const Material *m = get_material();
        g_autoptr(json_object) evidence = parse(m->evidence);
        g_autoptr(TpmAkSet) set = ak_set();
        uint8_t other[TPM_REPORT_DATA_SIZE];

        /* Any byte, the padding included. */
        for (size_t i = 0; i < TPM_REPORT_DATA_SIZE; i += 21) {
                memcpy(other, m->report_data, sizeof other);
                other[i] ^= 1;
                assert_verify_full(evidence, other, set, -EBADE, "qualifying data");
        }
        memcpy(other, m->report_data, sizeof other);
        other[TPM_REPORT_DATA_SIZE - 1] = 1;
        assert_verify_full(evidence, other, set, -EBADE, "qualifying data");
}

/* "report_data" is not trusted, but must not contradict the quote either. */
static void test_report_data_member_inconsistent(void) {
        const Material *m = get_material();
        g_autoptr(json_object) evidence = parse(m->evidence);
        uint8_t other[TPM_REPORT_DATA_SIZE];

        memcpy(other, m->report_data, sizeof other);
        other[0] ^= 1;
        set_base64(evidence, "report_data", other, sizeof other);
        assert_verify(evidence, -EBADMSG, "\"report_data\"");

        /* Unpadded, as an earlier attester sent it. */
        set_base64(evidence, "report_data", m->report_data, 48);
        assert_verify(evidence, -EBADMSG, "\"report_data\" has 48 bytes");
}

static void test_unknown_member(void) {
        const Material *m = get_material();
        g_autoptr(json_object) top = parse(m->evidence), inner = parse(m->evidence);

        /* "svn", as earlier attesters sent it. */
        set_string(top, "svn", "1");
        assert_verify(top, -EBADMSG, "unknown member \"svn\"");
        set_string(quote_member(inner), "pcrs_sha1", "");
        assert_verify(inner, -EBADMSG, "unknown member \"pcrs_sha1\"");
}

/* A key from the network ends up in the reason: on one line. */
static void test_unknown_member_printable(void) {
        const Material *m = get_material();
        g_autoptr(json_object) evidence = parse(m->evidence);

        set_string(evidence,
                   "a\nb\x7f"
                   "cccccccccccccccccccccccccccccccccccccccccccccc",
                   "");
        assert_verify(evidence, -EBADMSG, "\"a?b?cccc");
}

static void test_missing_member(void) {
        static const char *const top[] = { "ak_public", "report_data", "tpm_quote" };
        static const char *const inner[] = { "message", "pcrs", "signature" };
        const Material *m = get_material();

        for (size_t i = 0; i < G_N_ELEMENTS(top); i++) {
                g_autoptr(json_object) evidence = parse(m->evidence);
                g_autofree char *expected = g_strdup_printf("no member \"%s\"", top[i]);
                json_object_object_del(evidence, top[i]);
                assert_verify(evidence, -EBADMSG, expected);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(inner); i++) {
                g_autoptr(json_object) evidence = parse(m->evidence);
                g_autofree char *expected = g_strdup_printf("no member \"%s\"", inner[i]);
                json_object_object_del(quote_member(evidence), inner[i]);
                assert_verify(evidence, -EBADMSG, expected);
        }
}

static void test_wrong_types(void) {
        const Material *m = get_material();
        g_autoptr(json_object) array = json_object_new_array(), number = parse(m->evidence),
                               quote_string = parse(m->evidence), pcrs_object = parse(m->evidence),
                               pcr_number = parse(m->evidence);

        assert_verify(array, -EBADMSG, "not a JSON object");
        json_object_object_add(number, "ak_public", json_object_new_int(1));
        assert_verify(number, -EBADMSG, "\"ak_public\" is not a string");
        set_string(quote_string, "tpm_quote", "{}");
        assert_verify(quote_string, -EBADMSG, "\"tpm_quote\" is not a JSON object");
        json_object_object_add(quote_member(pcrs_object), "pcrs", json_object_new_object());
        assert_verify(pcrs_object, -EBADMSG, "\"pcrs\" is not an array");
        json_object_array_put_idx(json_object_object_get(quote_member(pcr_number), "pcrs"), 3,
                                  json_object_new_int(0));
        assert_verify(pcr_number, -EBADMSG, "pcrs[3]");
}

/* Each base64 member, spelled in ways a lenient decoder would take. */
static void test_bad_base64(void) {
        static const char *const names[] = { "ak_public", "report_data", "message", "signature" };
        const Material *m = get_material();

        for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
                for (unsigned how = 0; how < 5; how++) {
                        g_autoptr(json_object) evidence = parse(m->evidence);
                        json_object *o = i < 2 ? evidence : quote_member(evidence);
                        /* "is not standard base64", or "is longer than" for report_data,
                         * whose size is known. */
                        g_autofree char *expected = g_strdup_printf("\"%s\" is ", names[i]);
                        g_autofree char *text = g_strdup(
                                json_object_get_string(json_object_object_get(o, names[i])));
                        g_autofree char *changed = NULL;
                        size_t len = strlen(text);

                        switch (how) {
                        case 0: /* whitespace, as PEM and MIME have it */
                                changed = g_strdup_printf("%.*s\n%s", 4, text, text + 4);
                                break;
                        case 1: /* the URL-safe alphabet */
                                changed = g_strdup(text);
                                changed[1] = '-';
                                break;
                        case 2: /* padding left out */
                                changed = g_strdup(text);
                                while (len > 0 && changed[len - 1] == '=')
                                        changed[--len] = '\0';
                                if (len % 4 == 0)
                                        changed[--len] = '\0';
                                break;
                        case 3: /* a character that is no base64 at all */
                                changed = g_strdup(text);
                                changed[2] = '*';
                                break;
                        case 4: /* padding in the middle */
                                changed = g_strdup_printf("AA==%s", text);
                                break;
                        }
                        set_string(o, names[i], changed);
                        assert_verify(evidence, -EBADMSG, expected);
                }
        }
}

static void test_pcr_count(void) {
        const Material *m = get_material();
        g_autoptr(json_object) fewer = parse(m->evidence), more = parse(m->evidence);
        json_object *pcrs;

        pcrs = json_object_object_get(quote_member(fewer), "pcrs");
        g_assert_cmpint(json_object_array_del_idx(pcrs, 23, 1), ==, 0);
        assert_verify(fewer, -EBADMSG, "\"pcrs\" has 23 values");
        pcrs = json_object_object_get(quote_member(more), "pcrs");
        json_object_array_add(pcrs, json_object_new_string(json_object_get_string(
                                            json_object_array_get_idx(pcrs, 0))));
        assert_verify(more, -EBADMSG, "\"pcrs\" has 25 values");
}

static void test_pcr_spelling(void) {
        const Material *m = get_material();
        static const char *const bad[] = {
                /* uppercase, as tpm2_pcrread prints them */
                "00000000000000000000000000000000000000000000000000000000000000AB",
                /* one digit short, one too many */
                "000000000000000000000000000000000000000000000000000000000000000",
                "00000000000000000000000000000000000000000000000000000000000000000",
                "0x000000000000000000000000000000000000000000000000000000000000ab",
                "00000000000000000000000000000000000000000000000000000000000000 a",
                "",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(json_object) evidence = parse(m->evidence);
                json_object *pcrs = json_object_object_get(quote_member(evidence), "pcrs");
                json_object_array_put_idx(pcrs, 5, json_object_new_string(bad[i]));
                assert_verify(evidence, -EBADMSG, "pcrs[5] is not 64 lowercase hex digits");
        }
}

/* An attestation the AK made, but a TPM2_Certify: the TPM signed it, it is not a quote. */
static void test_not_a_quote(void) {
        const Material *m = get_material();
        g_autoptr(json_object) evidence = parse(m->evidence);
        json_object *q = quote_member(evidence);

        set_base64(q, "message", g_bytes_get_data(m->certify_message, NULL),
                   g_bytes_get_size(m->certify_message));
        set_base64(q, "signature", g_bytes_get_data(m->certify_signature, NULL),
                   g_bytes_get_size(m->certify_signature));
        assert_verify(evidence, -EBADE, "type 0x8017, not a quote");
}

/* A genuine quote by the AK, over PCRs 0-22: the 24 values sent are not what it covers. */
static void test_quote_other_pcrs(void) {
        const Material *m = get_material();
        g_autoptr(json_object) evidence = parse(m->evidence);
        json_object *q = quote_member(evidence);

        set_base64(q, "message", g_bytes_get_data(m->partial_message, NULL),
                   g_bytes_get_size(m->partial_message));
        set_base64(q, "signature", g_bytes_get_data(m->partial_signature, NULL),
                   g_bytes_get_size(m->partial_signature));
        assert_verify(evidence, -EBADE, "exactly the SHA-256 PCRs 0-23");
}

/* Quotes no TPM signs, signed here with a registered software key. */

typedef struct Crafted {
        TPMS_ATTEST attest;
        uint8_t pcrs[TPM_QUOTE_PCRS][SHA256_SIZE];
        size_t trailing; /* zero bytes after the TPMS_ATTEST, signed with it */
        TPMI_ALG_SIG_SCHEME scheme;
        TPMI_ALG_HASH hash;
} Crafted;

static void crafted_init(Crafted *c) {
        const Material *m = get_material();
        TPMS_PCR_SELECTION *s = &c->attest.attested.quote.pcrSelect.pcrSelections[0];
        unsigned size = 0;

        *c = (Crafted){
                .scheme = TPM2_ALG_RSASSA,
                .hash = TPM2_ALG_SHA256,
        };
        for (size_t i = 0; i < TPM_QUOTE_PCRS; i++)
                memset(c->pcrs[i], (int) i, SHA256_SIZE);
        c->attest.magic = TPM2_GENERATED_VALUE;
        c->attest.type = TPM2_ST_ATTEST_QUOTE;
        c->attest.extraData.size = TPM_REPORT_DATA_SIZE;
        memcpy(c->attest.extraData.buffer, m->report_data, TPM_REPORT_DATA_SIZE);
        c->attest.attested.quote.pcrSelect.count = 1;
        s->hash = TPM2_ALG_SHA256;
        s->sizeofSelect = 3;
        s->pcrSelect[0] = s->pcrSelect[1] = s->pcrSelect[2] = 0xff;
        g_assert_cmpint(EVP_Digest(c->pcrs, sizeof c->pcrs,
                                   c->attest.attested.quote.pcrDigest.buffer, &size, EVP_sha256(),
                                   NULL),
                        ==, 1);
        c->attest.attested.quote.pcrDigest.size = (UINT16) size;
}

static json_object *crafted_evidence(const Crafted *c) {
        const Material *m = get_material();
        uint8_t message[sizeof(TPMS_ATTEST) + 16] = {}, signature[sizeof(TPMT_SIGNATURE)];
        size_t message_size = 0, signature_size = 0, sig_size = 256;
        TPMT_SIGNATURE sig = { .sigAlg = c->scheme };
        json_object *evidence = json_object_new_object(), *quote = json_object_new_object(),
                    *pcrs = json_object_new_array();
        unsigned char *der = NULL;
        EVP_MD_CTX *ctx;
        int len;

        g_assert_cmpint(
                Tss2_MU_TPMS_ATTEST_Marshal(&c->attest, message, sizeof message, &message_size), ==,
                TSS2_RC_SUCCESS);
        message_size += c->trailing;

        ctx = EVP_MD_CTX_new();
        g_assert_cmpint(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, m->software_key), ==, 1);
        g_assert_cmpint(EVP_DigestSign(ctx, sig.signature.rsassa.sig.buffer, &sig_size, message,
                                       message_size),
                        ==, 1);
        EVP_MD_CTX_free(ctx);
        sig.signature.rsassa.hash = c->hash;
        sig.signature.rsassa.sig.size = (UINT16) sig_size;
        g_assert_cmpint(
                Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, signature, sizeof signature, &signature_size),
                ==, TSS2_RC_SUCCESS);

        len = i2d_PUBKEY(m->software_key, &der);
        g_assert_cmpint(len, >, 0);
        set_base64(evidence, "ak_public", der, (size_t) len);
        OPENSSL_free(der);
        set_base64(evidence, "report_data", m->report_data, TPM_REPORT_DATA_SIZE);
        set_base64(quote, "message", message, message_size);
        set_base64(quote, "signature", signature, signature_size);
        for (size_t i = 0; i < TPM_QUOTE_PCRS; i++) {
                g_autofree char *hex = bytes_to_hex(c->pcrs[i], SHA256_SIZE);
                json_object_array_add(pcrs, json_object_new_string(hex));
        }
        json_object_object_add(quote, "pcrs", pcrs);
        json_object_object_add(evidence, "tpm_quote", quote);
        return evidence;
}

static void assert_crafted(const Crafted *c, int expected, const char *reason_part) {
        g_autofree char *pem = pkey_pem(get_material()->software_key);
        g_autoptr(TpmAkSet) set = set_of(pem, NULL);
        g_autoptr(json_object) evidence = crafted_evidence(c);

        assert_verify_full(evidence, get_material()->report_data, set, expected, reason_part);
}

static void test_crafted(void) {
        Crafted c;
        TPMS_PCR_SELECTION *s = &c.attest.attested.quote.pcrSelect.pcrSelections[0];

        /* The crafting itself is right: a quote like the TPM's verifies. */
        crafted_init(&c);
        assert_crafted(&c, 0, NULL);

        crafted_init(&c);
        c.trailing = 1;
        assert_crafted(&c, -EBADMSG, "1 bytes after its TPMS_ATTEST");

        crafted_init(&c);
        c.attest.magic = 0x12345678;
        assert_crafted(&c, -EBADE, "magic 0x12345678");

        /* PCRs 0-23 and PCR 24 of a TPM with more PCRs. */
        crafted_init(&c);
        s->sizeofSelect = 4;
        s->pcrSelect[3] = 0x01;
        assert_crafted(&c, -EBADE, "exactly the SHA-256 PCRs 0-23");

        /* The SHA-1 bank as well: the digest would cover 48 values. */
        crafted_init(&c);
        c.attest.attested.quote.pcrSelect.count = 2;
        c.attest.attested.quote.pcrSelect.pcrSelections[1] = *s;
        c.attest.attested.quote.pcrSelect.pcrSelections[1].hash = TPM2_ALG_SHA1;
        assert_crafted(&c, -EBADE, "exactly the SHA-256 PCRs 0-23");

        /* Only the SHA-1 bank. */
        crafted_init(&c);
        s->hash = TPM2_ALG_SHA1;
        assert_crafted(&c, -EBADE, "exactly the SHA-256 PCRs 0-23");

        /* Qualifying data of the right bytes but unpadded. */
        crafted_init(&c);
        c.attest.extraData.size = 48;
        assert_crafted(&c, -EBADE, "qualifying data");

        /* A signature that says SHA-1 (the bytes are SHA-256's: the label is what is read). */
        crafted_init(&c);
        c.hash = TPM2_ALG_SHA1;
        assert_crafted(&c, -EKEYREJECTED, "only SHA-256 is accepted");

        /* RSA-PSS by the same key. */
        crafted_init(&c);
        c.scheme = TPM2_ALG_RSAPSS;
        assert_crafted(&c, -EKEYREJECTED, "only RSASSA is accepted");
}

/* tpm_ak_set_load(): what a directory may hold. */

static char *pkcs1_pem(EVP_PKEY *pkey) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *data, *pem;
        long len;
        OSSL_ENCODER_CTX *ctx;

        /* "BEGIN RSA PUBLIC KEY": not a SubjectPublicKeyInfo. */
        ctx = OSSL_ENCODER_CTX_new_for_pkey(pkey, EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific",
                                            NULL);
        g_assert_nonnull(ctx);
        g_assert_cmpint(OSSL_ENCODER_to_bio(ctx, bio), ==, 1);
        OSSL_ENCODER_CTX_free(ctx);
        len = BIO_get_mem_data(bio, &data);
        pem = g_strndup(data, (size_t) len);
        BIO_free(bio);
        return pem;
}

static void test_set_load(void) {
        const Material *m = get_material();
        g_autoptr(char_dir) dir = ak_dir_new();
        g_autoptr(TpmAkSet) empty = NULL, one = NULL, two = NULL, again = NULL;
        g_autofree char *other = pkey_pem(m->other_key), *target = NULL, *link = NULL,
                        *pkcs1 = NULL;
        char reason[256] = "";

        g_assert_cmpint(tpm_ak_set_load(dir, &empty, reason, sizeof reason), ==, 0);
        g_assert_cmpuint(tpm_ak_set_size(empty), ==, 0);

        /* Only "*.pub", hidden files left out; the same key twice is one. */
        write_text(dir, "ak.pub", m->ak_pem);
        write_text(dir, "ak-copy.pub", m->ak_pem);
        write_text(dir, "README", "not a key");
        write_text(dir, "ak.pem", "not a key either");
        write_text(dir, ".ak.pub.swp", "editor's leftovers");
        write_text(dir, ".hidden.pub", "hidden");
        g_assert_cmpint(tpm_ak_set_load(dir, &one, reason, sizeof reason), ==, 0);
        g_assert_cmpuint(tpm_ak_set_size(one), ==, 1);

        /* A symbolic link is followed. */
        write_text(dir, "other.key", other);
        target = g_build_filename(dir, "other.key", NULL);
        link = g_build_filename(dir, "other.pub", NULL);
        g_assert_cmpint(symlink(target, link), ==, 0);
        g_assert_cmpint(tpm_ak_set_load(dir, &two, reason, sizeof reason), ==, 0);
        g_assert_cmpuint(tpm_ak_set_size(two), ==, 2);

        /* "BEGIN RSA PUBLIC KEY" (PKCS#1) is read too, as by Trustee (the same OpenSSL call),
         * and is the same key as its SubjectPublicKeyInfo. */
        pkcs1 = pkcs1_pem(m->other_key);
        g_assert_true(g_str_has_prefix(pkcs1, "-----BEGIN RSA PUBLIC KEY-----\n"));
        write_text(dir, "other-pkcs1.pub", pkcs1);
        g_assert_cmpint(tpm_ak_set_load(dir, &again, reason, sizeof reason), ==, 0);
        g_assert_cmpuint(tpm_ak_set_size(again), ==, 2);

        g_assert_cmpuint(tpm_ak_set_size(NULL), ==, 0);
        g_assert_null(tpm_ak_set_free(NULL));
}

static void assert_load_fails(const char *dir, int expected, const char *reason_part) {
        TpmAkSet *set = NULL;
        char reason[256] = "";
        int r;

        r = tpm_ak_set_load(dir, &set, reason, sizeof reason);
        g_test_message("%s: %s", dir, reason);
        g_assert_cmpint(r, ==, expected);
        g_assert_null(set);
        g_assert_null(strchr(reason, '\n'));
        if (!strstr(reason, reason_part))
                g_error("reason \"%s\" does not say \"%s\"", reason, reason_part);
}

/* One bad file among good ones: an error naming it. */
static void assert_bad_file(const char *name, const char *content, const char *reason_part) {
        g_autoptr(char_dir) dir = ak_dir_new();
        g_autofree char *expected = NULL;

        write_text(dir, "a-good.pub", get_material()->ak_pem);
        write_text(dir, name, content);
        expected = g_strdup_printf("%s/%s", dir, name);
        assert_load_fails(dir, -EINVAL, expected);
        assert_load_fails(dir, -EINVAL, reason_part);
}

static char *private_pem(EVP_PKEY *pkey) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *data, *pem;
        long len;

        g_assert_cmpint(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL), ==, 1);
        len = BIO_get_mem_data(bio, &data);
        pem = g_strndup(data, (size_t) len);
        BIO_free(bio);
        return pem;
}

/* EVP_PKEY_Q_keygen() knows no "RSA-PSS". */
static EVP_PKEY *rsa_pss_2048(void) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
        EVP_PKEY *pkey = NULL;

        g_assert_nonnull(ctx);
        g_assert_cmpint(EVP_PKEY_keygen_init(ctx), ==, 1);
        g_assert_cmpint(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048), ==, 1);
        g_assert_cmpint(EVP_PKEY_keygen(ctx, &pkey), ==, 1);
        EVP_PKEY_CTX_free(ctx);
        return pkey;
}

static char *new_key_pem(EVP_PKEY *pkey) {
        char *pem;

        g_assert_nonnull(pkey);
        pem = pkey_pem(pkey);
        EVP_PKEY_free(pkey);
        return pem;
}

static void test_set_load_bad_files(void) {
        const Material *m = get_material();
        g_autofree char *ec_pem = new_key_pem(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")),
                        *ed_pem = new_key_pem(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")),
                        *rsa3072_pem =
                                new_key_pem(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 3072)),
                        *pss_pem = new_key_pem(rsa_pss_2048()), *other = pkey_pem(m->other_key),
                        *two = NULL, *private = NULL, *big = NULL;

        assert_bad_file("junk.pub", "not a key\n", "not a PEM public key");
        assert_bad_file("empty.pub", "", "not a PEM public key");
        assert_bad_file("ec.pub", ec_pem, "256-bit EC key");
        assert_bad_file("ed25519.pub", ed_pem, "ED25519 key");
        assert_bad_file("rsa3072.pub", rsa3072_pem, "3072-bit RSA key");
        assert_bad_file("pss.pub", pss_pem, "RSA-PSS key");

        two = g_strconcat(m->ak_pem, other, NULL);
        assert_bad_file("two.pub", two, "holds 2 PEM blocks");
        private = private_pem(m->other_key);
        assert_bad_file("private.pub", private, "not a PEM public key");
        /* A key in a file larger than any key file: refused before it is read. */
        big = g_strnfill(20 * 1024, '#');
        assert_bad_file("big.pub", big, "larger than");

        /* Not a regular file. */
        g_autoptr(char_dir) dir = ak_dir_new();
        g_autofree char *sub = g_build_filename(dir, "dir.pub", NULL);
        g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
        assert_load_fails(dir, -EINVAL, "dir.pub' is not a regular file");
}

static void test_set_load_bad_dir(void) {
        g_autoptr(char_dir) dir = ak_dir_new();
        g_autofree char *missing = g_build_filename(dir, "missing", NULL);
        g_autofree char *file = g_build_filename(dir, "file", NULL);
        g_autofree char *locked = g_build_filename(dir, "locked", NULL);
        g_autofree char *locked_key = g_build_filename(locked, "ak.pub", NULL);

        assert_load_fails(missing, -ENOENT, missing);
        write_text(dir, "file", "");
        assert_load_fails(file, -ENOTDIR, file);

        /* Root reads whatever the mode says. */
        if (geteuid() == 0) {
                g_test_message("running as root: unreadable directories and files not tested");
                return;
        }
        g_assert_cmpint(g_mkdir(locked, 0700), ==, 0);
        write_text(locked, "ak.pub", get_material()->ak_pem);
        g_assert_cmpint(g_chmod(locked_key, 0), ==, 0);
        assert_load_fails(locked, -EACCES, "ak.pub");
        g_assert_cmpint(g_unlink(locked_key), ==, 0);
        g_assert_cmpint(g_chmod(locked, 0), ==, 0);
        assert_load_fails(locked, -EACCES, locked);
        g_assert_cmpint(g_chmod(locked, 0700), ==, 0);
}

/* reason may be short or absent: the verdict is the same. */
static void test_reason_buffer(void) {
        const Material *m = get_material();
        g_autoptr(json_object) evidence = parse(m->evidence);
        g_autoptr(TpmAkSet) set = ak_set();
        TpmVerified v;
        char reason[8];

        g_assert_cmpint(tpm_evidence_verify(evidence, m->report_data, set, &v, NULL, 0), ==, 0);
        json_object_object_del(evidence, "ak_public");
        g_assert_cmpint(tpm_evidence_verify(evidence, m->report_data, set, &v, NULL, 0), ==,
                        -EBADMSG);
        g_assert_cmpint(
                tpm_evidence_verify(evidence, m->report_data, set, &v, reason, sizeof reason), ==,
                -EBADMSG);
        g_assert_cmpuint(strlen(reason), ==, sizeof reason - 1);
}

int main(int argc, char *argv[]) {
        int r;

        if (!swtpm_available()) {
                printf("1..0 # SKIP swtpm is not installed\n");
                return 0;
        }

        g_test_init(&argc, &argv, NULL);
        log_setup(LOG_TARGET_STDERR, g_test_verbose() ? LOG_DEBUG : LOG_ERR);

        g_test_add_func("/tpm-verify/accepted", test_accepted);
        g_test_add_func("/tpm-verify/accepted/key-order", test_accepted_key_order);
        g_test_add_func("/tpm-verify/ak/not-registered", test_ak_not_registered);
        g_test_add_func("/tpm-verify/ak/swapped", test_ak_swapped);
        g_test_add_func("/tpm-verify/message/tampered", test_message_tampered);
        g_test_add_func("/tpm-verify/signature/tampered", test_signature_tampered);
        g_test_add_func("/tpm-verify/signature/trailing", test_signature_trailing);
        g_test_add_func("/tpm-verify/pcrs/changed", test_pcr_changed);
        g_test_add_func("/tpm-verify/pcrs/count", test_pcr_count);
        g_test_add_func("/tpm-verify/pcrs/spelling", test_pcr_spelling);
        g_test_add_func("/tpm-verify/report-data/wrong", test_report_data_wrong);
        g_test_add_func("/tpm-verify/report-data/member-inconsistent",
                        test_report_data_member_inconsistent);
        g_test_add_func("/tpm-verify/json/unknown-member", test_unknown_member);
        g_test_add_func("/tpm-verify/json/unknown-member-printable", test_unknown_member_printable);
        g_test_add_func("/tpm-verify/json/missing-member", test_missing_member);
        g_test_add_func("/tpm-verify/json/wrong-types", test_wrong_types);
        g_test_add_func("/tpm-verify/json/bad-base64", test_bad_base64);
        g_test_add_func("/tpm-verify/quote/not-a-quote", test_not_a_quote);
        g_test_add_func("/tpm-verify/quote/other-pcrs", test_quote_other_pcrs);
        g_test_add_func("/tpm-verify/quote/crafted", test_crafted);
        g_test_add_func("/tpm-verify/ak-set/load", test_set_load);
        g_test_add_func("/tpm-verify/ak-set/bad-files", test_set_load_bad_files);
        g_test_add_func("/tpm-verify/ak-set/bad-dir", test_set_load_bad_dir);
        g_test_add_func("/tpm-verify/reason-buffer", test_reason_buffer);
        r = g_test_run();
        material_clear();
        return r;
}
