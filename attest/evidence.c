// SPDX-License-Identifier: LGPL-2.1-or-later
/* One entry point for every TEE's evidence, so that the KBS client does not care which
 * hardware it runs on. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "evidence.h"
#include "fileio.h"
#include "json-strict.h"
#include "log.h"
#include "macro.h"
#include "tsm-evidence.h"
#include "tsm-report.h"

static const char *const tee_names[_TEE_MAX] = {
        [TEE_TPM] = "tpm",
        [TEE_TDX] = "tdx",
        [TEE_SNP] = "snp",
        [TEE_SAMPLE] = "sample",
};

const char *tee_to_string(Tee tee) {
        return tee >= 0 && tee < _TEE_MAX ? tee_names[tee] : NULL;
}

int tee_from_string(const char *s, Tee *ret) {
        for (Tee t = 0; t < _TEE_MAX; t++)
                if (s && streq(s, tee_names[t])) {
                        *ret = t;
                        return 0;
                }
        return -EINVAL;
}

void evidence_source_done(EvidenceSource *s) {
        s->ak = tpm_ak_free(s->ak);
}

int tee_detect(const char *tsm_root, Tee *ret, char *reason, size_t reason_size) {
        TsmProvider provider;
        char why[256];

        /* The confidential VM's own report first: it covers the whole guest, where a vTPM
         * is one more device the host may provide. */
        if (tsm_detect(tsm_root ?: TSM_REPORT_ROOT, &provider, why, sizeof why) >= 0) {
                *ret = provider == TSM_PROVIDER_TDX ? TEE_TDX : TEE_SNP;
                return 0;
        }
        log_debug("No configfs-tsm report provider: %s", why);
        if (access("/dev/tpmrm0", F_OK) >= 0) {
                *ret = TEE_TPM;
                return 0;
        }
        snprintf(reason, reason_size,
                 "no TEE found: no configfs-tsm report interface and no TPM (/dev/tpmrm0)");
        return -ENODEV;
}

static int parse_evidence(const char *text, json_object **ret, char *reason, size_t reason_size) {
        char why[128];
        int r = json_parse_strict(text, strlen(text), 8, ret, why, sizeof why);
        if (r < 0)
                snprintf(reason, reason_size, "evidence is not valid JSON: %s", why);
        return r;
}

static int tpm_evidence(EvidenceSource *s, const uint8_t report_data[KBS_REPORT_DATA_SIZE],
                        json_object **ret, char *reason, size_t reason_size) {
        _cleanup_free_ char *text = NULL;
        const char *tcti = s->tcti ?: TPM_TCTI_DEFAULT;
        int r;

        if (!s->ak) {
                r = tpm_ak_open(tcti, &s->ak);
                if (r < 0) {
                        snprintf(reason, reason_size,
                                 "cannot create the attestation key in the TPM (%s): %s", tcti,
                                 strerror(-r));
                        return r;
                }
        }
        r = tpm_quote(s->ak, report_data, &text);
        if (r < 0) {
                snprintf(reason, reason_size, "TPM quote failed (%s): %s", tcti, strerror(-r));
                return r;
        }
        return parse_evidence(text, ret, reason, reason_size);
}

/* TDX's firmware event log, which Trustee replays against the RTMRs: sent when the firmware
 * publishes one, else the verifier checks the quote alone. */
static void ccel_read(uint8_t **ret, size_t *ret_size) {
        char *data = NULL;
        size_t size = 0;
        int r = read_full_file(TDX_CCEL_PATH, TDX_CCEL_MAX_SIZE, &data, &size);
        if (r < 0)
                log_debug_errno(r, "No TDX event log (%s): %m", TDX_CCEL_PATH);
        *ret = (uint8_t *) data;
        *ret_size = r < 0 ? 0 : size;
}

static int tsm_evidence(EvidenceSource *s, const uint8_t report_data[KBS_REPORT_DATA_SIZE],
                        json_object **ret, char *reason, size_t reason_size) {
        _cleanup_(tsm_report_done) TsmReport report = {};
        _cleanup_free_ uint8_t *ccel = NULL;
        _cleanup_free_ char *text = NULL;
        TsmProvider want = s->tee == TEE_TDX ? TSM_PROVIDER_TDX : TSM_PROVIDER_SNP;
        size_t ccel_size = 0;
        int r;

        r = tsm_report_get(s->tsm_root ?: TSM_REPORT_ROOT, want, report_data, &report, reason,
                           reason_size);
        if (r < 0)
                return r;
        if (s->tee == TEE_TDX)
                ccel_read(&ccel, &ccel_size);
        r = tsm_evidence_json(&report, report_data, ccel, ccel_size, &text, reason, reason_size);
        if (r < 0)
                return r;
        return parse_evidence(text, ret, reason, reason_size);
}

/* Trustee's sample verifier compares the bare SHA-384 digest, not the padded report data
 * (see reportdata.h). */
static int sample_evidence(const uint8_t report_data[KBS_REPORT_DATA_SIZE], json_object **ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *b64 = NULL;
        int r;

        r = base64_encode(report_data, KBS_REPORT_DATA_DIGEST_SIZE, &b64);
        if (r < 0)
                return r;
        o = json_object_new_object();
        if (!o || json_object_object_add(o, "svn", json_object_new_string("1")) < 0 ||
            json_object_object_add(o, "report_data", json_object_new_string(b64)) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(o);
        return 0;
}

int evidence_collect(EvidenceSource *s, const uint8_t report_data[static KBS_REPORT_DATA_SIZE],
                     json_object **ret, char *reason, size_t reason_size) {
        switch (s->tee) {
        case TEE_TPM:
                return tpm_evidence(s, report_data, ret, reason, reason_size);
        case TEE_TDX:
        case TEE_SNP:
                return tsm_evidence(s, report_data, ret, reason, reason_size);
        case TEE_SAMPLE:
                return sample_evidence(report_data, ret);
        default:
                return -EINVAL;
        }
}
