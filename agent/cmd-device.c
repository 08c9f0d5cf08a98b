// SPDX-License-Identifier: LGPL-2.1-or-later
/* "devgate device SYSPATH": the udev rule's half of the gate. With automatic binding off,
 * a device that appears after a full pass (a virtio device once its PCI transport was
 * bound, anything hotplugged later, also in the real root) gets no driver until this
 * decides it with the policy in force, kept in the state directory. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "apply.h"
#include "cli.h"
#include "log.h"
#include "macro.h"
#include "state.h"
#include "sysfs-io.h"

static void help(void) {
        printf("Usage: devgate device [--dry-run] SYSPATH\n"
               "\n"
               "Decides one PCI, virtio or USB device with the policy in force (the state\n"
               "directory's policy.json, installed by devgate apply) and enforces the\n"
               "decision. SYSPATH is the device's path below /sys, as udev's $devpath\n"
               "gives it (/devices/pci0000:00/0000:00:03.0/virtio0), or a full /sys path.\n"
               "Does nothing when no policy is in force.\n"
               "\n"
               "Options:\n"
               "  -n --dry-run           Decide and log, write nothing\n"
               "  -h --help              Show this help\n"
               "\n"
               "Exit status: 0 decided and enforced (or nothing to do), 1 error, 2 usage,\n"
               "3 the policy in force is invalid, 4 the decision could not be enforced.\n");
}

/* The bus a device belongs to, and its name there: its entry in /sys/bus/<bus>/devices
 * must lead to this very path, so that a path outside the device tree decides nothing. */
static int device_find(const char *syspath, Device *ret) {
        const char *name = strrchr(syspath, '/');

        if (!name || name[1] == '\0' || name[1] == '.')
                return -ENODEV;
        name++;

        for (Bus b = 0; b < _BUS_MAX; b++) {
                _cleanup_close_ int devices_fd = -EBADF;
                char path[64];

                snprintf(path, sizeof path, "/sys/bus/%s/devices", bus_to_string(b));
                devices_fd = sysfs_open_dir(path);
                if (devices_fd < 0 || faccessat(devices_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                /* USB interfaces are authorized with their device, as in a full pass. */
                if (b == BUS_USB && strchr(name, ':'))
                        return -EOPNOTSUPP;
                int r = device_load_at(ret, b, devices_fd, name);
                if (r < 0)
                        return r;
                if (!streq(ret->syspath, syspath)) {
                        device_done(ret);
                        continue;
                }
                return 0;
        }
        return -ENODEV;
}

int cmd_device(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "dry-run", no_argument, NULL, 'n' },
                {},
        };
        _cleanup_(policy_freep) Policy *policy = NULL;
        _cleanup_free_ char *syspath = NULL;
        _cleanup_close_ int lock_fd = -EBADF;
        bool dry_run = false;
        Device device = { .dir_fd = -EBADF };
        Decision decision;
        Enforcer e;
        int c, r;

        while ((c = getopt_long(argc, argv, "hn", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case 'n':
                        dry_run = true;
                        break;
                default:
                        return usage_error("device ");
                }
        if (optind + 1 != argc) {
                fprintf(stderr, "devgate device: give one SYSPATH\n");
                return usage_error("device ");
        }
        if (strncmp(argv[optind], "/sys/", 5) == 0)
                syspath = strdup(argv[optind]);
        else if (asprintf(&syspath, "/sys%s%s", argv[optind][0] == '/' ? "" : "/", argv[optind]) <
                 0)
                syspath = NULL;
        if (!syspath)
                return log_error_errno(-ENOMEM, "Out of memory."), EXIT_ERROR;

        lock_fd = state_lock();
        if (lock_fd < 0)
                return EXIT_ERROR;
        r = state_load_policy(&policy);
        if (r == -ENOENT) {
                log_debug("No policy in force in '%s', %s left alone.", state_dir(), syspath);
                return EXIT_OK;
        }
        if (r < 0)
                return exit_status_of(r);

        r = device_find(syspath, &device);
        if (r == -EOPNOTSUPP || r == -ENODEV) {
                log_debug("%s is not a device devgate decides, left alone.", syspath);
                return EXIT_OK;
        }
        if (r < 0) {
                log_error_errno(r, "Failed to read device %s: %m", syspath);
                return EXIT_ERROR;
        }

        r = enforcer_open(&e, dry_run);
        if (r < 0) {
                device_done(&device);
                return EXIT_ERROR;
        }
        /* A bus whose core module was loaded after the last full pass: close it first. */
        if (device.id.bus != BUS_USB)
                (void) enforcer_gate_bus(&e, device.id.bus);
        apply_device(&e, policy, &device, kernel_release(), false, &decision);
        enforcer_close(&e);
        device_done(&device);
        return decision.outcome == OUTCOME_FAILED ? EXIT_INCOMPLETE : EXIT_OK;
}
