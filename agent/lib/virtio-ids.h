/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define VIRTIO_PCI_VENDOR      0x1af4u
#define VIRTIO_PCI_MODERN_BASE 0x1040u
#define VIRTIO_PCI_DEVICE_MIN  0x1000u
#define VIRTIO_PCI_DEVICE_MAX  0x107fu

/* The virtio device types an operator may name in a policy (include/uapi/linux/virtio_ids.h). */
const char *virtio_type_to_name(uint32_t type);
int virtio_type_from_name(const char *name, uint32_t *ret);

/* The PCI device ID of the transitional (legacy-capable) function of a virtio type, or 0 if
 * the type has none. The table is not arithmetic: console is 0x1003 but rng is 0x1005. */
uint16_t virtio_transitional_pci_id(uint32_t type);

/* Derives the virtio type a virtio-pci function will be driven as, the way virtio_pci does:
 * a transitional function (0x1000-0x103f) is driven as its subsystem device, a modern one
 * as device - 0x1040. Returns false for a function virtio_pci would not drive. */
bool virtio_type_of_pci(uint16_t vendor, uint16_t device, uint16_t subsystem_device,
                        uint32_t *ret_type);

/* Lists every known name, separated by ", ", for error messages. */
const char *virtio_known_names(void);
