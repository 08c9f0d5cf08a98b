// SPDX-License-Identifier: LGPL-2.1-or-later
/* sysfs_parse_hex() on hostile attribute values, checked against a second, naive reading of
 * the format: both must agree on every input, and on the value.
 *
 * The first byte selects the call: its low four bits are the digit count (0-15, so the
 * invalid counts 0 and 9-15 are covered too), bit 4 set means "0x" prefix. The rest is the
 * attribute's content. The ASCII digits '1'-'8' thus mean "prefix, that many digits" and
 * 'A'-'H' (0x41-0x48) "no prefix, 1-8 digits", which keeps the seeds readable:
 * "40x1af4\n" is a PCI vendor, "D1af4\n" a USB idVendor. */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "macro.h"
#include "sysfs-id.h"

static bool is_hex_digit(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Whether the kernel could have printed this: ["0x"|"0X"] exactly `digits` hex digits, then
 * at most one newline. */
static bool well_formed(const char *s, size_t len, bool prefix, unsigned digits) {
        if (len > 0 && s[len - 1] == '\n')
                len--;
        if (prefix) {
                if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
                        return false;
                s += 2;
                len -= 2;
        }
        if (len != digits)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!is_hex_digit(s[i]))
                        return false;
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint32_t untouched = 0xdeadbeef;
        uint32_t value = untouched;
        unsigned digits;
        bool prefix;
        int r;

        if (size < 1)
                return 0;
        digits = data[0] & 0x0f;
        prefix = data[0] & 0x10;
        const char *buf = (const char *) data + 1;
        size_t len = size - 1;

        r = sysfs_parse_hex(buf, len, prefix, digits, &value);

        if (digits == 0 || digits > 8) {
                fuzz_check(r == -EINVAL && value == untouched);
                return 0;
        }
        if (!well_formed(buf, len, prefix, digits)) {
                fuzz_check(r == -EBADMSG && value == untouched);
                return 0;
        }
        fuzz_check(r == 0);

        /* The value fits the digit count and prints back as the digits that were read. */
        fuzz_check(digits == 8 || value < UINT32_C(1) << (4 * digits));
        char expected[9], printed[9];
        memcpy(expected, buf + (prefix ? 2 : 0), digits);
        expected[digits] = '\0';
        for (unsigned i = 0; i < digits; i++)
                if (expected[i] >= 'A' && expected[i] <= 'F')
                        expected[i] = (char) (expected[i] - 'A' + 'a');
        snprintf(printed, sizeof printed, "%0*" PRIx32, (int) digits, value);
        fuzz_check(streq(expected, printed));
        return 0;
}
