// SPDX-License-Identifier: LGPL-2.1-or-later
/* Trustee "tpm" evidence as devgate-kbs receives it from a guest: parsed strictly, then
 * verified against one registered AK and fixed report data. The AK below is the one of the
 * swtpm that made the seeds in corpus/tpm-evidence/ (make-tpm-evidence-corpus.sh writes both),
 * so the valid seeds verify and the fuzzer reaches every check past the signature. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "json-strict.h"
#include "log.h"
#include "tpm-verify.h"

static const char registered_ak[] =
        "-----BEGIN PUBLIC KEY-----\n"
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxihZXNb7xa9su3FX6M83\n"
        "8KGBEtSMQ0MB9ju7w4DJ43LBpZ6cnitAyCT8YPeuw6yM2gYp8CuwKb1YkPjEfz+p\n"
        "Stdp5pMAdWNIficsLxPnhTj/Vw0oDouIk+VCKDB7WVIYF+DB65gQJWRexTD0erHu\n"
        "WJGP/cnHy4+wZpKbmwgF5Cp3IFl2Nb2xP4ENHxVDRz/1cZykgkKoqtt8mVFAh6yV\n"
        "CQ7urJBVUHnd3h4gfMlt8LkBZyQdpZSLjiEzMm4wAQT5FzlIxZYsg1JFxbdP+OVE\n"
        "Q+e2omQ+mN8Lh03a6FPTYvTRqPMihbqC2OWcCdyShM5WQUihnQDsAajvxU3K1FMK\n"
        "ewIDAQAB\n"
        "-----END PUBLIC KEY-----\n";

/* The evidence is 3 levels deep (object, tpm_quote, pcrs); a little more lets the fuzzer try
 * wrong types with nesting. */
#define EVIDENCE_DEPTH_MAX 8

/* The set, loaded once through the public API from a temporary directory. */
static const TpmAkSet *trusted(void) {
        static TpmAkSet *set;
        char dir[] = "/tmp/fuzz-tpm-evidence-XXXXXX", path[sizeof dir + 8], reason[256];
        FILE *f;

        if (set)
                return set;
        log_setup(LOG_TARGET_STDERR, LOG_EMERG);
        fuzz_check(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/ak.pub", dir);
        f = fopen(path, "we");
        fuzz_check(f);
        fuzz_check(fputs(registered_ak, f) >= 0);
        fuzz_check(fclose(f) == 0);
        fuzz_check(tpm_ak_set_load(dir, &set, reason, sizeof reason) == 0);
        fuzz_check(tpm_ak_set_size(set) == 1);
        fuzz_check(unlink(path) == 0 && rmdir(dir) == 0);
        return set;
}

/* What the seeds were quoted with: bytes 0..47 (a SHA-384 digest's size), zero-padded. */
static void report_data(uint8_t ret[TPM_REPORT_DATA_SIZE]) {
        memset(ret, 0, TPM_REPORT_DATA_SIZE);
        for (size_t i = 0; i < 48; i++)
                ret[i] = (uint8_t) i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const TpmAkSet *set = trusted();
        json_object *evidence = NULL;
        uint8_t expected[TPM_REPORT_DATA_SIZE];
        TpmVerified verified, untouched;
        char reason[256] = "";
        int r;

        if (json_parse_strict((const char *) data, size, EVIDENCE_DEPTH_MAX, &evidence, reason,
                              sizeof reason) < 0)
                return 0;

        report_data(expected);
        memset(&verified, 0x5a, sizeof verified);
        untouched = verified;
        r = tpm_evidence_verify(evidence, expected, set, &verified, reason, sizeof reason);
        if (r < 0) {
                fuzz_check(r == -EBADMSG || r == -ENOKEY || r == -EKEYREJECTED || r == -EBADE ||
                           r == -ENOMEM);
                fuzz_check(reason[0] != '\0' && !strchr(reason, '\n'));
                fuzz_check(memcmp(&verified, &untouched, sizeof verified) == 0);
        } else {
                fuzz_check(r == 0);
                fuzz_check(strlen(verified.ak_id) == 2 * TPM_VERIFY_SHA256_SIZE);
                /* Accepted evidence is bound to the report data: any other is refused. */
                expected[TPM_REPORT_DATA_SIZE - 1] ^= 1;
                fuzz_check(tpm_evidence_verify(evidence, expected, set, &untouched, reason,
                                               sizeof reason) == -EBADE);
        }
        json_object_put(evidence);
        return 0;
}
