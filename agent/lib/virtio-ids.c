// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "virtio-ids.h"

typedef struct VirtioType {
        uint32_t type;
        const char *name;
        uint16_t transitional_pci_id;
} VirtioType;

static const VirtioType virtio_types[] = {
        { 1, "net", 0x1000 }, { 2, "block", 0x1001 },   { 3, "console", 0x1003 },
        { 4, "rng", 0x1005 }, { 5, "balloon", 0x1002 }, { 6, "iomem", 0 },
        { 7, "rpmsg", 0 },    { 8, "scsi", 0x1004 },    { 9, "9p", 0x1009 },
        { 16, "gpu", 0 },     { 17, "clock", 0 },       { 18, "input", 0 },
        { 19, "vsock", 0 },   { 20, "crypto", 0 },      { 23, "iommu", 0 },
        { 24, "mem", 0 },     { 25, "sound", 0 },       { 26, "fs", 0 },
        { 27, "pmem", 0 },    { 34, "i2c", 0 },         { 41, "gpio", 0 },
};

static const VirtioType *find_type(uint32_t type) {
        for (size_t i = 0; i < ELEMENTSOF(virtio_types); i++)
                if (virtio_types[i].type == type)
                        return &virtio_types[i];
        return NULL;
}

const char *virtio_type_to_name(uint32_t type) {
        const VirtioType *t = find_type(type);
        return t ? t->name : NULL;
}

int virtio_type_from_name(const char *name, uint32_t *ret) {
        for (size_t i = 0; i < ELEMENTSOF(virtio_types); i++)
                if (streq(virtio_types[i].name, name)) {
                        *ret = virtio_types[i].type;
                        return 0;
                }
        return -ENOENT;
}

uint16_t virtio_transitional_pci_id(uint32_t type) {
        const VirtioType *t = find_type(type);
        return t ? t->transitional_pci_id : 0;
}

bool virtio_type_of_pci(uint16_t vendor, uint16_t device, uint16_t subsystem_device,
                        uint32_t *ret_type) {
        if (vendor != VIRTIO_PCI_VENDOR || device < VIRTIO_PCI_DEVICE_MIN ||
            device > VIRTIO_PCI_DEVICE_MAX)
                return false;
        *ret_type = device < VIRTIO_PCI_MODERN_BASE ? subsystem_device
                                                    : device - VIRTIO_PCI_MODERN_BASE;
        return true;
}

const char *virtio_known_names(void) {
        static char names[256];
        if (names[0] == '\0')
                for (size_t i = 0; i < ELEMENTSOF(virtio_types); i++) {
                        if (i > 0)
                                strcat(names, ", ");
                        strcat(names, virtio_types[i].name);
                }
        return names;
}
