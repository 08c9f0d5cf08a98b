// SPDX-License-Identifier: LGPL-2.1-or-later
/* A signed policy as it arrives from the host: the envelope's JSON, its base64, the
 * signature check against one trusted key, then the payload as a policy. The seeds in
 * corpus/envelope/ are signed by the private half of the key below (made for the corpus and
 * not kept), so the fuzzer starts from envelopes that verify and reaches the policy parser. */
#include <openssl/pem.h>
#include <string.h>

#include "base64.h"
#include "envelope.h"
#include "fuzz.h"
#include "log.h"
#include "policy.h"

static const char trusted_pem[] = "-----BEGIN PUBLIC KEY-----\n"
                                  "MCowBQYDK2VwAyEA+7tzZtcOoehTGnOEmFnv94V+jO9Ymzm5Fck9zQ4GMaI=\n"
                                  "-----END PUBLIC KEY-----\n";

static TrustedKeys *trusted(void) {
        static TrustedKeys keys;
        static TrustedKey key;

        if (keys.n == 0) {
                BIO *bio = BIO_new_mem_buf(trusted_pem, -1);
                key.pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
                BIO_free(bio);
                fuzz_check(key.pkey && key_id(key.pkey, key.id) == 0);
                keys = (TrustedKeys){ .keys = &key, .n = 1, .threshold = 1 };
                log_setup(LOG_TARGET_STDERR, LOG_EMERG);
        }
        return &keys;
}

/* Strict base64 has one spelling per byte string: what decodes re-encodes to itself. */
static void check_base64(const uint8_t *data, size_t size) {
        uint8_t *decoded = NULL;
        char *encoded = NULL;
        size_t decoded_size;

        if (base64_decode((const char *) data, size, &decoded, &decoded_size) < 0) {
                fuzz_check(!decoded);
                return;
        }
        fuzz_check(base64_encode(decoded, decoded_size, &encoded) == 0);
        fuzz_check(strlen(encoded) == size && memcmp(encoded, data, size) == 0);
        free(encoded);
        free(decoded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Envelope *e = NULL;
        Verification v;
        Policy *policy = NULL;
        PolicyError error;
        char reason[256];
        int r;

        check_base64(data, size);

        r = envelope_parse((const char *) data, size, &e, reason, sizeof reason);
        if (r < 0) {
                fuzz_check(!e && (r == -EBADMSG || r == -ENOMEM) && reason[0]);
                return 0;
        }
        fuzz_check(e->n_signatures <= ENVELOPE_SIGNATURES_MAX);

        r = envelope_verify(e, trusted(), &v, reason, sizeof reason);
        if (r == 0) {
                /* One trusted key: it counts once however many signatures it made. */
                fuzz_check(v.n_signers == 1);
                fuzz_check(strcmp(e->payload_type, DEVGATE_PAYLOAD_TYPE) == 0);
                if (policy_parse((const char *) e->payload, e->payload_size, &policy, &error) == 0)
                        fuzz_check(policy->n_rules <= POLICY_RULES_MAX);
                policy_free(policy);
        } else
                fuzz_check(r == -EMEDIUMTYPE || r == -EKEYREJECTED || r == -ENOMEM);

        envelope_free(e);
        return 0;
}
