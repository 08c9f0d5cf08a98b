/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "kbs-policy.h"
#include "kbs-session.h"
#include "reportdata.h"
#include "tpm-verify.h"

/* What evidence devgate-kbs accepts, per TEE, and what it has to match. */
typedef struct KbsVerifier {
        const TpmAkSet *trusted_aks;   /* NULL: every "tpm" evidence is refused */
        const KbsReference *reference; /* NULL: no set, every "tpm" evidence is refused */
        bool insecure_sample;          /* accept "sample" evidence, which proves nothing */
} KbsVerifier;

/* Checks primary_evidence of a session of this tee against the report data the server
 * computed for the session. Fills ret->ak_id and ret->reference (not the key). Returns
 * -EBADMSG malformed, -ENOKEY unregistered AK, -EKEYREJECTED bad signature, -EBADE a
 * mismatch (report data, PCR digest, reference values), -EPERM a TEE this server refuses,
 * -ENOMEM; always with a one-line reason for the client and the log. */
int kbs_evidence_verify(const KbsVerifier *v, KbsTee tee, json_object *primary_evidence,
                        const uint8_t report_data[static KBS_REPORT_DATA_SIZE], KbsAttested *ret,
                        char *reason, size_t reason_size);
