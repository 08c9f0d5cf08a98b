/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evidence.h"
#include "http.h"

/* The client side of the Trustee KBS attestation protocol (RCAR, version 0.4.0), as
 * guest-components' kbs_protocol speaks it:
 *
 *   POST /kbs/v0/auth      {"version":"0.4.0","tee":T,"extra-params":""}
 *                          -> {"nonce":N,"extra-params":...} and the kbs-session-id cookie
 *   POST /kbs/v0/attest    {"runtime-data":{"nonce":N,"tee-pubkey":JWK},
 *                           "tee-evidence":{"primary_evidence":E,"additional_evidence":""}}
 *                          -> {"token":...}
 *   GET  /kbs/v0/resource/REPOSITORY/TYPE/TAG
 *                          -> a JWE encrypted to the tee-pubkey
 *
 * E binds REPORTDATA = SHA-384(JCS(additional-evidence, nonce, tee-pubkey)), so the resource
 * can only be read with the private key of this run, generated here and never stored. All
 * three requests go over one libcurl handle: one TLS connection when the server keeps it
 * alive. */

#define KBS_PROTOCOL_VERSION "0.4.0"

typedef struct KbsTimings {
        /* Wall-clock and this thread's CPU time of each step, in microseconds. */
        struct {
                uint64_t wall_us, cpu_us;
        } key, auth, evidence, attest, resource, decrypt;
        unsigned handshakes; /* auth + attest rounds: 1, more after 401 answers */
        long connections;    /* TCP connections opened */
} KbsTimings;

typedef struct KbsRequest {
        const char *url;      /* https://HOST[:PORT][/PREFIX], without /kbs/v0 */
        const char *resource; /* REPOSITORY/TYPE/TAG */
        const HttpOptions *http;
        /* Handshakes re-run when the resource request is answered 401 (session expired or
         * lost by the server), as guest-components does. */
        unsigned handshake_retries;
} KbsRequest;

/* REPOSITORY/TYPE/TAG: three non-empty segments of letters, digits, '-', '_' and '.', none of
 * them ".", and no "..", so that the path cannot climb out of /kbs/v0/resource/ or carry a
 * query. */
bool kbs_resource_valid(const char *s);

/* Attests with evidence from source and fetches the resource, decrypted: the bytes the
 * server holds (for devgate, a DSSE envelope still to be verified). Returns 0; or -EACCES
 * (the server refused the attestation or the resource: 401, 403), -ENOENT (404), -EBADMSG (a
 * malformed answer: challenge, token, or a JWE that is malformed or does not open with this
 * run's key), -EOPNOTSUPP (a JWE algorithm devgate refuses), the errors of http_request()
 * (-ETIMEDOUT, -ECONNREFUSED, -EFBIG, -EKEYREJECTED for a certificate that is not the pinned
 * one, -EPROTO), or the evidence's error; with
 * a one-line reason naming the step. timings may be NULL. */
int kbs_fetch_resource(const KbsRequest *request, EvidenceSource *source, uint8_t **ret,
                       size_t *ret_size, KbsTimings *timings, char *reason, size_t reason_size);

/* The largest nonce accepted in a challenge, decoded. Trustee sends 32 random bytes. */
#define KBS_NONCE_SIZE_MIN 16
#define KBS_NONCE_SIZE_MAX 64
