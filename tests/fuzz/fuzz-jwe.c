// SPDX-License-Identifier: LGPL-2.1-or-later
/* The attested resource as it arrives from the network: a JWE encrypted to the guest's
 * key. The recipient key below is the test key of tests/attest/jwe-vectors/p256.jwk, so the
 * seeds in corpus/jwe/ (from those vectors) decrypt and the fuzzer reaches past the tag. */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "jwe.h"
#include "log.h"

static const char recipient_jwk[] =
        "{\"crv\":\"P-256\",\"d\":\"NrVimSQ_7hgvsTmC0wX9zeBTuIPFPOVB1Cvbux9Qjrg\",\"kty\":\"EC\","
        "\"x\":\"5y7W2j5s2Z7WOQG7aDkuwg_kJBu-YgA10T3j_A1XmYY\","
        "\"y\":\"MJC59a8cWo7_wHCXMSWtcjtULk2nrzMghWfMUKZuG5U\"}";

static EVP_PKEY *recipient(void) {
        static EVP_PKEY *key;
        char reason[256];

        if (!key) {
                json_object *jwk = json_tokener_parse(recipient_jwk);
                fuzz_check(jwe_jwk_to_pkey(jwk, &key, reason, sizeof reason) == 0);
                json_object_put(jwk);
                log_setup(LOG_TARGET_STDERR, LOG_EMERG);
        }
        return key;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t *plaintext = NULL;
        size_t plaintext_size = 0;
        char reason[256] = "";
        int r;

        r = jwe_decrypt((const char *) data, size, recipient(), &plaintext, &plaintext_size, reason,
                        sizeof reason);
        if (r < 0) {
                fuzz_check(!plaintext);
                fuzz_check(r == -EBADMSG || r == -EOPNOTSUPP || r == -E2BIG || r == -ENOMEM);
                fuzz_check(r == -ENOMEM || reason[0] != '\0');
                return 0;
        }
        /* Whatever decrypts was authenticated by the tag: it is no larger than its input. */
        fuzz_check(plaintext && plaintext_size <= size);
        free(plaintext);
        return 0;
}
