/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reportdata.h"
#include "tpm-quote.h"
#include "tsm-report.h"

/* The TEEs devgate can produce evidence for, by their kbs-types names. */
typedef enum Tee {
        TEE_TPM,
        TEE_TDX,
        TEE_SNP,
        /* No hardware and no signature: the evidence is whatever the guest says. For tests
         * only, and only when asked for explicitly; never chosen by tee_detect(). */
        TEE_SAMPLE,
        _TEE_MAX,
} Tee;

const char *tee_to_string(Tee tee);
/* -EINVAL for a name that is not one of the above. */
int tee_from_string(const char *s, Tee *ret);

#define TPM_TCTI_DEFAULT "device:/dev/tpmrm0"

/* Where the evidence comes from. The TPM's attestation key is created on first use and kept
 * for a second handshake: creating it is the slowest step of an attestation. */
typedef struct EvidenceSource {
        Tee tee;
        const char *tcti;     /* TEE_TPM; NULL: TPM_TCTI_DEFAULT */
        const char *tsm_root; /* TEE_TDX, TEE_SNP; NULL: TSM_REPORT_ROOT */
        TpmAk *ak;
} EvidenceSource;

void evidence_source_done(EvidenceSource *s);

/* "auto": a TDX or SEV-SNP guest when configfs-tsm offers reports, else a TPM when
 * /dev/tpmrm0 exists; -ENODEV with a reason otherwise. */
int tee_detect(const char *tsm_root, Tee *ret, char *reason, size_t reason_size);

/* The TEE's evidence binding report_data, as the primary_evidence of an attest request.
 * Logs nothing; the reason says what failed. */
int evidence_collect(EvidenceSource *s, const uint8_t report_data[static KBS_REPORT_DATA_SIZE],
                     json_object **ret, char *reason, size_t reason_size);
