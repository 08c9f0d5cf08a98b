// SPDX-License-Identifier: LGPL-2.1-or-later
/* Lists a bus's devices from /sys/bus/<bus>/devices, through that directory's fd. devgate
 * reads every attribute itself through each device's directory fd, so a device library's
 * view (path canonicalization, property databases) would only be paid for, not used: at
 * boot under emulation, the listing alone cost sixty times the rest of a device's work. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enumerate.h"
#include "log.h"
#include "macro.h"
#include "sysfs-io.h"

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* An entry's name with its length, which the sort compares first. */
typedef struct Name {
        size_t len;
        char name[];
} Name;

static int compare_names(const void *a, const void *b) {
        /* Shorter first, then by bytes: virtio2 before virtio10, and PCI addresses, all
         * of one length, in address order. */
        const Name *x = *(Name *const *) a, *y = *(Name *const *) b;
        if (x->len != y->len)
                return x->len < y->len ? -1 : 1;
        return memcmp(x->name, y->name, x->len);
}

static void free_names(Name **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

/* Reads the entries of a directory, sorted, skipping USB interfaces ("1-1:1.0"): those are
 * governed through their device. */
static int read_names(int dir_fd, Bus bus, Name ***ret, size_t *ret_n) {
        _cleanup_(closedirp) DIR *d = NULL;
        Name **names = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        int fd;

        fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return negative_errno();
        }

        while ((errno = 0, de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (bus == BUS_USB && strchr(de->d_name, ':'))
                        continue;
                if (n == allocated) {
                        allocated = allocated ? allocated * 2 : 64;
                        Name **grown = reallocarray(names, allocated, sizeof *names);
                        if (!grown) {
                                free_names(names, n);
                                return -ENOMEM;
                        }
                        names = grown;
                }
                size_t len = strlen(de->d_name);
                names[n] = malloc(sizeof(Name) + len + 1);
                if (!names[n]) {
                        free_names(names, n);
                        return -ENOMEM;
                }
                names[n]->len = len;
                memcpy(names[n]->name, de->d_name, len + 1);
                n++;
        }
        if (errno != 0) {
                int r = negative_errno();
                free_names(names, n);
                return r;
        }

        if (n > 1)
                qsort(names, n, sizeof *names, compare_names);
        *ret = names;
        *ret_n = n;
        return 0;
}

int enumerate_bus(Bus bus, DeviceList *list) {
        _cleanup_close_ int devices_fd = -EBADF;
        Name **names = NULL;
        char path[64];
        size_t n = 0;
        int r;

        snprintf(path, sizeof path, "/sys/bus/%s/devices", bus_to_string(bus));
        devices_fd = sysfs_open_dir(path);
        if (devices_fd == -ENOENT)
                return 0; /* the bus is not there: its core module is not loaded */
        if (devices_fd < 0)
                return devices_fd;

        r = read_names(devices_fd, bus, &names, &n);
        if (r < 0)
                return r;

        Device *devices = reallocarray(list->devices, list->n + n + 1, sizeof *devices);
        if (!devices) {
                free_names(names, n);
                return -ENOMEM;
        }
        list->devices = devices;

        for (size_t i = 0; i < n; i++) {
                r = device_load_at(&list->devices[list->n], bus, devices_fd, names[i]->name);
                if (r < 0) {
                        /* A name devgate cannot represent safely cannot be authorized either;
                         * the device stays as the kernel left it. */
                        log_warning_errno(r, "Ignoring device '%s/%s': %m", path, names[i]->name);
                        continue;
                }
                list->n++;
        }
        free_names(names, n);
        return 0;
}
