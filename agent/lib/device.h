/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum Bus {
        BUS_PCI,
        BUS_VIRTIO,
        BUS_USB,
        _BUS_MAX,
        _BUS_INVALID = -EINVAL,
} Bus;

const char *bus_to_string(Bus bus);
Bus bus_from_string(const char *s);

typedef struct PciIdentity {
        uint16_t vendor, device, subsystem_vendor, subsystem_device;
        uint32_t class; /* 0xCCSSPP: base class, subclass, programming interface */
        uint8_t revision;
} PciIdentity;

typedef struct VirtioIdentity {
        uint32_t type;   /* virtio device type, e.g. 1 for net */
        uint32_t vendor; /* the transport's subsystem vendor */
} VirtioIdentity;

typedef struct UsbIdentity {
        uint16_t vendor, product;
        uint8_t device_class;
        unsigned n_interfaces;       /* across all configurations */
        uint64_t interface_class[4]; /* set of interface classes, bit N = class N */
} UsbIdentity;

/* What a device claims to be. Every field comes from the host: it is parsed strictly and
 * used only to decide, never to authenticate. */
typedef struct DeviceIdentity {
        Bus bus;
        union {
                PciIdentity pci;
                VirtioIdentity virtio;
                UsbIdentity usb;
        };
} DeviceIdentity;

#define DEVICE_NAME_MAX 64
#define DRIVER_NAME_MAX 64

typedef struct Device {
        char *syspath;                        /* /sys/devices/... */
        char name[DEVICE_NAME_MAX];           /* 0000:00:02.0, virtio0, 1-1 */
        char driver[DRIVER_NAME_MAX];         /* bound driver, "" if none */
        char parent[DEVICE_NAME_MAX];         /* virtio: the transport's PCI device */
        char ids[96];                         /* the identity, formatted once for tables and logs */
        int dir_fd;                           /* the device directory, held from read to write */
        int identity_error;                   /* < 0: identity unreadable, the device is denied */
        const char *identity_error_attribute; /* which one, for messages */
        DeviceIdentity id;
        bool has_authorized; /* the device has an "authorized" attribute */
        bool is_usb_root_hub;
} Device;

/* Reads the identity of a device of the given bus through its directory fd. On failure
 * names the attribute that could not be read or parsed in *ret_attribute. */
int device_identity_read(int dir_fd, Bus bus, DeviceIdentity *ret, const char **ret_attribute);
bool device_identity_equal(const DeviceIdentity *a, const DeviceIdentity *b);

/* Opens the device directory and reads its identity, driver and capabilities. Failing to
 * read the identity is not fatal: identity_error records it and the device is denied.
 * device_load_at() takes the entry `name` of a bus's "devices" directory, a kernel link
 * to the device; device_load() a /sys/devices path. */
int device_load_at(Device *d, Bus bus, int bus_devices_fd, const char *name);
int device_load(Device *d, Bus bus, const char *syspath);
void device_done(Device *d);

typedef struct DeviceList {
        Device *devices;
        size_t n;
} DeviceList;

void device_list_done(DeviceList *l);
Device *device_list_find(DeviceList *l, const char *name);
