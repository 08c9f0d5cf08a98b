// SPDX-License-Identifier: LGPL-2.1-or-later
/* The verifier of Trustee's "tpm" evidence (the format is in tpm-quote.h, the checks in
 * tpm-verify.h). The order of the checks is chosen so that the error says what is wrong: the
 * JSON first (-EBADMSG), then whether the AK is registered (-ENOKEY), then the signature over
 * the message (-EKEYREJECTED) before anything inside the message is believed, and only then
 * what the signed quote states (-EBADE). Nothing here logs above debug level: devgate-kbs logs
 * the decision once, with the reason. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tss2/tss2_mu.h>

#include "base64.h"
#include "fileio.h"
#include "json-strict.h"
#include "log.h"
#include "tpm-verify.h"

#define AK_RSA_BITS      2048
#define AK_RSA_BYTES     (AK_RSA_BITS / 8)
/* A PEM RSA-2048 public key is 451 bytes; room for comments around it, and a bound on what
 * a stray large file in the directory makes the server read. */
#define AK_FILE_SIZE_MAX TPM_AK_FILE_SIZE_MAX
/* Far more than any operator registers; Trustee stops at 100. */
#define AK_SET_MAX       4096

/* PCRs 0-23 of one bank: three bytes of selection bitmap, all set. */
#define PCR_ALL ((UINT32_C(1) << TPM_QUOTE_PCRS) - 1)

/* Bounds on the decoded members, checked before decoding. An RSA-2048 SubjectPublicKeyInfo
 * is 294 bytes; the marshalled structures cannot be larger than their C structures. */
#define AK_PUBLIC_SIZE_MAX 2048
#define MESSAGE_SIZE_MAX   sizeof(TPMS_ATTEST)
#define SIGNATURE_SIZE_MAX sizeof(TPMT_SIGNATURE)

typedef struct RegisteredAk {
        char id[2 * TPM_VERIFY_SHA256_SIZE + 1];
        uint8_t *der; /* SubjectPublicKeyInfo, as OpenSSL encodes it */
        size_t der_size;
        EVP_PKEY *pkey;
} RegisteredAk;

struct TpmAkSet {
        RegisteredAk *aks; /* sorted by id */
        size_t n;
};

static void EVP_PKEY_unrefp(EVP_PKEY **p) {
        EVP_PKEY_free(*p);
}

static void EVP_MD_CTX_freep(EVP_MD_CTX **p) {
        EVP_MD_CTX_free(*p);
}

static void BIO_freep(BIO **p) {
        BIO_free(*p);
}

static void OPENSSL_freep(uint8_t **p) {
        OPENSSL_free(*p);
}

/* Writes the reason, logs it at debug level and returns error (negative). */
static int fail(int error, char *reason, size_t reason_size, const char *format, ...)
        _printf_(4, 5);
static int fail(int error, char *reason, size_t reason_size, const char *format, ...) {
        char buf[512];
        va_list ap;

        va_start(ap, format);
        vsnprintf(buf, sizeof buf, format, ap);
        va_end(ap);
        if (reason && reason_size > 0)
                snprintf(reason, reason_size, "%s", buf);
        log_debug("%s", buf);
        return error;
}

/* A name from the network or a directory, for a one-line reason: at most 40 characters, the
 * non-printable ones as '?'. */
static const char *printable(const char *s, char buf[static 44]) {
        size_t i = 0;

        for (; s[i] && i < 40; i++)
                buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
        strcpy(buf + i, s[i] ? "..." : "");
        return buf;
}

static void hex_encode(const uint8_t *data, size_t size, char *ret) {
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < size; i++) {
                ret[2 * i] = digits[data[i] >> 4];
                ret[2 * i + 1] = digits[data[i] & 0xf];
        }
        ret[2 * size] = '\0';
}

/* What access rules and the set know an AK by: the lowercase hex SHA-256 of its DER. */
static int ak_id_of_der(const uint8_t *der, size_t size, char ret[2 * TPM_VERIFY_SHA256_SIZE + 1]) {
        uint8_t digest[EVP_MAX_MD_SIZE];
        unsigned digest_size = 0;

        if (EVP_Digest(der, size, digest, &digest_size, EVP_sha256(), NULL) != 1 ||
            digest_size != TPM_VERIFY_SHA256_SIZE)
                return -EIO;
        hex_encode(digest, TPM_VERIFY_SHA256_SIZE, ret);
        return 0;
}

/* Reads the whole file, at most AK_FILE_SIZE_MAX bytes. The file is opened O_NONBLOCK, so a
 * FIFO named "*.pub" cannot hang the server at start: only regular files are read. */
static int read_key_file(int dir_fd, const char *name, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        /* Symbolic links are followed, as Trustee does: configuration management often links
         * keys into place. The directory itself is resolved once, by its fd. */
        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        return read_full_fd(fd, AK_FILE_SIZE_MAX, ret, ret_size);
}

static size_t count_pem_blocks(const char *text, size_t size) {
        static const char begin[] = "-----BEGIN ";
        size_t n = 0;

        for (const char *p = text, *end = text + size;
             (p = memmem(p, (size_t) (end - p), begin, sizeof begin - 1)); p += sizeof begin - 1)
                n++;
        return n;
}

/* Parses the text of one AK file into ret. Errors set reason, naming the file by label. */
static int parse_ak_text(const char *text, size_t size, const char *label, RegisteredAk *ret,
                         char *reason, size_t reason_size) {
        _cleanup_(EVP_PKEY_unrefp) EVP_PKEY *pkey = NULL;
        _cleanup_(BIO_freep) BIO *bio = NULL;
        _cleanup_(OPENSSL_freep) uint8_t *der = NULL;
        size_t blocks;
        int len, r;

        if (size > AK_FILE_SIZE_MAX)
                return fail(-EINVAL, reason, reason_size,
                            "'%s' is larger than %d bytes: not a PEM public key", label,
                            AK_FILE_SIZE_MAX);

        /* One key per file: a second one would be silently ignored by the PEM reader, and an
         * operator who appended a key to a file would believe it registered. */
        blocks = count_pem_blocks(text, size);
        if (blocks == 0)
                return fail(-EINVAL, reason, reason_size,
                            "'%s' is not a PEM public key (no \"-----BEGIN\" line)", label);
        if (blocks > 1)
                return fail(-EINVAL, reason, reason_size,
                            "'%s' holds %zu PEM blocks: an AK file holds one public key", label,
                            blocks);

        bio = BIO_new_mem_buf(text, (int) size);
        if (!bio)
                return fail(-ENOMEM, reason, reason_size, "out of memory");
        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        ERR_clear_error();
        if (!pkey)
                return fail(-EINVAL, reason, reason_size,
                            "'%s' is not a PEM public key (\"BEGIN PUBLIC KEY\")", label);
        /* EVP_PKEY_RSA only: an RSA-PSS key could not verify the PKCS#1 v1.5 signatures the
         * AK template makes. */
        if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pkey) != AK_RSA_BITS)
                return fail(-EINVAL, reason, reason_size,
                            "'%s' is a %d-bit %s key: an AK must be RSA-%d", label,
                            EVP_PKEY_get_bits(pkey), EVP_PKEY_get0_type_name(pkey), AK_RSA_BITS);

        len = i2d_PUBKEY(pkey, &der);
        if (len <= 0) {
                ERR_clear_error();
                return fail(-ENOMEM, reason, reason_size, "cannot encode the key of '%s'", label);
        }
        r = ak_id_of_der(der, (size_t) len, ret->id);
        if (r < 0)
                return fail(r, reason, reason_size, "cannot hash the key of '%s'", label);

        ret->der = TAKE_PTR(der);
        ret->der_size = (size_t) len;
        ret->pkey = TAKE_PTR(pkey);
        return 0;
}

/* Parses one AK file into ret. Errors set reason, naming the file. */
static int load_ak_file(int dir_fd, const char *dir, const char *name, RegisteredAk *ret,
                        char *reason, size_t reason_size) {
        _cleanup_free_ char *text = NULL;
        char label[PATH_MAX];
        size_t size;
        int r;

        r = read_key_file(dir_fd, name, &text, &size);
        if (r == -EBADFD)
                return fail(-EINVAL, reason, reason_size, "'%s/%s' is not a regular file", dir,
                            name);
        if (r == -EFBIG)
                return fail(-EINVAL, reason, reason_size,
                            "'%s/%s' is larger than %d bytes: not a PEM public key", dir, name,
                            AK_FILE_SIZE_MAX);
        if (r < 0)
                return fail(r, reason, reason_size, "cannot read '%s/%s': %s", dir, name,
                            strerror(-r));
        snprintf(label, sizeof label, "%s/%s", dir, name);
        return parse_ak_text(text, size, label, ret, reason, reason_size);
}

int tpm_ak_pem_parse(const char *text, size_t size, const char *label,
                     char ret_id[static 2 * TPM_VERIFY_SHA256_SIZE + 1], char *reason,
                     size_t reason_size) {
        RegisteredAk ak = {};
        int r;

        r = parse_ak_text(text, size, label, &ak, reason, reason_size);
        if (r < 0)
                return r;
        memcpy(ret_id, ak.id, sizeof ak.id);
        EVP_PKEY_free(ak.pkey);
        OPENSSL_free(ak.der);
        return 0;
}

static int is_pub_file(const struct dirent *de) {
        size_t len = strlen(de->d_name);

        /* As the shell's "*.pub": hidden files are left out, editors' and tools' leftovers
         * among them. */
        return de->d_name[0] != '.' && len > 4 && streq(de->d_name + len - 4, ".pub");
}

static int compare_aks(const void *a, const void *b) {
        return strcmp(((const RegisteredAk *) a)->id, ((const RegisteredAk *) b)->id);
}

int tpm_ak_set_load(const char *dir, TpmAkSet **ret, char *reason, size_t reason_size) {
        _cleanup_tpm_ak_set_ TpmAkSet *set = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        struct dirent **names = NULL;
        int n, r = 0;

        /* Listed and read through this one fd: the directory is resolved once. */
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0) {
                r = negative_errno();
                return fail(r, reason, reason_size, "cannot open the AK directory '%s': %s", dir,
                            strerror(-r));
        }

        /* In name order: the same directory gives the same first error every time. */
        n = scandirat(dir_fd, ".", &names, is_pub_file, alphasort);
        if (n < 0) {
                r = negative_errno();
                return fail(r, reason, reason_size, "cannot list the AK directory '%s': %s", dir,
                            strerror(-r));
        }

        set = calloc(1, sizeof *set);
        if (!set)
                r = fail(-ENOMEM, reason, reason_size, "out of memory");
        else if (n > AK_SET_MAX)
                r = fail(-E2BIG, reason, reason_size,
                         "'%s' has %d keys, more than the %d an AK set takes", dir, n, AK_SET_MAX);
        else if (n > 0) {
                set->aks = calloc((size_t) n, sizeof *set->aks);
                if (!set->aks)
                        r = fail(-ENOMEM, reason, reason_size, "out of memory");
        }

        for (int i = 0; i < n; i++) {
                RegisteredAk ak = {};
                bool seen = false;

                if (r >= 0) {
                        r = load_ak_file(dir_fd, dir, names[i]->d_name, &ak, reason, reason_size);
                        for (size_t j = 0; r >= 0 && j < set->n; j++)
                                seen = seen || streq(set->aks[j].id, ak.id);
                }
                if (r >= 0 && seen) {
                        /* The same key under two names is one registration. */
                        log_debug("'%s/%s' repeats AK sha256:%s, ignoring.", dir, names[i]->d_name,
                                  ak.id);
                        EVP_PKEY_free(ak.pkey);
                        OPENSSL_free(ak.der);
                } else if (r >= 0)
                        set->aks[set->n++] = ak;
                free(names[i]);
        }
        free(names);
        if (r < 0)
                return r;

        if (set->n > 1)
                qsort(set->aks, set->n, sizeof *set->aks, compare_aks);
        log_debug("Loaded %zu AK(s) from '%s'.", set->n, dir);
        *ret = TAKE_PTR(set);
        return 0;
}

size_t tpm_ak_set_size(const TpmAkSet *set) {
        return set ? set->n : 0;
}

TpmAkSet *tpm_ak_set_free(TpmAkSet *set) {
        if (!set)
                return NULL;
        for (size_t i = 0; i < set->n; i++) {
                EVP_PKEY_free(set->aks[i].pkey);
                OPENSSL_free(set->aks[i].der);
        }
        free(set->aks);
        free(set);
        return NULL;
}

static const RegisteredAk *ak_set_find(const TpmAkSet *set, const char *id) {
        RegisteredAk key = {};

        if (!set || set->n == 0)
                return NULL;
        memcpy(key.id, id, sizeof key.id);
        return bsearch(&key, set->aks, set->n, sizeof *set->aks, compare_aks);
}

/* The evidence, decoded. */
typedef struct Evidence {
        uint8_t *ak_public, *report_data, *message, *signature;
        size_t ak_public_size, report_data_size, message_size, signature_size;
        uint8_t pcrs[TPM_QUOTE_PCRS][TPM_VERIFY_SHA256_SIZE];
} Evidence;

static void evidence_done(Evidence *e) {
        free(e->ak_public);
        free(e->report_data);
        free(e->message);
        free(e->signature);
}

/* `o` is an object with exactly these members (names is NULL-terminated). */
static int check_members(json_object *o, const char *what, const char *const *names, char *reason,
                         size_t reason_size) {
        const char *unknown;
        char buf[44];

        if (!json_object_is_type(o, json_type_object))
                return fail(-EBADMSG, reason, reason_size, "%s is not a JSON object", what);
        unknown = json_unknown_member(o, names);
        if (unknown)
                return fail(-EBADMSG, reason, reason_size, "%s has an unknown member \"%s\"", what,
                            printable(unknown, buf));
        for (size_t i = 0; names[i]; i++)
                if (!json_object_object_get_ex(o, names[i], NULL))
                        return fail(-EBADMSG, reason, reason_size, "%s has no member \"%s\"", what,
                                    names[i]);
        return 0;
}

/* The member `name` of `o`: a string of standard base64 with padding, of at most max_size
 * bytes once decoded. */
static int decode_base64_member(json_object *o, const char *name, size_t max_size, uint8_t **ret,
                                size_t *ret_size, char *reason, size_t reason_size) {
        json_object *v = NULL;
        size_t len;
        int r;

        (void) json_object_object_get_ex(o, name, &v);
        if (!json_object_is_type(v, json_type_string))
                return fail(-EBADMSG, reason, reason_size, "\"%s\" is not a string", name);
        len = (size_t) json_object_get_string_len(v);
        /* Before decoding: nothing larger than the member can be is allocated. */
        if (len > (max_size + 2) / 3 * 4)
                return fail(-EBADMSG, reason, reason_size, "\"%s\" is longer than %zu bytes", name,
                            max_size);
        r = base64_decode(json_object_get_string(v), len, ret, ret_size);
        if (r == -ENOMEM)
                return fail(r, reason, reason_size, "out of memory");
        if (r < 0)
                return fail(-EBADMSG, reason, reason_size,
                            "\"%s\" is not standard base64 with padding", name);
        return 0;
}

/* Exactly 64 lowercase hex digits, as hex::encode writes them: one spelling per value. */
static bool parse_pcr_value(json_object *v, uint8_t ret[TPM_VERIFY_SHA256_SIZE]) {
        const char *s;

        if (!json_object_is_type(v, json_type_string) ||
            json_object_get_string_len(v) != 2 * TPM_VERIFY_SHA256_SIZE)
                return false;
        s = json_object_get_string(v);
        for (size_t i = 0; i < 2 * TPM_VERIFY_SHA256_SIZE; i++) {
                char c = s[i];
                int digit = c >= '0' && c <= '9'   ? c - '0'
                            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                   : -1;

                if (digit < 0)
                        return false;
                if (i % 2 == 0)
                        ret[i / 2] = (uint8_t) (digit << 4);
                else
                        ret[i / 2] |= (uint8_t) digit;
        }
        return true;
}

static int parse_pcrs(json_object *quote, uint8_t ret[TPM_QUOTE_PCRS][TPM_VERIFY_SHA256_SIZE],
                      char *reason, size_t reason_size) {
        json_object *pcrs = NULL;
        size_t n;

        (void) json_object_object_get_ex(quote, "pcrs", &pcrs);
        if (!json_object_is_type(pcrs, json_type_array))
                return fail(-EBADMSG, reason, reason_size, "\"pcrs\" is not an array");
        n = json_object_array_length(pcrs);
        if (n != TPM_QUOTE_PCRS)
                return fail(-EBADMSG, reason, reason_size,
                            "\"pcrs\" has %zu values, not the %d SHA-256 PCRs 0-23", n,
                            TPM_QUOTE_PCRS);
        for (size_t i = 0; i < TPM_QUOTE_PCRS; i++)
                if (!parse_pcr_value(json_object_array_get_idx(pcrs, i), ret[i]))
                        return fail(-EBADMSG, reason, reason_size,
                                    "pcrs[%zu] is not %d lowercase hex digits", i,
                                    2 * TPM_VERIFY_SHA256_SIZE);
        return 0;
}

static int evidence_parse(json_object *evidence, Evidence *e, char *reason, size_t reason_size) {
        static const char *const evidence_members[] = { "ak_public", "report_data", "tpm_quote",
                                                        NULL };
        static const char *const quote_members[] = { "message", "pcrs", "signature", NULL };
        json_object *quote = NULL;
        int r;

        r = check_members(evidence, "the evidence", evidence_members, reason, reason_size);
        if (r < 0)
                return r;
        (void) json_object_object_get_ex(evidence, "tpm_quote", &quote);
        r = check_members(quote, "\"tpm_quote\"", quote_members, reason, reason_size);
        if (r < 0)
                return r;

        r = decode_base64_member(evidence, "ak_public", AK_PUBLIC_SIZE_MAX, &e->ak_public,
                                 &e->ak_public_size, reason, reason_size);
        if (r < 0)
                return r;
        r = decode_base64_member(evidence, "report_data", TPM_REPORT_DATA_SIZE, &e->report_data,
                                 &e->report_data_size, reason, reason_size);
        if (r < 0)
                return r;
        /* The attesters pad it to 64 bytes, as they pad the qualifying data. */
        if (e->report_data_size != TPM_REPORT_DATA_SIZE)
                return fail(-EBADMSG, reason, reason_size, "\"report_data\" has %zu bytes, not %d",
                            e->report_data_size, TPM_REPORT_DATA_SIZE);
        r = decode_base64_member(quote, "message", MESSAGE_SIZE_MAX, &e->message, &e->message_size,
                                 reason, reason_size);
        if (r < 0)
                return r;
        r = decode_base64_member(quote, "signature", SIGNATURE_SIZE_MAX, &e->signature,
                                 &e->signature_size, reason, reason_size);
        if (r < 0)
                return r;
        return parse_pcrs(quote, e->pcrs, reason, reason_size);
}

/* The whole signature must be one RSASSA-SHA256 TPMT_SIGNATURE of the key's size. */
static int signature_unmarshal(const Evidence *e, TPMT_SIGNATURE *ret, char *reason,
                               size_t reason_size) {
        size_t offset = 0;
        TSS2_RC rc;

        rc = Tss2_MU_TPMT_SIGNATURE_Unmarshal(e->signature, e->signature_size, &offset, ret);
        if (rc != TSS2_RC_SUCCESS)
                return fail(-EBADMSG, reason, reason_size,
                            "\"signature\" is not a TPMT_SIGNATURE (0x%08" PRIx32 ")", rc);
        if (offset != e->signature_size)
                return fail(-EBADMSG, reason, reason_size,
                            "\"signature\" has %zu bytes after its TPMT_SIGNATURE",
                            e->signature_size - offset);
        /* Well-formed, but not a signature the AK template can make. */
        if (ret->sigAlg != TPM2_ALG_RSASSA)
                return fail(-EKEYREJECTED, reason, reason_size,
                            "the quote is signed with scheme 0x%04x: only RSASSA is accepted",
                            ret->sigAlg);
        if (ret->signature.rsassa.hash != TPM2_ALG_SHA256)
                return fail(-EKEYREJECTED, reason, reason_size,
                            "the quote's RSASSA signature is over hash 0x%04x: only SHA-256 is "
                            "accepted",
                            ret->signature.rsassa.hash);
        if (ret->signature.rsassa.sig.size != AK_RSA_BYTES)
                return fail(-EKEYREJECTED, reason, reason_size,
                            "the RSASSA signature has %u bytes, not %d",
                            ret->signature.rsassa.sig.size, AK_RSA_BYTES);
        return 0;
}

/* RSASSA-PKCS1-v1_5 with SHA-256 over the message, by the registered key. */
static int signature_verify(const RegisteredAk *ak, const Evidence *e, const TPMT_SIGNATURE *sig,
                            char *reason, size_t reason_size) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        EVP_PKEY_CTX *pkey_ctx = NULL;
        int ok;

        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return fail(-ENOMEM, reason, reason_size, "out of memory");
        /* The padding is OpenSSL's default for RSA; set anyway, it is what is being checked. */
        if (EVP_DigestVerifyInit(ctx, &pkey_ctx, EVP_sha256(), NULL, ak->pkey) != 1 ||
            EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PADDING) != 1) {
                ERR_clear_error();
                return fail(-EIO, reason, reason_size, "OpenSSL cannot verify with AK sha256:%s",
                            ak->id);
        }
        ok = EVP_DigestVerify(ctx, sig->signature.rsassa.sig.buffer, sig->signature.rsassa.sig.size,
                              e->message, e->message_size);
        /* A bad signature leaves errors in OpenSSL's queue: expected here, not for the next
         * caller to find. */
        ERR_clear_error();
        if (ok != 1)
                return fail(-EKEYREJECTED, reason, reason_size,
                            "the quote's signature does not verify with AK sha256:%s", ak->id);
        return 0;
}

/* The selection is SHA-256 PCRs 0-23 exactly: the digest covers the selected PCRs, the 24
 * values sent are hashed in order, so any other selection cannot match them honestly. */
static bool selects_sha256_pcrs_0_23(const TPML_PCR_SELECTION *s) {
        const TPMS_PCR_SELECTION *p = &s->pcrSelections[0];
        uint32_t bits = 0;

        if (s->count != 1 || p->hash != TPM2_ALG_SHA256 || p->sizeofSelect < 3 ||
            p->sizeofSelect > TPM2_PCR_SELECT_MAX)
                return false;
        for (unsigned i = 0; i < p->sizeofSelect; i++)
                bits |= (uint32_t) p->pcrSelect[i] << (8 * i);
        return bits == PCR_ALL;
}

/* What the signed message states: a quote of these PCR values for this session. */
static int check_quote(const Evidence *e, const uint8_t expected_report_data[TPM_REPORT_DATA_SIZE],
                       char *reason, size_t reason_size) {
        uint8_t digest[EVP_MAX_MD_SIZE];
        unsigned digest_size = 0;
        TPMS_ATTEST attest;
        size_t offset = 0;
        TSS2_RC rc;

        rc = Tss2_MU_TPMS_ATTEST_Unmarshal(e->message, e->message_size, &offset, &attest);
        if (rc != TSS2_RC_SUCCESS)
                return fail(-EBADMSG, reason, reason_size,
                            "\"message\" is not a TPMS_ATTEST (0x%08" PRIx32 ")", rc);
        /* Bytes after the structure would be signed but never read. */
        if (offset != e->message_size)
                return fail(-EBADMSG, reason, reason_size,
                            "\"message\" has %zu bytes after its TPMS_ATTEST",
                            e->message_size - offset);

        if (attest.magic != TPM2_GENERATED_VALUE)
                return fail(-EBADE, reason, reason_size,
                            "the message has magic 0x%08" PRIx32 ": not made by a TPM",
                            attest.magic);
        if (attest.type != TPM2_ST_ATTEST_QUOTE)
                return fail(-EBADE, reason, reason_size,
                            "the message is a TPM attestation of type 0x%04x, not a quote",
                            attest.type);
        if (!selects_sha256_pcrs_0_23(&attest.attested.quote.pcrSelect))
                return fail(-EBADE, reason, reason_size,
                            "the quote does not cover exactly the SHA-256 PCRs 0-23");

        if (EVP_Digest(e->pcrs, sizeof e->pcrs, digest, &digest_size, EVP_sha256(), NULL) != 1)
                return fail(-ENOMEM, reason, reason_size, "cannot hash the PCR values");
        if (attest.attested.quote.pcrDigest.size != digest_size ||
            CRYPTO_memcmp(attest.attested.quote.pcrDigest.buffer, digest, digest_size) != 0)
                return fail(-EBADE, reason, reason_size,
                            "the PCR values are not those the quote covers (pcrDigest differs)");

        if (attest.extraData.size != TPM_REPORT_DATA_SIZE ||
            CRYPTO_memcmp(attest.extraData.buffer, expected_report_data, TPM_REPORT_DATA_SIZE) != 0)
                return fail(-EBADE, reason, reason_size,
                            "the quote's qualifying data is not the report data of this session");

        /* Not read by Trustee, and trusted by nobody: an evidence that contradicts its own
         * quote is malformed all the same. */
        if (CRYPTO_memcmp(e->report_data, attest.extraData.buffer, TPM_REPORT_DATA_SIZE) != 0)
                return fail(-EBADMSG, reason, reason_size,
                            "\"report_data\" is not the quote's qualifying data");
        return 0;
}

int tpm_evidence_verify(json_object *evidence, const uint8_t expected_report_data[static 64],
                        const TpmAkSet *trusted, TpmVerified *ret, char *reason,
                        size_t reason_size) {
        _cleanup_(evidence_done) Evidence e = {};
        char id[2 * TPM_VERIFY_SHA256_SIZE + 1];
        const RegisteredAk *ak;
        TPMT_SIGNATURE sig;
        int r;

        r = evidence_parse(evidence, &e, reason, reason_size);
        if (r < 0)
                return r;

        r = ak_id_of_der(e.ak_public, e.ak_public_size, id);
        if (r < 0)
                return fail(r, reason, reason_size, "cannot hash \"ak_public\"");
        ak = ak_set_find(trusted, id);
        /* Equal hashes are equal keys; comparing the bytes as well costs nothing. From here on
         * only the registered key is used, never one parsed from the evidence. */
        if (!ak || ak->der_size != e.ak_public_size ||
            memcmp(ak->der, e.ak_public, e.ak_public_size) != 0)
                return fail(-ENOKEY, reason, reason_size, "AK sha256:%s is not registered", id);

        r = signature_unmarshal(&e, &sig, reason, reason_size);
        if (r < 0)
                return r;
        r = signature_verify(ak, &e, &sig, reason, reason_size);
        if (r < 0)
                return r;
        r = check_quote(&e, expected_report_data, reason, reason_size);
        if (r < 0)
                return r;

        memcpy(ret->ak_id, ak->id, sizeof ret->ak_id);
        memcpy(ret->pcrs, e.pcrs, sizeof ret->pcrs);
        log_debug("Verified a quote of AK sha256:%s.", ak->id);
        return 0;
}
