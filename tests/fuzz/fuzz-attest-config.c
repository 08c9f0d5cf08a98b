// SPDX-License-Identifier: LGPL-2.1-or-later
/* /etc/devgate/attest.conf. It ships in the measured initramfs, but a parser that reads a
 * file is fuzzed whoever writes the file. */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        AttestConfig c;
        char reason[256] = "";
        int r;

        attest_config_init(&c);
        r = attest_config_parse(&c, (const char *) data, size, reason, sizeof reason);
        if (r == 0) {
                /* What the parser promises to the HTTP layer. */
                fuzz_check(c.url && strncmp(c.url, "https://", 8) == 0);
                fuzz_check(c.resource && !strstr(c.resource, ".."));
                fuzz_check(c.http.ca_file == c.ca_file && c.ca_file);
                fuzz_check(!c.tee || strcmp(c.tee, "sample") != 0);
                fuzz_check(c.http.retries <= 100);
        } else
                fuzz_check(r == -ENOMEM || (r == -EINVAL && strncmp(reason, "line ", 5) == 0));
        attest_config_done(&c);
        return 0;
}
