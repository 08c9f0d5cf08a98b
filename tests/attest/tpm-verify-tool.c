// SPDX-License-Identifier: LGPL-2.1-or-later
/* Test-only front end of tpm-verify.c for test-tpm-verify-tools.sh, which feeds it evidence
 * made by tpm2-tools:
 *
 *   tpm-verify-tool EVIDENCE_JSON AK_DIR REPORT_DATA_HEX
 *
 * reads the "tpm" evidence object from EVIDENCE_JSON as devgate-kbs reads a request (strict
 * JSON), loads the AKs of AK_DIR and verifies the evidence against the 64 bytes of report data
 * (128 hex digits). Prints "accepted sha256:<AK id>" and the 24 PCR values, one "pcrN <hex>" a
 * line, and exits 0; or prints "refused <ERRNO NAME>: <reason>" and exits 1. Exits 2 on bad
 * usage or when the evidence file or the AK directory cannot be read. */
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "hex.h"
#include "json-strict.h"
#include "log.h"
#include "tpm-verify.h"

#define EVIDENCE_SIZE_MAX  (64 * 1024)
/* The evidence is 3 levels deep: object, tpm_quote, pcrs. */
#define EVIDENCE_DEPTH_MAX 4

static void json_unrefp(json_object **o) {
        json_object_put(*o);
}

static int usage(void) {
        fprintf(stderr, "usage: tpm-verify-tool EVIDENCE_JSON AK_DIR REPORT_DATA_HEX\n");
        return 2;
}

static int parse_report_data(const char *s, uint8_t ret[TPM_REPORT_DATA_SIZE]) {
        if (strlen(s) != 2 * TPM_REPORT_DATA_SIZE)
                return -EINVAL;
        for (size_t i = 0; i < TPM_REPORT_DATA_SIZE; i++) {
                int hi = hex_digit_value(s[2 * i]), lo = hex_digit_value(s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                ret[i] = (uint8_t) (hi << 4 | lo);
        }
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_tpm_ak_set_ TpmAkSet *set = NULL;
        _cleanup_(json_unrefp) json_object *evidence = NULL;
        _cleanup_free_ char *text = NULL;
        uint8_t report_data[TPM_REPORT_DATA_SIZE];
        TpmVerified verified;
        char reason[512];
        size_t size;
        int r;

        log_setup(LOG_TARGET_STDERR, LOG_INFO);

        if (argc != 4)
                return usage();
        if (parse_report_data(argv[3], report_data) < 0) {
                fprintf(stderr, "tpm-verify-tool: report data must be %d hex digits\n",
                        2 * TPM_REPORT_DATA_SIZE);
                return 2;
        }

        r = read_full_file(argv[1], EVIDENCE_SIZE_MAX, &text, &size);
        if (r < 0) {
                log_error_errno(r, "Failed to read '%s': %m", argv[1]);
                return 2;
        }
        r = tpm_ak_set_load(argv[2], &set, reason, sizeof reason);
        if (r < 0) {
                log_error_errno(r, "Failed to load the AKs: %s", reason);
                return 2;
        }

        /* A malformed document is a refusal like any other, as the server sees it. */
        r = json_parse_strict(text, size, EVIDENCE_DEPTH_MAX, &evidence, reason, sizeof reason);
        if (r >= 0)
                r = tpm_evidence_verify(evidence, report_data, set, &verified, reason,
                                        sizeof reason);
        if (r < 0) {
                printf("refused %s: %s\n", strerrorname_np(-r) ?: "?", reason);
                return 1;
        }

        printf("accepted sha256:%s\n", verified.ak_id);
        for (size_t i = 0; i < TPM_QUOTE_PCRS; i++) {
                printf("pcr%zu ", i);
                for (size_t j = 0; j < TPM_VERIFY_SHA256_SIZE; j++)
                        printf("%02x", verified.pcrs[i][j]);
                putchar('\n');
        }
        if (fflush(stdout) != 0) {
                log_error_errno(errno, "Failed to write to stdout: %m");
                return 2;
        }
        return 0;
}
