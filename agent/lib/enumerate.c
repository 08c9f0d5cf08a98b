// SPDX-License-Identifier: LGPL-2.1-or-later
#include <libudev.h>
#include <stdlib.h>
#include <string.h>

#include "enumerate.h"
#include "log.h"
#include "macro.h"

static void udev_unrefp(struct udev **u) {
        udev_unref(*u);
}

static void udev_enumerate_unrefp(struct udev_enumerate **e) {
        udev_enumerate_unref(*e);
}

static bool is_usb_interface(const char *syspath) {
        /* The usb bus lists interfaces ("1-1:1.0") beside devices; interfaces are governed
         * through their device. */
        const char *name = strrchr(syspath, '/');
        return name && strchr(name, ':');
}

int enumerate_bus(Bus bus, DeviceList *list) {
        _cleanup_(udev_unrefp) struct udev *udev = NULL;
        _cleanup_(udev_enumerate_unrefp) struct udev_enumerate *e = NULL;
        struct udev_list_entry *entry;
        size_t n = 0, allocated;
        int r;

        udev = udev_new();
        if (!udev)
                return -ENOMEM;
        e = udev_enumerate_new(udev);
        if (!e)
                return -ENOMEM;
        r = udev_enumerate_add_match_subsystem(e, bus_to_string(bus));
        if (r < 0)
                return r;
        r = udev_enumerate_scan_devices(e);
        if (r < 0)
                return r;

        udev_list_entry_foreach (entry, udev_enumerate_get_list_entry(e))
                n++;

        allocated = list->n + n;
        Device *devices = reallocarray(list->devices, allocated ? allocated : 1, sizeof *devices);
        if (!devices)
                return -ENOMEM;
        list->devices = devices;

        udev_list_entry_foreach (entry, udev_enumerate_get_list_entry(e)) {
                const char *syspath = udev_list_entry_get_name(entry);

                if (bus == BUS_USB && is_usb_interface(syspath))
                        continue;

                r = device_load(&list->devices[list->n], bus, syspath);
                if (r < 0) {
                        /* A name we cannot represent safely cannot be authorized either;
                         * it stays as the kernel left it and is reported. */
                        log_warning_errno(r, "Ignoring device '%s' with an invalid name: %m",
                                          syspath);
                        continue;
                }
                list->n++;
        }
        return 0;
}
