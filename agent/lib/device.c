// SPDX-License-Identifier: LGPL-2.1-or-later
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "macro.h"
#include "sysfs-id.h"
#include "sysfs-io.h"
#include "virtio-ids.h"

static const char *const bus_names[_BUS_MAX] = {
        [BUS_PCI] = "pci",
        [BUS_VIRTIO] = "virtio",
        [BUS_USB] = "usb",
};

const char *bus_to_string(Bus bus) {
        return bus >= 0 && bus < _BUS_MAX ? bus_names[bus] : NULL;
}

Bus bus_from_string(const char *s) {
        for (Bus b = 0; b < _BUS_MAX; b++)
                if (streq(bus_names[b], s))
                        return b;
        return _BUS_INVALID;
}

/* Reads one hex attribute; the buffer fits the longest valid value plus a margin, so a
 * longer file is rejected as -EFBIG before it is parsed. */
static int read_hex_at(int dfd, const char *name, bool prefix, unsigned digits, uint32_t *ret,
                       const char **ret_attribute) {
        char buf[16];
        ssize_t n = sysfs_read_at(dfd, name, buf, sizeof buf);
        int r = n < 0 ? (int) n : sysfs_parse_hex(buf, (size_t) n, prefix, digits, ret);
        if (r < 0)
                *ret_attribute = name;
        return r;
}

static int pci_identity_read(int dfd, PciIdentity *ret, const char **attr) {
        uint32_t vendor, device, subsystem_vendor, subsystem_device, class, revision;
        int r;

        if ((r = read_hex_at(dfd, "vendor", true, 4, &vendor, attr)) < 0 ||
            (r = read_hex_at(dfd, "device", true, 4, &device, attr)) < 0 ||
            (r = read_hex_at(dfd, "subsystem_vendor", true, 4, &subsystem_vendor, attr)) < 0 ||
            (r = read_hex_at(dfd, "subsystem_device", true, 4, &subsystem_device, attr)) < 0 ||
            (r = read_hex_at(dfd, "class", true, 6, &class, attr)) < 0 ||
            (r = read_hex_at(dfd, "revision", true, 2, &revision, attr)) < 0)
                return r;

        *ret = (PciIdentity){
                .vendor = (uint16_t) vendor,
                .device = (uint16_t) device,
                .subsystem_vendor = (uint16_t) subsystem_vendor,
                .subsystem_device = (uint16_t) subsystem_device,
                .class = class,
                .revision = (uint8_t) revision,
        };
        return 0;
}

static int virtio_identity_read(int dfd, VirtioIdentity *ret, const char **attr) {
        uint32_t type, vendor;
        int r;

        /* The virtio core prints both as "0x%04x". */
        if ((r = read_hex_at(dfd, "device", true, 4, &type, attr)) < 0 ||
            (r = read_hex_at(dfd, "vendor", true, 4, &vendor, attr)) < 0)
                return r;
        *ret = (VirtioIdentity){ .type = type, .vendor = vendor };
        return 0;
}

static int usb_identity_read(int dfd, UsbIdentity *ret, const char **attr) {
        /* A device descriptor and a handful of configurations fit easily; the kernel caps
         * what it keeps per configuration at 64 KiB, a real device uses a few hundred. */
        uint8_t descriptors[16384];
        uint32_t vendor, product;
        UsbIdentity id = {};
        ssize_t n;
        int r;

        if ((r = read_hex_at(dfd, "idVendor", false, 4, &vendor, attr)) < 0 ||
            (r = read_hex_at(dfd, "idProduct", false, 4, &product, attr)) < 0)
                return r;

        *attr = "descriptors";
        n = sysfs_read_at(dfd, "descriptors", (char *) descriptors, sizeof descriptors);
        if (n < 0)
                return (int) n;
        r = usb_parse_interface_classes(descriptors, (size_t) n, id.interface_class,
                                        &id.device_class);
        if (r < 0)
                return r;

        id.vendor = (uint16_t) vendor;
        id.product = (uint16_t) product;
        id.n_interfaces = (unsigned) r;

        /* The descriptor's IDs must agree with the attributes the kernel derived from it. */
        if ((descriptors[8] | descriptors[9] << 8) != id.vendor ||
            (descriptors[10] | descriptors[11] << 8) != id.product)
                return -EBADMSG;

        *ret = id;
        return 0;
}

int device_identity_read(int dir_fd, Bus bus, DeviceIdentity *ret, const char **ret_attribute) {
        DeviceIdentity id = { .bus = bus };
        const char *attribute = NULL;
        int r;

        switch (bus) {
        case BUS_PCI:
                r = pci_identity_read(dir_fd, &id.pci, &attribute);
                break;
        case BUS_VIRTIO:
                r = virtio_identity_read(dir_fd, &id.virtio, &attribute);
                break;
        case BUS_USB:
                r = usb_identity_read(dir_fd, &id.usb, &attribute);
                break;
        default:
                return -EINVAL;
        }
        if (r < 0) {
                if (ret_attribute)
                        *ret_attribute = attribute;
                return r;
        }
        *ret = id;
        return 0;
}

bool device_identity_equal(const DeviceIdentity *a, const DeviceIdentity *b) {
        if (a->bus != b->bus)
                return false;
        switch (a->bus) {
        case BUS_PCI:
                return memcmp(&a->pci, &b->pci, sizeof a->pci) == 0;
        case BUS_VIRTIO:
                return memcmp(&a->virtio, &b->virtio, sizeof a->virtio) == 0;
        case BUS_USB:
                return memcmp(&a->usb, &b->usb, sizeof a->usb) == 0;
        default:
                return false;
        }
}

static bool valid_device_name(const char *name) {
        /* Device names end up in tables, logs and the state file. */
        if (*name == '\0' || strlen(name) >= DEVICE_NAME_MAX)
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
                      (*p >= 'A' && *p <= 'Z') || strchr(":.-_", *p)))
                        return false;
        return true;
}

int device_load(Device *d, Bus bus, const char *syspath) {
        const char *name = strrchr(syspath, '/');
        int r;

        name = name ? name + 1 : syspath;
        if (!valid_device_name(name))
                return -EINVAL;

        *d = (Device){ .dir_fd = -EBADF, .id.bus = bus };
        strcpy(d->name, name);
        d->syspath = strdup(syspath);
        if (!d->syspath)
                return -ENOMEM;

        d->dir_fd = sysfs_open_dir(syspath);
        if (d->dir_fd < 0) {
                d->identity_error = d->dir_fd;
                d->identity_error_attribute = ".";
                return 0;
        }

        d->identity_error =
                device_identity_read(d->dir_fd, bus, &d->id, &d->identity_error_attribute);

        r = sysfs_read_driver_at(d->dir_fd, d->driver, sizeof d->driver);
        if (r < 0)
                d->driver[0] = '\0';

        d->has_authorized = faccessat(d->dir_fd, "authorized", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
        d->is_usb_root_hub = bus == BUS_USB && strncmp(name, "usb", 3) == 0;

        if (bus == BUS_VIRTIO) {
                /* The transport is the parent directory: virtioN sits below its PCI function. */
                const char *end = strrchr(syspath, '/');
                const char *start = end;
                while (start > syspath && start[-1] != '/')
                        start--;
                if (end && end - start > 0 && (size_t) (end - start) < sizeof d->parent)
                        memcpy(d->parent, start, (size_t) (end - start));
        }
        return 0;
}

void device_done(Device *d) {
        free(d->syspath);
        d->syspath = NULL;
        d->dir_fd = safe_close(d->dir_fd);
}

void device_format_ids(const Device *d, char *buf, size_t size) {
        const DeviceIdentity *id = &d->id;

        if (d->identity_error < 0) {
                snprintf(buf, size, "unreadable %s: %s", d->identity_error_attribute ?: "?",
                         strerror(-d->identity_error));
                return;
        }
        switch (id->bus) {
        case BUS_PCI:
                snprintf(buf, size, "%04x:%04x sub %04x:%04x class %06x rev %02x", id->pci.vendor,
                         id->pci.device, id->pci.subsystem_vendor, id->pci.subsystem_device,
                         id->pci.class, id->pci.revision);
                break;
        case BUS_VIRTIO: {
                const char *name = virtio_type_to_name(id->virtio.type);
                if (name)
                        snprintf(buf, size, "virtio %s", name);
                else
                        snprintf(buf, size, "virtio type %u", id->virtio.type);
                break;
        }
        case BUS_USB: {
                int n = snprintf(buf, size, "%04x:%04x class %02x", id->usb.vendor, id->usb.product,
                                 id->usb.device_class);
                for (unsigned c = 0; c < 256 && n > 0 && (size_t) n < size; c++)
                        if (id->usb.interface_class[c / 64] & UINT64_C(1) << (c % 64))
                                n += snprintf(buf + n, size - (size_t) n, " if %02x", c);
                break;
        }
        default:
                snprintf(buf, size, "?");
        }
}

void device_list_done(DeviceList *l) {
        for (size_t i = 0; i < l->n; i++)
                device_done(&l->devices[i]);
        free(l->devices);
        *l = (DeviceList){};
}

Device *device_list_find(DeviceList *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->devices[i].name, name) || streq(l->devices[i].syspath, name))
                        return &l->devices[i];
        return NULL;
}
