// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdbool.h>

#include "hex.h"
#include "sysfs-id.h"

int sysfs_parse_hex(const char *buf, size_t len, bool prefix, unsigned digits, uint32_t *ret) {
        uint32_t value = 0;
        size_t i = 0;

        if (digits == 0 || digits > 8)
                return -EINVAL;
        if (len > 0 && buf[len - 1] == '\n')
                len--;
        if (prefix) {
                if (len < 2 || buf[0] != '0' || (buf[1] != 'x' && buf[1] != 'X'))
                        return -EBADMSG;
                i = 2;
        }
        if (len - i != digits)
                return -EBADMSG;

        for (; i < len; i++) {
                int v = hex_digit_value(buf[i]);
                if (v < 0)
                        return -EBADMSG;
                value = value << 4 | (uint32_t) v;
        }
        *ret = value;
        return 0;
}

enum {
        USB_DT_DEVICE = 1,
        USB_DT_CONFIG = 2,
        USB_DT_INTERFACE = 4,
        USB_DT_DEVICE_SIZE = 18,
        USB_DT_CONFIG_SIZE = 9,
        USB_DT_INTERFACE_SIZE = 9,
};

int usb_parse_interface_classes(const uint8_t *buf, size_t len, uint64_t ret_classes[4],
                                uint8_t *ret_device_class) {
        uint64_t classes[4] = {};
        int interfaces = 0;
        size_t pos;

        if (len < USB_DT_DEVICE_SIZE || buf[0] != USB_DT_DEVICE_SIZE || buf[1] != USB_DT_DEVICE)
                return -EBADMSG;

        /* Each configuration starts with a configuration descriptor whose wTotalLength
         * covers its interfaces; a descriptor may not run past its configuration. */
        for (pos = USB_DT_DEVICE_SIZE; pos < len;) {
                size_t config_len, end;

                if (len - pos < USB_DT_CONFIG_SIZE || buf[pos] < USB_DT_CONFIG_SIZE ||
                    buf[pos + 1] != USB_DT_CONFIG)
                        return -EBADMSG;
                config_len = (size_t) buf[pos + 2] | (size_t) buf[pos + 3] << 8;
                if (config_len < buf[pos] || config_len > len - pos)
                        return -EBADMSG;
                end = pos + config_len;

                for (pos += buf[pos]; pos < end;) {
                        uint8_t dlen = buf[pos];
                        if (dlen < 2 || dlen > end - pos)
                                return -EBADMSG;
                        if (buf[pos + 1] == USB_DT_INTERFACE) {
                                if (dlen < USB_DT_INTERFACE_SIZE)
                                        return -EBADMSG;
                                uint8_t cls = buf[pos + 5];
                                classes[cls / 64] |= UINT64_C(1) << (cls % 64);
                                interfaces++;
                        }
                        pos += dlen;
                }
        }

        for (unsigned i = 0; i < 4; i++)
                ret_classes[i] = classes[i];
        *ret_device_class = buf[4];
        return interfaces;
}
