/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "device.h"
#include "policy.h"

/* Whether a rule matches a device on the running kernel. When it does not and `why` is
 * given, `why` says which condition failed, for "devgate explain". A device whose identity
 * could not be read matches no rule. */
bool rule_matches(const Rule *rule, const Device *device, const char *kernel_release, char *why,
                  size_t why_size);

/* Whether a PCI function is a virtio device of one of the listed types, by the IDs the
 * name stands for: the modern ID (0x1040 + type) or the transitional ID whose subsystem
 * device is that type, both under vendor 0x1af4. */
bool pci_is_virtio_type(const PciIdentity *id, const IdList *types);
