// SPDX-License-Identifier: LGPL-2.1-or-later
/* usb_parse_interface_classes() on hostile "descriptors" attributes: the device decides
 * every byte of them. */
#include <string.h>

#include "fuzz.h"
#include "macro.h"
#include "sysfs-id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* Recognizable values, to see what a failed parse wrote. */
        uint64_t classes[4] = { 1, 2, 3, 4 };
        uint8_t device_class = 0xa5;
        int r;

        r = usb_parse_interface_classes(data, size, classes, &device_class);
        if (r < 0) {
                fuzz_check(r == -EBADMSG);
                fuzz_check(classes[0] == 1 && classes[1] == 2 && classes[2] == 3 &&
                           classes[3] == 4 && device_class == 0xa5);
                return 0;
        }

        /* A device descriptor (18 bytes), then each interface takes at least 9 bytes. Also
         * what lets the caller read idVendor and idProduct at bytes 8-11 afterwards. */
        fuzz_check(size >= 18);
        fuzz_check((size_t) r <= (size - 18) / 9);
        fuzz_check(device_class == data[4]);

        /* Every interface sets one class bit, so at least one bit and at most r. */
        unsigned bits = 0;
        for (unsigned i = 0; i < 4; i++)
                bits += (unsigned) __builtin_popcountll(classes[i]);
        fuzz_check(r == 0 ? bits == 0 : bits >= 1 && bits <= (unsigned) r);
        return 0;
}
