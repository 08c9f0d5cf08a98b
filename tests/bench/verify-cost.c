// SPDX-License-Identifier: LGPL-2.1-or-later
/* The CPU time of verifying a fetched policy, the last step of an attestation before it is
 * applied: signed_policy_parse() (envelope, signature, policy parse), as "apply --fetch"
 * runs it on the bytes it fetched. Prints the mean over many runs, in milliseconds of this
 * thread's CPU time, so that other load on the machine does not count.
 *
 *   verify-cost KEYS-DIR ENVELOPE [RUNS] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fileio.h"
#include "keys.h"
#include "log.h"
#include "signed-policy.h"

static double cpu_ms(void) {
        struct timespec t;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        return (double) t.tv_sec * 1e3 + (double) t.tv_nsec / 1e6;
}

int main(int argc, char *argv[]) {
        _cleanup_(trusted_keys_freep) TrustedKeys *keys = NULL;
        _cleanup_free_ char *data = NULL;
        int runs = argc > 3 ? atoi(argv[3]) : 200;
        double start;
        size_t size;

        if (argc < 3 || runs <= 0) {
                fprintf(stderr, "usage: verify-cost KEYS-DIR ENVELOPE [RUNS]\n");
                return 2;
        }
        log_setup(LOG_TARGET_STDERR, LOG_WARNING);
        if (trusted_keys_load(argv[1], &keys) < 0 ||
            read_full_file(argv[2], ENVELOPE_SIZE_MAX, &data, &size) < 0)
                return 1;

        start = cpu_ms();
        for (int i = 0; i < runs; i++) {
                _cleanup_(policy_freep) Policy *policy = NULL;
                if (signed_policy_parse(argv[2], data, size, keys, &policy, NULL) < 0)
                        return 1;
        }
        printf("%.3f\n", (cpu_ms() - start) / runs);
        return 0;
}
