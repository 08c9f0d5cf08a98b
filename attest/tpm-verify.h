/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "tpm-quote.h"

/* The verifier's side of Trustee's "tpm" evidence (the format is in tpm-quote.h), as
 * devgate-kbs checks it and as Trustee's verifier does: the AK must be registered, the quote
 * signed by it, the quote's PCR digest that of the 24 PCR values sent, and its extraData the
 * report data the server expects for this session. */

#define TPM_VERIFY_SHA256_SIZE 32

/* The attestation keys an operator registered: the PEM public keys ("*.pub") of a directory,
 * each identified by the SHA-256 of its DER SubjectPublicKeyInfo, as Trustee's
 * trusted_ak_keys_dir. */
typedef struct TpmAkSet TpmAkSet;

/* Loads every "*.pub" file of dir (other names are ignored; an empty directory gives an empty
 * set). A file that is not one RSA-2048 public key in PEM is an error naming the file:
 * -EINVAL with reason set. */
int tpm_ak_set_load(const char *dir, TpmAkSet **ret, char *reason, size_t reason_size);
size_t tpm_ak_set_size(const TpmAkSet *set);
TpmAkSet *tpm_ak_set_free(TpmAkSet *set);
static inline void tpm_ak_set_freep(TpmAkSet **set) {
        tpm_ak_set_free(*set);
}
#define _cleanup_tpm_ak_set_ _cleanup_(tpm_ak_set_freep)

/* The largest AK file tpm_ak_set_load() reads. */
#define TPM_AK_FILE_SIZE_MAX (16 * 1024)

/* Checks the text of one AK file exactly as tpm_ak_set_load() checks each "*.pub" file (one
 * PEM block, an RSA-2048 "PUBLIC KEY", at most TPM_AK_FILE_SIZE_MAX bytes) and gives its id,
 * as TpmVerified.ak_id: what devgate-kbs-admin checks before it installs a key. label names
 * the file in the reason. -EINVAL with reason set, -ENOMEM. */
int tpm_ak_pem_parse(const char *text, size_t size, const char *label,
                     char ret_id[static 2 * TPM_VERIFY_SHA256_SIZE + 1], char *reason,
                     size_t reason_size);

typedef struct TpmVerified {
        /* Lowercase hex SHA-256 of the AK's DER SubjectPublicKeyInfo: what access rules name. */
        char ak_id[2 * TPM_VERIFY_SHA256_SIZE + 1];
        /* The SHA-256 PCRs 0-23 the quote vouches for. */
        uint8_t pcrs[TPM_QUOTE_PCRS][TPM_VERIFY_SHA256_SIZE];
} TpmVerified;

/* Verifies the "tpm" evidence object (the primary_evidence of an attest request) against the
 * report data expected for the session. Strict: unknown or missing members, wrong types,
 * non-canonical base64 or hex, trailing bytes in the marshalled structures are refused.
 *
 * Returns 0 and fills ret; or -EBADMSG (malformed), -ENOKEY (AK not registered),
 * -EKEYREJECTED (bad signature), -EBADE (PCR digest or extraData mismatch, not a quote), with a
 * one-line reason for the server's problem "detail" and log. */
int tpm_evidence_verify(json_object *evidence, const uint8_t expected_report_data[static 64],
                        const TpmAkSet *trusted, TpmVerified *ret, char *reason,
                        size_t reason_size);
