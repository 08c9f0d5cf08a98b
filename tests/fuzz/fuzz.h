/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The entry point every fuzz-<input>.c defines. libFuzzer's main() calls it with generated
 * inputs; fuzz-replay.c's main() calls it with the files of the corpus. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of what the code under test returned. Not assert(): the check must stay in
 * builds with -Db_ndebug=true, and abort() is what libFuzzer records as a crash. */
#define fuzz_check(expr)                                                                           \
        do {                                                                                       \
                if (!(expr)) {                                                                     \
                        fprintf(stderr, "%s:%d: invariant does not hold: %s\n", __FILE__,          \
                                __LINE__, #expr);                                                  \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)
