// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "kbs-evidence.h"
#include "macro.h"

/* Trustee's sample verifier: {"svn": "...", "report_data": base64}, where report_data is the
 * bare SHA-384 (reportdata.h). Nothing signs it: it shows the protocol works, nothing more. */
static int verify_sample(json_object *evidence, const uint8_t report_data[KBS_REPORT_DATA_SIZE],
                         char *reason, size_t reason_size) {
        _cleanup_free_ uint8_t *decoded = NULL;
        json_object *svn, *rd;
        size_t size;

        if (!json_object_is_type(evidence, json_type_object) ||
            json_object_object_length(evidence) != 2 ||
            !json_object_object_get_ex(evidence, "svn", &svn) ||
            !json_object_object_get_ex(evidence, "report_data", &rd) ||
            !json_object_is_type(svn, json_type_string) ||
            !json_object_is_type(rd, json_type_string)) {
                snprintf(reason, reason_size,
                         "sample evidence must be {\"svn\": string, \"report_data\": string}");
                return -EBADMSG;
        }
        if (base64_decode(json_object_get_string(rd), (size_t) json_object_get_string_len(rd),
                          &decoded, &size) < 0 ||
            size != KBS_REPORT_DATA_DIGEST_SIZE) {
                snprintf(reason, reason_size,
                         "sample report_data must be the base64 of %u bytes (the SHA-384 of the "
                         "runtime data)",
                         KBS_REPORT_DATA_DIGEST_SIZE);
                return -EBADMSG;
        }
        if (memcmp(decoded, report_data, KBS_REPORT_DATA_DIGEST_SIZE) != 0) {
                snprintf(reason, reason_size,
                         "sample report_data does not bind this session's nonce and tee-pubkey");
                return -EBADE;
        }
        return 0;
}

static int verify_tpm(const KbsVerifier *v, json_object *evidence,
                      const uint8_t report_data[KBS_REPORT_DATA_SIZE], KbsAttested *ret,
                      char *reason, size_t reason_size) {
        TpmVerified verified;
        int r;

        if (!v->trusted_aks) {
                snprintf(reason, reason_size,
                         "this server has no trusted AKs configured (--trusted-aks)");
                return -ENOKEY;
        }
        r = tpm_evidence_verify(evidence, report_data, v->trusted_aks, &verified, reason,
                                reason_size);
        if (r < 0)
                return r;
        r = kbs_reference_match(v->reference, (const uint8_t(*)[KBS_PCR_SIZE]) verified.pcrs,
                                &ret->reference, reason, reason_size);
        if (r < 0)
                return r;
        memcpy(ret->ak_id, verified.ak_id, sizeof ret->ak_id);
        return 0;
}

int kbs_evidence_verify(const KbsVerifier *v, KbsTee tee, json_object *primary_evidence,
                        const uint8_t report_data[static KBS_REPORT_DATA_SIZE], KbsAttested *ret,
                        char *reason, size_t reason_size) {
        switch (tee) {
        case KBS_TEE_TPM:
                return verify_tpm(v, primary_evidence, report_data, ret, reason, reason_size);
        case KBS_TEE_SAMPLE:
                /* Sessions for "sample" are refused at auth already without the flag; checked
                 * again here so that no path to an attested sample session forgets it. */
                if (!v->insecure_sample) {
                        snprintf(reason, reason_size,
                                 "sample evidence is refused (server not started with "
                                 "--insecure-sample)");
                        return -EPERM;
                }
                ret->ak_id[0] = '\0';
                ret->reference = (KbsReferenceMatch){};
                return verify_sample(primary_evidence, report_data, reason, reason_size);
        default:
                snprintf(reason, reason_size, "unsupported TEE");
                return -EPERM;
        }
}
