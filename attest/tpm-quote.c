// SPDX-License-Identifier: LGPL-2.1-or-later
/* TPM quotes for Trustee's "tpm" evidence: see tpm-quote.h for the key and the format. As in
 * tpm-counter.c, every TSS2 call goes through one thin wrapper that turns its TSS2_RC into a
 * negative errno and logs the decoded code at debug level; the caller of the public functions
 * logs the failure once. The only object ever loaded is the AK, flushed by tpm_ak_free(), also
 * when tpm_ak_open() fails half-way. */
#include <inttypes.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "base64.h"
#include "json-writer.h"
#include "log.h"
#include "tpm-quote.h"
#include "tss2-util.h"

#define SHA256_SIZE     32
#define RSA_KEY_BITS    2048
#define RSA_KEY_BYTES   (RSA_KEY_BITS / 8)
#define RSA_DEFAULT_EXP UINT32_C(65537)

/* PCRs 0-23: the PC Client platform's 24 PCRs, three bytes of selection bitmap. */
#define PCR_SELECT_SIZE 3
#define PCR_ALL         ((UINT32_C(1) << TPM_QUOTE_PCRS) - 1)

/* Quotes taken before giving up on PCRs that keep changing between the read and the quote. */
#define QUOTE_ATTEMPTS 3

#define AK_ATTRIBUTES                                                                              \
        ((TPMA_OBJECT) (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |                           \
                        TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |               \
                        TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_NODA))

/* The template documented in tpm-quote.h. Every field is part of what the key is derived from:
 * changing any of them changes the AK that operators have registered. */
static const TPM2B_PUBLIC ak_template = {
        .publicArea = {
                .type = TPM2_ALG_RSA,
                .nameAlg = TPM2_ALG_SHA256,
                .objectAttributes = AK_ATTRIBUTES,
                .authPolicy = { .size = 0 },
                .parameters.rsaDetail = {
                        .symmetric = { .algorithm = TPM2_ALG_NULL },
                        .scheme = {
                                .scheme = TPM2_ALG_RSASSA,
                                .details.rsassa = { .hashAlg = TPM2_ALG_SHA256 },
                        },
                        .keyBits = RSA_KEY_BITS,
                        .exponent = 0,
                },
                .unique.rsa = { .size = 0 },
        },
};

struct TpmAk {
        TSS2_TCTI_CONTEXT *tcti;
        ESYS_CONTEXT *esys;
        ESYS_TR handle; /* ESYS_TR_NONE unless the AK is loaded */
        uint8_t *der;   /* SubjectPublicKeyInfo */
        size_t der_size;
};

/* Thin wrappers, one per TSS2 call. */

static int esys_create_primary(ESYS_CONTEXT *esys, ESYS_TR hierarchy, const TPM2B_PUBLIC *template,
                               ESYS_TR *ret_handle, TPM2B_PUBLIC **ret_public) {
        static const TPM2B_SENSITIVE_CREATE no_sensitive = { .size = 0 };
        static const TPM2B_DATA no_outside_info = { .size = 0 };
        static const TPML_PCR_SELECTION no_creation_pcrs = { .count = 0 };
        TSS2_RC rc =
                Esys_CreatePrimary(esys, hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                   &no_sensitive, template, &no_outside_info, &no_creation_pcrs,
                                   ret_handle, ret_public, NULL, NULL, NULL);
        return rc == TSS2_RC_SUCCESS ? 0 : tss2_error(rc, "Esys_CreatePrimary", 0);
}

static int esys_flush_context(ESYS_CONTEXT *esys, ESYS_TR handle) {
        TSS2_RC rc = Esys_FlushContext(esys, handle);
        return rc == TSS2_RC_SUCCESS ? 0 : tss2_error(rc, "Esys_FlushContext", 0);
}

static int esys_pcr_read(ESYS_CONTEXT *esys, const TPML_PCR_SELECTION *selection,
                         TPML_PCR_SELECTION **ret_selection, TPML_DIGEST **ret_values) {
        TSS2_RC rc = Esys_PCR_Read(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, selection, NULL,
                                   ret_selection, ret_values);
        return rc == TSS2_RC_SUCCESS ? 0 : tss2_error(rc, "Esys_PCR_Read", 0);
}

/* TPM2_ALG_NULL as scheme: the key's own, RSASSA-SHA256. */
static int esys_quote(ESYS_CONTEXT *esys, ESYS_TR key, const TPM2B_DATA *qualifying_data,
                      const TPML_PCR_SELECTION *selection, TPM2B_ATTEST **ret_quoted,
                      TPMT_SIGNATURE **ret_signature) {
        static const TPMT_SIG_SCHEME key_scheme = { .scheme = TPM2_ALG_NULL };
        TSS2_RC rc = Esys_Quote(esys, key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                qualifying_data, &key_scheme, selection, ret_quoted, ret_signature);
        return rc == TSS2_RC_SUCCESS ? 0 : tss2_error(rc, "Esys_Quote", 0);
}

/* The whole buffer must be one TPMS_ATTEST: bytes after it would be signed but not read. */
static int mu_tpms_attest_unmarshal(const uint8_t *buf, size_t size, TPMS_ATTEST *ret) {
        size_t offset = 0;
        TSS2_RC rc = Tss2_MU_TPMS_ATTEST_Unmarshal(buf, size, &offset, ret);
        if (rc != TSS2_RC_SUCCESS)
                return tss2_error(rc, "Tss2_MU_TPMS_ATTEST_Unmarshal", 0);
        if (offset != size)
                return log_debug_errno(EBADMSG, "TPMS_ATTEST followed by %zu bytes.",
                                       size - offset);
        return 0;
}

static int mu_tpmt_signature_marshal(const TPMT_SIGNATURE *sig, uint8_t *buf, size_t size,
                                     size_t *ret_size) {
        size_t offset = 0;
        TSS2_RC rc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, buf, size, &offset);
        if (rc != TSS2_RC_SUCCESS)
                return tss2_error(rc, "Tss2_MU_TPMT_SIGNATURE_Marshal", 0);
        *ret_size = offset;
        return 0;
}

static void esys_freep(void *p) {
        Esys_Free(*(void **) p);
}
#define _cleanup_esys_free_ _cleanup_(esys_freep)

static void BN_freep(BIGNUM **p) {
        BN_free(*p);
}
static void OSSL_PARAM_BLD_freep(OSSL_PARAM_BLD **p) {
        OSSL_PARAM_BLD_free(*p);
}
static void OSSL_PARAM_freep(OSSL_PARAM **p) {
        OSSL_PARAM_free(*p);
}
static void EVP_PKEY_CTX_freep(EVP_PKEY_CTX **p) {
        EVP_PKEY_CTX_free(*p);
}
static void EVP_PKEY_freep(EVP_PKEY **p) {
        EVP_PKEY_free(*p);
}

/* The SubjectPublicKeyInfo of the key the TPM returned: what Trustee hashes to pin the AK. */
static int rsa_public_to_der(const TPMT_PUBLIC *public, uint8_t **ret, size_t *ret_size) {
        _cleanup_(BN_freep) BIGNUM *n = NULL, *e = NULL;
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = NULL;
        _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        uint32_t exponent = public->parameters.rsaDetail.exponent;
        unsigned char *der = NULL;
        int len;

        n = BN_bin2bn(public->unique.rsa.buffer, public->unique.rsa.size, NULL);
        e = BN_new();
        bld = OSSL_PARAM_BLD_new();
        if (!n || !e || !bld || BN_set_word(e, exponent != 0 ? exponent : RSA_DEFAULT_EXP) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
                return -ENOMEM;
        params = OSSL_PARAM_BLD_to_param(bld);
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
        if (!params || !ctx)
                return -ENOMEM;
        if (EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
                return log_debug_errno(EBADMSG, "OpenSSL refuses the AK's RSA public key.");

        len = i2d_PUBKEY(pkey, &der);
        if (len <= 0)
                return -ENOMEM;
        *ret = der;
        *ret_size = (size_t) len;
        return 0;
}

/* The TPM made the key from our template; checked anyway, as the key is what gets pinned and a
 * surprise here would only show up as a verifier refusing the evidence. */
static int check_ak_public(const TPMT_PUBLIC *p) {
        const TPMT_PUBLIC *t = &ak_template.publicArea;

        if (p->type != t->type || p->nameAlg != t->nameAlg ||
            p->objectAttributes != t->objectAttributes || p->authPolicy.size != 0 ||
            p->parameters.rsaDetail.scheme.scheme != TPM2_ALG_RSASSA ||
            p->parameters.rsaDetail.scheme.details.rsassa.hashAlg != TPM2_ALG_SHA256 ||
            p->parameters.rsaDetail.keyBits != RSA_KEY_BITS || p->unique.rsa.size != RSA_KEY_BYTES)
                return log_debug_errno(EBADMSG,
                                       "The TPM created another key than asked: type 0x%04x, "
                                       "attributes 0x%08" PRIx32 ", %u bits, modulus %u bytes.",
                                       p->type, (uint32_t) p->objectAttributes,
                                       p->parameters.rsaDetail.keyBits, p->unique.rsa.size);
        return 0;
}

int tpm_ak_open(const char *tcti, TpmAk **ret) {
        _cleanup_tpm_ak_ TpmAk *ak = NULL;
        _cleanup_esys_free_ TPM2B_PUBLIC *public = NULL;
        int r;

        ak = calloc(1, sizeof *ak);
        if (!ak)
                return -ENOMEM;
        ak->handle = ESYS_TR_NONE;

        r = tss2_connect(tcti, &ak->tcti, &ak->esys);
        if (r < 0)
                return r;
        r = esys_create_primary(ak->esys, ESYS_TR_RH_ENDORSEMENT, &ak_template, &ak->handle,
                                &public);
        if (r < 0)
                return r;
        r = check_ak_public(&public->publicArea);
        if (r < 0)
                return r;
        r = rsa_public_to_der(&public->publicArea, &ak->der, &ak->der_size);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(ak);
        return 0;
}

TpmAk *tpm_ak_free(TpmAk *ak) {
        if (!ak)
                return NULL;
        /* Without a resource manager (swtpm, /dev/tpm0) a transient object outlives the
         * connection: it must be flushed, or it takes one of the TPM's few slots until reset. */
        if (ak->handle != ESYS_TR_NONE)
                (void) esys_flush_context(ak->esys, ak->handle);
        /* Esys_Finalize() frees the ESYS context only; the TCTI stays the caller's. */
        if (ak->esys)
                Esys_Finalize(&ak->esys);
        if (ak->tcti)
                Tss2_TctiLdr_Finalize(&ak->tcti);
        OPENSSL_free(ak->der);
        free(ak);
        return NULL;
}

int tpm_ak_public_der(TpmAk *ak, const uint8_t **ret, size_t *ret_size) {
        *ret = ak->der;
        *ret_size = ak->der_size;
        return 0;
}

int tpm_ak_public_pem(TpmAk *ak, char **ret) {
        static const char begin[] = "-----BEGIN PUBLIC KEY-----\n",
                          end[] = "-----END PUBLIC KEY-----\n";
        _cleanup_free_ char *b64 = NULL;
        size_t len, lines;
        char *pem, *p;
        int r;

        r = base64_encode(ak->der, ak->der_size, &b64);
        if (r < 0)
                return r;

        /* RFC 7468: lines of 64 characters, as OpenSSL writes them. */
        len = strlen(b64);
        lines = (len + 63) / 64;
        pem = malloc(sizeof begin - 1 + len + lines + sizeof end);
        if (!pem)
                return -ENOMEM;
        p = stpcpy(pem, begin);
        for (size_t i = 0; i < len; i += 64) {
                size_t n = len - i < 64 ? len - i : 64;
                p = mempcpy(p, b64 + i, n);
                *p++ = '\n';
        }
        strcpy(p, end);
        *ret = pem;
        return 0;
}

static TPML_PCR_SELECTION sha256_selection(uint32_t pcrs) {
        return (TPML_PCR_SELECTION){
                .count = 1,
                .pcrSelections[0] = {
                        .hash = TPM2_ALG_SHA256,
                        .sizeofSelect = PCR_SELECT_SIZE,
                        .pcrSelect = { pcrs & 0xff, (pcrs >> 8) & 0xff, (pcrs >> 16) & 0xff },
                },
        };
}

/* The PCRs of a selection as a bitmap; -EBADMSG if it is not SHA-256 PCRs among 0-23. */
static int selection_bitmap(const TPML_PCR_SELECTION *s, uint32_t *ret) {
        uint32_t bits = 0;

        if (s->count == 0) {
                *ret = 0;
                return 0;
        }
        if (s->count != 1 || s->pcrSelections[0].hash != TPM2_ALG_SHA256 ||
            s->pcrSelections[0].sizeofSelect > TPM2_PCR_SELECT_MAX)
                return -EBADMSG;
        for (unsigned i = 0; i < s->pcrSelections[0].sizeofSelect; i++)
                bits |= (uint32_t) s->pcrSelections[0].pcrSelect[i] << (8 * i);
        if (bits & ~PCR_ALL)
                return -EBADMSG;
        *ret = bits;
        return 0;
}

/* TPM2_PCR_Read returns at most 8 digests per call (TPML_DIGEST): asks again for the rest until
 * every PCR is read. The TPM returns the lowest selected PCRs first, in order. */
static int pcrs_read(ESYS_CONTEXT *esys, uint8_t values[TPM_QUOTE_PCRS][SHA256_SIZE]) {
        uint32_t missing = PCR_ALL;
        int r;

        while (missing != 0) {
                TPML_PCR_SELECTION want = sha256_selection(missing);
                _cleanup_esys_free_ TPML_PCR_SELECTION *got = NULL;
                _cleanup_esys_free_ TPML_DIGEST *digests = NULL;
                uint32_t returned;
                size_t k = 0;

                r = esys_pcr_read(esys, &want, &got, &digests);
                if (r < 0)
                        return r;
                r = selection_bitmap(got, &returned);
                if (r < 0 || (returned & ~missing))
                        return log_debug_errno(EBADMSG, "TPM2_PCR_Read returned other PCRs "
                                                        "than asked.");
                /* Nothing at all: the TPM has no SHA-256 bank allocated. */
                if (returned == 0)
                        return log_debug_errno(EOPNOTSUPP, "The TPM has no SHA-256 PCRs.");
                if ((unsigned) __builtin_popcount(returned) != digests->count)
                        return log_debug_errno(
                                EBADMSG, "TPM2_PCR_Read returned %" PRIu32 " digests for %d PCRs.",
                                digests->count, __builtin_popcount(returned));

                for (unsigned i = 0; i < TPM_QUOTE_PCRS; i++) {
                        if (!(returned & (UINT32_C(1) << i)))
                                continue;
                        if (digests->digests[k].size != SHA256_SIZE)
                                return log_debug_errno(EBADMSG, "PCR %u has %u bytes.", i,
                                                       digests->digests[k].size);
                        memcpy(values[i], digests->digests[k].buffer, SHA256_SIZE);
                        k++;
                }
                missing &= ~returned;
        }
        return 0;
}

typedef struct Quote {
        uint8_t pcrs[TPM_QUOTE_PCRS][SHA256_SIZE];
        uint8_t message[sizeof(TPMS_ATTEST)];
        size_t message_size;
        uint8_t signature[sizeof(TPMT_SIGNATURE)];
        size_t signature_size;
} Quote;

/* Reads the PCRs, quotes them and checks that the quote is what was asked for and covers the
 * values read. -ESTALE if a PCR changed in between (the caller quotes again). */
static int quote_once(TpmAk *ak, const uint8_t report_data[TPM_REPORT_DATA_SIZE], Quote *q) {
        const TPML_PCR_SELECTION selection = sha256_selection(PCR_ALL);
        _cleanup_esys_free_ TPM2B_ATTEST *quoted = NULL;
        _cleanup_esys_free_ TPMT_SIGNATURE *signature = NULL;
        TPM2B_DATA qualifying_data = { .size = TPM_REPORT_DATA_SIZE };
        uint8_t digest[EVP_MAX_MD_SIZE];
        unsigned digest_size;
        uint32_t quoted_pcrs;
        TPMS_ATTEST attest;
        int r;

        r = pcrs_read(ak->esys, q->pcrs);
        if (r < 0)
                return r;

        memcpy(qualifying_data.buffer, report_data, TPM_REPORT_DATA_SIZE);
        r = esys_quote(ak->esys, ak->handle, &qualifying_data, &selection, &quoted, &signature);
        if (r < 0)
                return r;

        /* What Trustee's verifier accepts, and nothing else. */
        if (signature->sigAlg != TPM2_ALG_RSASSA ||
            signature->signature.rsassa.hash != TPM2_ALG_SHA256 ||
            signature->signature.rsassa.sig.size != RSA_KEY_BYTES)
                return log_debug_errno(EBADMSG, "The quote is signed with scheme 0x%04x.",
                                       signature->sigAlg);

        r = mu_tpms_attest_unmarshal(quoted->attestationData, quoted->size, &attest);
        if (r < 0)
                return r;
        if (attest.magic != TPM2_GENERATED_VALUE || attest.type != TPM2_ST_ATTEST_QUOTE)
                return log_debug_errno(EBADMSG, "Not a quote: magic 0x%08" PRIx32 ", type 0x%04x.",
                                       attest.magic, attest.type);
        if (attest.extraData.size != TPM_REPORT_DATA_SIZE ||
            memcmp(attest.extraData.buffer, report_data, TPM_REPORT_DATA_SIZE) != 0)
                return log_debug_errno(EBADMSG, "The quote carries other qualifying data.");
        /* Trustee hashes the 24 values it gets without reading the selection: the quote must
         * select exactly those. A TPM drops PCRs of banks it has not allocated. */
        r = selection_bitmap(&attest.attested.quote.pcrSelect, &quoted_pcrs);
        if (r < 0 || quoted_pcrs != PCR_ALL)
                return log_debug_errno(EBADMSG, "The quote covers other PCRs than asked.");

        if (EVP_Digest(q->pcrs, sizeof q->pcrs, digest, &digest_size, EVP_sha256(), NULL) != 1)
                return -ENOMEM;
        if (attest.attested.quote.pcrDigest.size != digest_size ||
            memcmp(attest.attested.quote.pcrDigest.buffer, digest, digest_size) != 0)
                return log_debug_errno(ESTALE, "PCRs changed between reading and quoting them.");

        /* The bytes the TPM signed, as they came, not marshalled again. */
        if (quoted->size > sizeof q->message)
                return -EBADMSG;
        memcpy(q->message, quoted->attestationData, quoted->size);
        q->message_size = quoted->size;
        return mu_tpmt_signature_marshal(signature, q->signature, sizeof q->signature,
                                         &q->signature_size);
}

static void json_writer_base64(JsonWriter *w, const uint8_t *data, size_t size, int *error) {
        _cleanup_free_ char *s = NULL;
        int r = base64_encode(data, size, &s);

        if (r < 0) {
                *error = r;
                return;
        }
        json_writer_string(w, s);
}

static int evidence_json(TpmAk *ak, const uint8_t report_data[TPM_REPORT_DATA_SIZE], const Quote *q,
                         char **ret) {
        static const char hex[] = "0123456789abcdef";
        JsonWriter w = {};
        size_t len;
        int error = 0, r;

        /* Keys in sorted order, as serde_json writes maps: one spelling for the same evidence. */
        json_writer_begin(&w, '{');
        json_writer_key(&w, "ak_public");
        json_writer_base64(&w, ak->der, ak->der_size, &error);
        json_writer_key(&w, "report_data");
        json_writer_base64(&w, report_data, TPM_REPORT_DATA_SIZE, &error);
        json_writer_key(&w, "tpm_quote");
        json_writer_begin(&w, '{');
        json_writer_key(&w, "message");
        json_writer_base64(&w, q->message, q->message_size, &error);
        json_writer_key(&w, "pcrs");
        json_writer_begin(&w, '[');
        for (size_t i = 0; i < TPM_QUOTE_PCRS; i++) {
                char s[2 * SHA256_SIZE + 1];
                for (size_t j = 0; j < SHA256_SIZE; j++) {
                        s[2 * j] = hex[q->pcrs[i][j] >> 4];
                        s[2 * j + 1] = hex[q->pcrs[i][j] & 0xf];
                }
                s[2 * SHA256_SIZE] = '\0';
                json_writer_string(&w, s);
        }
        json_writer_end(&w, ']');
        json_writer_key(&w, "signature");
        json_writer_base64(&w, q->signature, q->signature_size, &error);
        json_writer_end(&w, '}');
        json_writer_end(&w, '}');

        char *json = NULL;
        r = json_writer_finish(&w, &json, &len);
        if (r < 0)
                return r;
        if (error < 0) {
                free(json);
                return error;
        }
        *ret = json;
        return 0;
}

int tpm_quote(TpmAk *ak, const uint8_t report_data[static TPM_REPORT_DATA_SIZE],
              char **ret_evidence_json) {
        _cleanup_free_ Quote *q = NULL;
        int r = -ESTALE;

        q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;

        for (unsigned attempt = 0; attempt < QUOTE_ATTEMPTS && r == -ESTALE; attempt++)
                r = quote_once(ak, report_data, q);
        if (r == -ESTALE)
                return log_debug_errno(EAGAIN, "PCRs kept changing during %u quotes.",
                                       QUOTE_ATTEMPTS);
        if (r < 0)
                return r;

        return evidence_json(ak, report_data, q, ret_evidence_json);
}
