// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>

#include "match.h"
#include "virtio-ids.h"

static bool id_list_contains(const IdList *l, uint32_t id) {
        if (l->n == 0)
                return true;
        for (size_t i = 0; i < l->n; i++)
                if (l->ids[i] == id)
                        return true;
        return false;
}

static bool class_list_matches(const ClassList *l, uint32_t class) {
        if (l->n == 0)
                return true;
        for (size_t i = 0; i < l->n; i++)
                if ((class & l->patterns[i].mask) == l->patterns[i].value)
                        return true;
        return false;
}

bool pci_is_virtio_type(const PciIdentity *id, const IdList *types) {
        if (id->vendor != VIRTIO_PCI_VENDOR)
                return false;
        for (size_t i = 0; i < types->n; i++) {
                uint32_t type = types->ids[i];
                uint16_t transitional = virtio_transitional_pci_id(type);

                if (id->device == VIRTIO_PCI_MODERN_BASE + type)
                        return true;
                /* virtio_pci drives a transitional function as its subsystem device: a
                 * "net" ID with a subsystem device of 4 would come up as rng. */
                if (transitional != 0 && id->device == transitional && id->subsystem_device == type)
                        return true;
        }
        return false;
}

/* Every interface of every configuration must be of a listed class: a keyboard that also
 * offers a mass-storage interface is not a keyboard. */
static bool usb_interfaces_match(const UsbIdentity *id, const IdList *classes) {
        if (classes->n == 0)
                return true;
        if (id->n_interfaces == 0)
                return false;
        for (unsigned c = 0; c < 256; c++) {
                if (!(id->interface_class[c / 64] & UINT64_C(1) << (c % 64)))
                        continue;
                if (!id_list_contains(classes, c))
                        return false;
        }
        return true;
}

#define EXPLAIN(...)                                                                               \
        do {                                                                                       \
                if (why)                                                                           \
                        snprintf(why, why_size, __VA_ARGS__);                                      \
                return false;                                                                      \
        } while (0)

static bool pci_matches(const Match *m, const PciIdentity *id, char *why, size_t why_size) {
        if (!id_list_contains(&m->vendor, id->vendor))
                EXPLAIN("vendor %04x is not listed", id->vendor);
        if (!id_list_contains(&m->device, id->device))
                EXPLAIN("device %04x is not listed", id->device);
        if (!id_list_contains(&m->subsystem_vendor, id->subsystem_vendor))
                EXPLAIN("subsystem vendor %04x is not listed", id->subsystem_vendor);
        if (!id_list_contains(&m->subsystem_device, id->subsystem_device))
                EXPLAIN("subsystem device %04x is not listed", id->subsystem_device);
        if (!class_list_matches(&m->class, id->class))
                EXPLAIN("class %06x is not listed", id->class);
        if (!id_list_contains(&m->revision, id->revision))
                EXPLAIN("revision %02x is not listed", id->revision);
        if (m->virtio.n > 0 && !pci_is_virtio_type(id, &m->virtio)) {
                uint32_t type;
                const char *name = NULL;
                if (virtio_type_of_pci(id->vendor, id->device, id->subsystem_device, &type))
                        name = virtio_type_to_name(type);
                if (name)
                        EXPLAIN("virtio %s (%04x:%04x subsystem device %04x) is not listed", name,
                                id->vendor, id->device, id->subsystem_device);
                EXPLAIN("%04x:%04x subsystem device %04x is not a listed virtio type", id->vendor,
                        id->device, id->subsystem_device);
        }
        return true;
}

static bool virtio_matches(const Match *m, const VirtioIdentity *id, char *why, size_t why_size) {
        if (!id_list_contains(&m->virtio, id->type)) {
                const char *name = virtio_type_to_name(id->type);
                if (name)
                        EXPLAIN("virtio type %s is not listed", name);
                EXPLAIN("virtio type %u is not listed", id->type);
        }
        if (!id_list_contains(&m->vendor, id->vendor))
                EXPLAIN("vendor %04x is not listed", id->vendor);
        return true;
}

static bool usb_matches(const Match *m, const UsbIdentity *id, char *why, size_t why_size) {
        if (!id_list_contains(&m->vendor, id->vendor))
                EXPLAIN("vendor %04x is not listed", id->vendor);
        if (!id_list_contains(&m->product, id->product))
                EXPLAIN("product %04x is not listed", id->product);
        if (!usb_interfaces_match(id, &m->interface_class))
                EXPLAIN("not every interface class is listed");
        return true;
}

bool rule_matches(const Rule *rule, const Device *device, const char *kernel_release, char *why,
                  size_t why_size) {
        const Match *m = &rule->match;

        if (m->bus != device->id.bus)
                EXPLAIN("rule is for the %s bus", bus_to_string(m->bus));
        if (device->identity_error < 0)
                EXPLAIN("identity could not be read");
        if (!kernel_range_contains(&rule->kernel, kernel_release))
                EXPLAIN("rule is for kernels %s to %s", rule->kernel.min ?: "any",
                        rule->kernel.max ?: "any");

        switch (m->bus) {
        case BUS_PCI:
                return pci_matches(m, &device->id.pci, why, why_size);
        case BUS_VIRTIO:
                return virtio_matches(m, &device->id.virtio, why, why_size);
        case BUS_USB:
                return usb_matches(m, &device->id.usb, why, why_size);
        default:
                return false;
        }
}
