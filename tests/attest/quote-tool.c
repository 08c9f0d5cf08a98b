// SPDX-License-Identifier: LGPL-2.1-or-later
/* Test-only front end of tpm-quote.c for test-checkquote.sh, until "devgate attest" exists:
 *
 *   quote-tool TCTI print-ak            the AK's public key, PEM
 *   quote-tool TCTI quote HEX           the evidence JSON for 64 bytes of report data (128 hex
 *                                       digits)
 *
 * Exits 0 on success, 1 on failure (with a message), 2 on bad usage. */
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "log.h"
#include "tpm-quote.h"

static int usage(void) {
        fprintf(stderr, "usage: quote-tool TCTI print-ak\n"
                        "       quote-tool TCTI quote REPORT_DATA_HEX\n");
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
        _cleanup_tpm_ak_ TpmAk *ak = NULL;
        _cleanup_free_ char *out = NULL;
        uint8_t report_data[TPM_REPORT_DATA_SIZE];
        bool print_ak;
        int r;

        log_setup(LOG_TARGET_STDERR, LOG_INFO);

        if (argc == 3 && streq(argv[2], "print-ak"))
                print_ak = true;
        else if (argc == 4 && streq(argv[2], "quote")) {
                print_ak = false;
                if (parse_report_data(argv[3], report_data) < 0) {
                        fprintf(stderr, "quote-tool: report data must be %d hex digits\n",
                                2 * TPM_REPORT_DATA_SIZE);
                        return 2;
                }
        } else
                return usage();

        r = tpm_ak_open(argv[1], &ak);
        if (r < 0) {
                log_error_errno(r, "Failed to create the attestation key in '%s': %m", argv[1]);
                return 1;
        }
        r = print_ak ? tpm_ak_public_pem(ak, &out) : tpm_quote(ak, report_data, &out);
        if (r < 0) {
                log_error_errno(r, "Failed to %s: %m",
                                print_ak ? "export the attestation key" : "quote the PCRs");
                return 1;
        }
        /* The PEM ends in a newline; the JSON does not. */
        if (fputs(out, stdout) < 0 || (!print_ak && putchar('\n') < 0) || fflush(stdout) != 0) {
                log_error_errno(errno, "Failed to write to stdout: %m");
                return 1;
        }
        return 0;
}
