/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Strict parsers for the ID attributes the kernel prints. The host controls every one of
 * these values, so anything but the exact format the kernel uses is rejected. */

/* "0x" followed by exactly `digits` lower- or upper-case hex digits and one optional
 * trailing newline, e.g. PCI "vendor" ("0x1af4\n", digits=4) or "class" ("0x020000\n",
 * digits=6). Pass prefix=false for USB attributes printed without "0x" ("1af4\n"). */
int sysfs_parse_hex(const char *buf, size_t len, bool prefix, unsigned digits, uint32_t *ret);

/* A USB "descriptors" attribute: the device descriptor followed by every configuration's
 * raw descriptors. Collects the class of every interface in every configuration into a
 * 256-bit set. Returns the number of interface descriptors seen, or -EBADMSG. */
int usb_parse_interface_classes(const uint8_t *buf, size_t len, uint64_t ret_classes[4],
                                uint8_t *ret_device_class);
