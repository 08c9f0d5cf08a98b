/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "keys.h"

/* A signed policy is a DSSE envelope whose payload is a policy document and whose
 * payloadType is this string. Signatures cover the DSSE pre-authentication encoding
 * "DSSEv1 <len(type)> <type> <len(payload)> <payload>", never the JSON around them. */
#define DEVGATE_PAYLOAD_TYPE "application/vnd.devgate.policy+json"

/* A 1 MiB policy is 1.4 MiB in base64; the rest is room for signatures. Checked before
 * anything is allocated in proportion to the input. */
#define ENVELOPE_SIZE_MAX       (2 * 1024 * 1024)
#define ENVELOPE_SIGNATURES_MAX 16

typedef struct EnvelopeSignature {
        char *keyid; /* a hint only: every trusted key is tried */
        uint8_t *sig;
        size_t sig_size;
} EnvelopeSignature;

typedef struct Envelope {
        char *payload_type;
        uint8_t *payload;
        size_t payload_size;
        EnvelopeSignature *signatures;
        size_t n_signatures;
} Envelope;

Envelope *envelope_free(Envelope *e);
static inline void envelope_freep(Envelope **e) {
        envelope_free(*e);
}

/* Parses the envelope's JSON. On failure returns -EBADMSG with a reason. */
int envelope_parse(const char *data, size_t size, Envelope **ret, char *reason, size_t reason_size);

/* Which distinct trusted keys signed. */
typedef struct Verification {
        char signers[TRUSTED_KEYS_MAX][KEY_ID_LEN + 1];
        size_t n_signers;
} Verification;

/* Checks the payload type and counts the distinct trusted keys with a valid signature;
 * a key that signed twice counts once, unknown keys not at all. -EMEDIUMTYPE for another
 * payload type, -EKEYREJECTED when fewer than the threshold signed; with a reason. */
int envelope_verify(const Envelope *e, const TrustedKeys *keys, Verification *ret, char *reason,
                    size_t reason_size);

/* A new unsigned envelope around a payload, signing, and the JSON text. */
int envelope_new(const uint8_t *payload, size_t size, Envelope **ret);
int envelope_sign(Envelope *e, EVP_PKEY *key);
int envelope_format(const Envelope *e, char **ret, size_t *ret_size);
