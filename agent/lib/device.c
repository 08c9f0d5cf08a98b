// SPDX-License-Identifier: LGPL-2.1-or-later
#include <fcntl.h>
#include <limits.h>
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

static char *put_hex(char *p, uint32_t value, int digits) {
        static const char hex[] = "0123456789abcdef";
        for (int i = digits - 1; i >= 0; i--)
                *p++ = hex[(value >> (4 * i)) & 0xf];
        return p;
}

static char *put_string(char *p, const char *s) {
        size_t len = strlen(s);
        memcpy(p, s, len);
        return p + len;
}

/* Formats the identity once per device, without printf: every device of a boot pays it.
 * The longest result, a USB device with every interface class, is cut to fit. */
static void format_ids(Device *d) {
        const DeviceIdentity *id = &d->id;
        char *p = d->ids, *end = d->ids + sizeof d->ids - 1;

        if (d->identity_error < 0) {
                snprintf(d->ids, sizeof d->ids, "unreadable %s: %s",
                         d->identity_error_attribute ?: "?", strerror(-d->identity_error));
                return;
        }
        switch (id->bus) {
        case BUS_PCI:
                p = put_hex(p, id->pci.vendor, 4);
                *p++ = ':';
                p = put_hex(p, id->pci.device, 4);
                p = put_string(p, " sub ");
                p = put_hex(p, id->pci.subsystem_vendor, 4);
                *p++ = ':';
                p = put_hex(p, id->pci.subsystem_device, 4);
                p = put_string(p, " class ");
                p = put_hex(p, id->pci.class, 6);
                p = put_string(p, " rev ");
                p = put_hex(p, id->pci.revision, 2);
                break;
        case BUS_VIRTIO:
                if (virtio_type_to_name(id->virtio.type)) {
                        p = put_string(p, "virtio ");
                        p = put_string(p, virtio_type_to_name(id->virtio.type));
                } else
                        p += snprintf(p, 32, "virtio type %u", id->virtio.type);
                break;
        case BUS_USB:
                p = put_hex(p, id->usb.vendor, 4);
                *p++ = ':';
                p = put_hex(p, id->usb.product, 4);
                p = put_string(p, " class ");
                p = put_hex(p, id->usb.device_class, 2);
                for (unsigned c = 0; c < 256 && end - p >= 6; c++)
                        if (id->usb.interface_class[c / 64] & UINT64_C(1) << (c % 64)) {
                                p = put_string(p, " if ");
                                p = put_hex(p, c, 2);
                        }
                break;
        default:
                *p++ = '?';
        }
        *p = '\0';
}

/* Takes ownership of syspath and dir_fd (a negative errno if the directory could not be
 * opened). */
static int device_init(Device *d, Bus bus, const char *name, char *syspath, int dir_fd) {
        *d = (Device){ .dir_fd = dir_fd, .id.bus = bus, .syspath = syspath };
        strcpy(d->name, name);

        if (dir_fd < 0) {
                d->identity_error = dir_fd;
                d->identity_error_attribute = ".";
                format_ids(d);
                return 0;
        }

        d->identity_error = device_identity_read(dir_fd, bus, &d->id, &d->identity_error_attribute);
        format_ids(d);

        if (sysfs_read_driver_at(dir_fd, d->driver, sizeof d->driver) < 0)
                d->driver[0] = '\0';
        d->has_authorized = faccessat(dir_fd, "authorized", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
        d->is_usb_root_hub = bus == BUS_USB && strncmp(name, "usb", 3) == 0;

        if (bus == BUS_VIRTIO) {
                /* The transport is the parent directory: virtioN sits below its PCI function. */
                const char *end = strrchr(syspath, '/');
                const char *start = end;
                while (start > syspath && start[-1] != '/')
                        start--;
                if (end && end > start && (size_t) (end - start) < sizeof d->parent)
                        memcpy(d->parent, start, (size_t) (end - start));
        }
        return 0;
}

int device_load_at(Device *d, Bus bus, int bus_devices_fd, const char *name) {
        char target[PATH_MAX];
        const char *rel;
        char *syspath;
        ssize_t n;

        if (!valid_device_name(name))
                return -EINVAL;

        /* The entry is the kernel's link into /sys/devices: "../../../devices/pci0000:00/...". */
        n = readlinkat(bus_devices_fd, name, target, sizeof target - 1);
        if (n < 0)
                return negative_errno();
        target[n] = '\0';
        for (rel = target; strncmp(rel, "../", 3) == 0;)
                rel += 3;
        if (strncmp(rel, "devices/", 8) != 0)
                return -EINVAL;
        size_t len = strlen(rel);
        syspath = malloc(len + 6);
        if (!syspath)
                return -ENOMEM;
        memcpy(syspath, "/sys/", 5);
        memcpy(syspath + 5, rel, len + 1);

        int fd = openat(bus_devices_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return device_init(d, bus, name, syspath, fd < 0 ? negative_errno() : fd);
}

int device_load(Device *d, Bus bus, const char *syspath) {
        const char *name = strrchr(syspath, '/');
        char *copy;

        name = name ? name + 1 : syspath;
        if (!valid_device_name(name))
                return -EINVAL;
        copy = strdup(syspath);
        if (!copy)
                return -ENOMEM;
        return device_init(d, bus, name, copy, sysfs_open_dir(syspath));
}

void device_done(Device *d) {
        free(d->syspath);
        d->syspath = NULL;
        d->dir_fd = safe_close(d->dir_fd);
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
