// SPDX-License-Identifier: LGPL-2.1-or-later
/* A tee-pubkey JWK as the reference server receives it from a guest: parsed strictly, then
 * imported. Whatever imports exports back to the same coordinates. */
#include <string.h>

#include "fuzz.h"
#include "json-strict.h"
#include "jwk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_object *jwk = NULL, *back = NULL, *a, *b;
        EVP_PKEY *key = NULL;
        char reason[256];

        if (json_parse_strict((const char *) data, size, 4, &jwk, reason, sizeof reason) < 0)
                return 0;
        if (jwk_to_public_key(jwk, &key) == 0) {
                fuzz_check(jwk_from_public_key(key, &back) == 0);
                for (const char *const *k = (const char *const[]){ "x", "y", NULL }; *k; k++) {
                        fuzz_check(json_object_object_get_ex(jwk, *k, &a));
                        fuzz_check(json_object_object_get_ex(back, *k, &b));
                        fuzz_check(strcmp(json_object_get_string(a), json_object_get_string(b)) ==
                                   0);
                }
                json_object_put(back);
                EVP_PKEY_free(key);
        }
        json_object_put(jwk);
        return 0;
}
