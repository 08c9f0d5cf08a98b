/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* TPM evidence for a Trustee KBS (TEE "tpm"): a quote over the SHA-256 PCRs 0-23 with the
 * padded REPORTDATA as qualifying data, signed by an attestation key (AK) whose public key the
 * operator registers with the verifier once.
 *
 * The attestation key
 * -------------------
 * A primary key in the endorsement hierarchy, created anew at every boot from this fixed
 * template (TPM 2.0 Part 2, TPMT_PUBLIC):
 *
 *   type        TPM2_ALG_RSA, keyBits 2048, exponent 0 (= 65537)
 *   nameAlg     TPM2_ALG_SHA256
 *   attributes  fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | restricted |
 *               sign | noDA
 *   scheme      TPM2_ALG_RSASSA with TPM2_ALG_SHA256; symmetric TPM2_ALG_NULL
 *   authPolicy  empty; unique empty (size 0); no sensitive data, empty authValue
 *
 * which is what
 *
 *   tpm2_createprimary -C e -g sha256 -G rsa2048:rsassa-sha256:null \
 *           -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign|noda'
 *
 * creates. A primary key is derived from the hierarchy's seed and the template alone, so the
 * same TPM gives the same key at every boot and nothing is stored in the TPM: the public key
 * is stable until the endorsement primary seed changes (TPM2_ChangeEPS, which manufacturers'
 * tools use, never an OS), and unlike the owner hierarchy it survives TPM2_Clear. Another TPM
 * gives another key.
 *
 * Why this template: Trustee's verifier only accepts RSASSA signatures (it unmarshals the
 * TPMT_SIGNATURE and refuses any other scheme) and checks them with SHA-256, hence RSA-2048 and
 * RSASSA-SHA256. "restricted" makes the TPM refuse to sign any data that starts with
 * TPM_GENERATED_VALUE unless it produced that data itself, so whatever the AK signs that looks
 * like a quote is one. "noDA": the authValue is empty, so dictionary-attack protection protects
 * nothing, and without the flag a lockout caused by some other application's wrong PINs would
 * stop the attestation at boot.
 *
 * Assumptions: the endorsement hierarchy is enabled and its authorization is empty, as it is
 * on virtual TPMs and on Linux systems (tpm2_createek needs the same). Otherwise
 * tpm_ak_open() fails with -EPERM (hierarchy disabled) or -EACCES (password set).
 *
 * Limits: creating an RSA primary key generates RSA primes, which takes from tens of
 * milliseconds (swtpm: 27 to 57 ms with the quote, tests/bench/attest-bench.sh) to tens of
 * seconds (slow discrete TPMs). Anyone who can talk to
 * the TPM can create the same key and quote with it: a quote only states the PCRs the TPM
 * holds, which is what the verifier checks. Binding the AK to a genuine TPM is the
 * operator's job when registering it (print it from the machine in a trusted state, or
 * certify it against the EK): the session with the TPM is not protected, so a TPM interposer
 * at registration time could show its own key.
 *
 * The evidence
 * ------------
 * Pinned to the format of guest-components' TPM attester with a persistent AK
 * (attestation-agent/attester/src/tpm/mod.rs and utils.rs, 2025) as Trustee's verifier reads
 * it (trustee deps/verifier/src/tpm/mod.rs and README.md, 2025, with az-cvm-vtpm's Quote):
 *
 *   {
 *     "ak_public": base64(DER SubjectPublicKeyInfo of the AK),
 *     "report_data": base64(the 64 bytes of report data),
 *     "tpm_quote": {
 *       "message": base64(TPMS_ATTEST, the bytes the TPM signed),
 *       "pcrs": [ 24 lowercase hex strings: SHA-256 PCR 0, 1, ... 23 ],
 *       "signature": base64(marshalled TPMT_SIGNATURE: RSASSA, SHA-256, 256 bytes)
 *     }
 *   }
 *
 * base64 is the standard alphabet with padding. The verifier: hashes ak_public with SHA-256
 * and looks it up among the SHA-256 of the DER of the PEM "*.pub" files in its
 * trusted_ak_keys_dir (default /etc/tpm/trusted_ak_keys); checks the RSASSA-PKCS1-v1_5/SHA-256
 * signature over message; checks that SHA-256(pcrs[0] || ... || pcrs[23]) is the quote's
 * pcrDigest (it does not read the quote's PCR selection: the quote must cover exactly these 24
 * PCRs); and that the quote's extraData equals its expected report data zero-padded to 64
 * bytes. "report_data" is not read by that verifier (serde ignores it) and repeats extraData
 * for older verifiers and for people; trust the quote's extraData, not it.
 *
 * Formats drifted: earlier attesters sent "ak_public" as a marshalled TPMT_PUBLIC of an AK
 * created afresh under the EK at every attestation (unpinnable) plus "svn"; an earlier verifier
 * read trusted keys as base64 DER files and compared the report data unpadded. */

/* 64 bytes: qualifyingData is a TPM2B_DATA, at most sizeof(TPMT_HA) bytes, so a TPM whose
 * largest hash is SHA-384 takes at most 50: there tpm_quote() fails with -EMSGSIZE. */
#define TPM_REPORT_DATA_SIZE 64
#define TPM_QUOTE_PCRS       24

typedef struct TpmAk TpmAk;

/* Creates the AK in the TPM reached through `tcti` (a Tss2_TctiLdr_Initialize configuration:
 * "device:/dev/tpmrm0", "swtpm:path=SOCK"; NULL for the TSS's default). It stays loaded as a
 * transient object until tpm_ak_free(). -ENODEV when no TPM is reachable, -EOPNOTSUPP when the
 * TCTI's library cannot be loaded or the TPM cannot make such a key, -EINVAL for a malformed
 * TCTI string, -EPERM if the endorsement hierarchy is disabled, -EACCES if it has a password,
 * -ENOSPC if the TPM has no room for another transient object. Sets TSS2_LOG=all+none unless
 * TSS2_LOG is set already: the TSS would print expected conditions as errors on stderr. */
int tpm_ak_open(const char *tcti, TpmAk **ret);

/* Flushes the AK from the TPM and closes the connection. Accepts NULL, returns NULL. */
TpmAk *tpm_ak_free(TpmAk *ak);

static inline void tpm_ak_freep(TpmAk **ak) {
        tpm_ak_free(*ak);
}
#define _cleanup_tpm_ak_ _cleanup_(tpm_ak_freep)

/* The AK's public key as a PEM "PUBLIC KEY" (SubjectPublicKeyInfo), newline-terminated: what an
 * operator registers with the verifier (a .pub file in Trustee's trusted_ak_keys_dir) and what
 * tpm2_checkquote -u reads. */
int tpm_ak_public_pem(TpmAk *ak, char **ret);

/* The same key in DER, as "ak_public" carries it. The bytes belong to `ak`. */
int tpm_ak_public_der(TpmAk *ak, const uint8_t **ret, size_t *ret_size);

/* Quotes the SHA-256 PCRs 0-23 with `report_data` as qualifying data and returns the evidence
 * JSON described above, NUL-terminated, on one line, keys sorted. The PCR values are read
 * next to the quote and checked against its pcrDigest: if a PCR was extended in between, the
 * quote is taken again, up to 3 times, then -EAGAIN. -EMSGSIZE if the TPM cannot take 64
 * bytes of qualifying data (see TPM_REPORT_DATA_SIZE), -EOPNOTSUPP if it has no SHA-256 PCR
 * bank, -EBADMSG if the TPM answers with something else than a quote over what was asked. */
int tpm_quote(TpmAk *ak, const uint8_t report_data[static TPM_REPORT_DATA_SIZE],
              char **ret_evidence_json);
