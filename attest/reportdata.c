// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

#include "jcs.h"
#include "json-strict.h"
#include "log.h"
#include "macro.h"
#include "reportdata.h"

static int add(json_object *o, const char *name, json_object *value) {
        if (!value || json_object_object_add(o, name, value) < 0) {
                json_object_put(value);
                return -ENOMEM;
        }
        return 0;
}

int kbs_report_data(const char *nonce, json_object *tee_pubkey_jwk, const char *additional_evidence,
                    uint8_t ret[KBS_REPORT_DATA_SIZE]) {
        _cleanup_(json_object_putp) json_object *runtime_data = NULL;
        _cleanup_free_ char *canonical = NULL;
        uint8_t digest[EVP_MAX_MD_SIZE];
        unsigned digest_size = 0;
        size_t len;
        int r;

        if (!nonce || !json_object_is_type(tee_pubkey_jwk, json_type_object))
                return -EINVAL;

        /* The names and their types are those of Trustee's KBS (kbs/src/attestation/
         * backend.rs, "primary_runtime_data") and of guest-components' RCAR client: the
         * additional evidence is hashed as the string it is sent as, not as the JSON it may
         * contain. The order here does not matter, JCS sorts. */
        runtime_data = json_object_new_object();
        if (!runtime_data)
                return -ENOMEM;
        r = add(runtime_data, "additional-evidence",
                json_object_new_string(additional_evidence ? additional_evidence : ""));
        if (r >= 0)
                r = add(runtime_data, "nonce", json_object_new_string(nonce));
        if (r >= 0)
                r = add(runtime_data, "tee-pubkey", json_object_get(tee_pubkey_jwk));
        if (r < 0)
                return r;

        r = jcs_serialize(runtime_data, &canonical, &len);
        if (r < 0)
                return log_debug_errno(r, "Cannot canonicalize the KBS runtime data: %m");
        log_debug("KBS runtime data: %s", canonical);

        if (EVP_Digest(canonical, len, digest, &digest_size, EVP_sha384(), NULL) != 1 ||
            digest_size != KBS_REPORT_DATA_DIGEST_SIZE)
                return -EIO;

        memcpy(ret, digest, KBS_REPORT_DATA_DIGEST_SIZE);
        memset(ret + KBS_REPORT_DATA_DIGEST_SIZE, 0,
               KBS_REPORT_DATA_SIZE - KBS_REPORT_DATA_DIGEST_SIZE);
        return 0;
}
