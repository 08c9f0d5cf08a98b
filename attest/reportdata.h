/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

/* The size of the hardware REPORTDATA field (TDX, SEV-SNP) and of what devgate passes as
 * a TPM quote's qualifying data. */
#define KBS_REPORT_DATA_SIZE        64
/* The size of the digest that fills its start: SHA-384. */
#define KBS_REPORT_DATA_DIGEST_SIZE 48

/* The report data that binds evidence to one KBS session (RCAR protocol 0.4.0), computed as
 * guest-components computes it and Trustee's attestation service checks it: the SHA-384 of
 * the RFC 8785 canonical form of
 *
 *   {"additional-evidence": <string>, "nonce": <string>, "tee-pubkey": <JWK>}
 *
 * zero-padded to 64 bytes. nonce is the challenge's "nonce" exactly as received (opaque:
 * for most TEEs the standard base64 of 32 random bytes, "/" and "+" included); tee_pubkey_jwk
 * is what is sent as runtime-data.tee-pubkey (jwk_from_public_key()); additional_evidence is
 * the string sent as tee-evidence.additional_evidence, a string even when it holds JSON —
 * "" (NULL means "") when there is no device evidence, as for devgate.
 *
 * The padding is what the TDX and TPM verifiers compare against. Trustee's "sample" verifier
 * compares the bare digest: for that TEE, put only the first KBS_REPORT_DATA_DIGEST_SIZE
 * bytes into the evidence. The SE TEE (SHA-512, negotiated through "selected-hash-algorithm")
 * is not supported.
 *
 * -EINVAL if nonce is NULL or tee_pubkey_jwk not an object; the error of jcs_serialize()
 * (jcs.h) if a string is not valid UTF-8 or the JWK holds what RFC 8785 cannot write;
 * -ENOMEM; -EIO if OpenSSL fails. ret is untouched on failure. */
int kbs_report_data(const char *nonce, json_object *tee_pubkey_jwk, const char *additional_evidence,
                    uint8_t ret[KBS_REPORT_DATA_SIZE]);
