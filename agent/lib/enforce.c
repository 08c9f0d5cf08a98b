// SPDX-License-Identifier: LGPL-2.1-or-later
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "enforce.h"
#include "log.h"
#include "sysfs-io.h"

int enforcer_open(Enforcer *e, bool dry_run) {
        *e = (Enforcer){ .dry_run = dry_run };

        for (Bus b = 0; b < _BUS_MAX; b++) {
                char path[64];
                snprintf(path, sizeof path, "/sys/bus/%s", bus_to_string(b));
                e->bus_fd[b] = sysfs_open_dir(path);
                if (e->bus_fd[b] < 0 && e->bus_fd[b] != -ENOENT)
                        return log_error_errno(e->bus_fd[b], "Failed to open '%s': %m", path);
        }
        return 0;
}

void enforcer_close(Enforcer *e) {
        for (Bus b = 0; b < _BUS_MAX; b++)
                e->bus_fd[b] = safe_close(e->bus_fd[b]);
}

int enforcer_gate_bus(Enforcer *e, Bus bus) {
        int r;

        if (e->bus_fd[bus] < 0 || e->dry_run)
                return 0;
        r = sysfs_write_at(e->bus_fd[bus], "drivers_autoprobe", "0");
        if (r < 0)
                return log_error_errno(r, "Failed to turn off '/sys/bus/%s/drivers_autoprobe': %m",
                                       bus_to_string(bus));
        log_debug("Turned off automatic binding on the %s bus.", bus_to_string(bus));
        return 0;
}

/* "bound to virtio-pci": the results of the common paths, put together without printf
 * because every device of a boot takes one of them. */
static void set_result_named(Decision *d, Outcome outcome, const char *text, const char *name) {
        size_t len = strlen(text), name_len = strlen(name);

        /* strlen, not strnlen with the room left as bound: that bound can exceed the source
         * array, which gcc -O3 reports (-Wstringop-overread) although name is terminated. */
        if (name_len > sizeof d->result - 1 - len)
                name_len = sizeof d->result - 1 - len;

        d->outcome = outcome;
        memcpy(d->result, text, len);
        memcpy(d->result + len, name, name_len);
        d->result[len + name_len] = '\0';
}

static void set_result(Decision *d, Outcome outcome, const char *format, ...) _printf_(3, 4);
static void set_result(Decision *d, Outcome outcome, const char *format, ...) {
        va_list ap;
        d->outcome = outcome;
        /* Most results are fixed words; printf only where there is something to fill in. */
        if (!strchr(format, '%')) {
                snprintf(d->result, sizeof d->result, "%s", format);
                return;
        }
        va_start(ap, format);
        vsnprintf(d->result, sizeof d->result, format, ap);
        va_end(ap);
}

static int unbind(Device *dev) {
        _cleanup_close_ int driver_fd = -EBADF;

        /* "driver" is the kernel's link to the driver that holds this very device. */
        driver_fd = openat(dev->dir_fd, "driver", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (driver_fd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        return sysfs_command_at(driver_fd, "unbind", dev->name);
}

static void current_driver(Device *dev) {
        if (sysfs_read_driver_at(dev->dir_fd, dev->driver, sizeof dev->driver) < 0)
                dev->driver[0] = '\0';
}

static void enforce_authorized(Decision *d) {
        Device *dev = d->device;
        int r;

        if (d->action == ACTION_ALLOW) {
                /* Pin before authorizing: authorizing binds at once. */
                if (d->driver &&
                    faccessat(dev->dir_fd, "driver_override", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
                        r = sysfs_write_at(dev->dir_fd, "driver_override", d->driver);
                        if (r < 0)
                                return set_result(d, OUTCOME_FAILED,
                                                  "cannot pin driver %s: %s, not authorized",
                                                  d->driver, strerror(-r));
                }
                r = sysfs_write_at(dev->dir_fd, "authorized", "1");
                if (r < 0)
                        return set_result(d, OUTCOME_FAILED, "writing authorized=1 failed: %s",
                                          strerror(-r));
                return set_result(d, OUTCOME_ENFORCED, "authorized");
        }

        r = sysfs_write_at(dev->dir_fd, "authorized", "0");
        if (r < 0)
                return set_result(d, OUTCOME_FAILED, "writing authorized=0 failed: %s",
                                  strerror(-r));
        set_result(d, OUTCOME_ENFORCED, "deauthorized");
}

static void gate_deny(Decision *d) {
        Device *dev = d->device;
        int r;

        /* PCI: make the function unbindable first, so that nothing can re-bind it between
         * the unbind and the end of the run. Virtio has no driver_override; with automatic
         * binding off, an unbound virtio device stays unbound. */
        if (dev->id.bus == BUS_PCI) {
                r = sysfs_write_at(dev->dir_fd, "driver_override", DEVGATE_DENY_OVERRIDE);
                if (r < 0)
                        return set_result(d, OUTCOME_FAILED, "cannot block binding: %s",
                                          strerror(-r));
        }

        current_driver(dev);
        if (dev->driver[0] == '\0')
                return set_result(d, OUTCOME_ENFORCED, "blocked");

        r = unbind(dev);
        if (r < 0)
                return set_result(d, OUTCOME_FAILED, "still bound to %s, unbind failed: %s",
                                  dev->driver, strerror(-r));
        set_result_named(d, OUTCOME_ENFORCED, "blocked, unbound from ", dev->driver);
}

static bool driver_registered(Enforcer *e, Bus bus, const char *driver) {
        char path[sizeof "drivers/" + DRIVER_NAME_MAX];

        if ((size_t) snprintf(path, sizeof path, "drivers/%s", driver) >= sizeof path)
                return false;
        return faccessat(e->bus_fd[bus], path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static void gate_allow(Enforcer *e, Decision *d) {
        Device *dev = d->device;
        Bus bus = dev->id.bus;
        int r;

        if (d->driver && bus == BUS_PCI) {
                r = sysfs_write_at(dev->dir_fd, "driver_override", d->driver);
                if (r < 0)
                        return set_result(d, OUTCOME_FAILED, "cannot pin driver %s: %s", d->driver,
                                          strerror(-r));
        }

        current_driver(dev);
        if (dev->driver[0] && d->driver && !streq(dev->driver, d->driver)) {
                r = unbind(dev);
                if (r < 0)
                        return set_result(d, OUTCOME_FAILED,
                                          "bound to %s instead of %s, unbind failed: %s",
                                          dev->driver, d->driver, strerror(-r));
                dev->driver[0] = '\0';
        }
        if (dev->driver[0])
                return set_result_named(d, OUTCOME_ENFORCED, "bound to ", dev->driver);

        if (e->bus_fd[bus] < 0)
                return set_result(d, OUTCOME_FAILED, "no /sys/bus/%s to bind through",
                                  bus_to_string(bus));
        if (d->driver && !driver_registered(e, bus, d->driver))
                /* Early in boot the module comes later: udev loads it for this very device
                 * and then runs "devgate device", which binds it. */
                return set_result_named(d, OUTCOME_ENFORCED, "waiting for its driver ", d->driver);
        r = sysfs_command_at(e->bus_fd[bus], "drivers_probe", dev->name);
        if (r < 0)
                return set_result(d, OUTCOME_FAILED, "bind failed: %s", strerror(-r));

        current_driver(dev);
        if (dev->driver[0] == '\0')
                return set_result(d, OUTCOME_WARNING, "bind requested, no driver bound");
        if (d->driver && !streq(dev->driver, d->driver)) {
                /* Only virtio gets here: PCI is held to its pin by driver_override. */
                r = unbind(dev);
                return set_result(d, OUTCOME_FAILED, "%s bound instead of %s, %s", dev->driver,
                                  d->driver, r < 0 ? "unbind failed" : "unbound");
        }
        set_result_named(d, OUTCOME_ENFORCED, "bound to ", dev->driver);
}

void enforce(Enforcer *e, Decision *d) {
        Device *dev = d->device;
        DeviceIdentity now;
        int r;

        d->backend = dev->has_authorized ? BACKEND_AUTHORIZED : BACKEND_BUS_GATE;

        if (dev->dir_fd < 0) {
                /* Gone since it was listed: nothing is left to block. Anything else (a link
                 * that leads nowhere, no permission) leaves a device devgate cannot govern. */
                bool gone = dev->dir_fd == -ENOENT || dev->dir_fd == -ENODEV;
                d->backend = BACKEND_NONE;
                return set_result(
                        d, gone && d->action == ACTION_DENY ? OUTCOME_ENFORCED : OUTCOME_FAILED,
                        "cannot open device: %s", strerror(-dev->dir_fd));
        }
        if (e->dry_run)
                return set_result(d, OUTCOME_PLANNED, "dry run");

        /* "default": "allow" leaves a device as the kernel has it: devgate never authorizes
         * a device without an explicit rule. */
        if (d->action == ACTION_ALLOW && d->rule < 0)
                return set_result(d, OUTCOME_ENFORCED, "left as is (no rule)");

        if (d->action == ACTION_ALLOW) {
                r = device_identity_read(dev->dir_fd, dev->id.bus, &now, NULL);
                if (r == -ENOENT || r == -ENODEV)
                        return set_result(d, OUTCOME_FAILED, "vanished before it was bound");
                if (r < 0 || !device_identity_equal(&now, &dev->id)) {
                        /* Decided for one identity, now presents another: deny it. */
                        char denial[sizeof d->result];

                        d->action = ACTION_DENY;
                        d->rule = -1;
                        d->driver = NULL;
                        strcpy(d->rule_label, "changed");
                        if (d->backend == BACKEND_AUTHORIZED)
                                enforce_authorized(d);
                        else
                                gate_deny(d);
                        memcpy(denial, d->result, sizeof denial);
                        return set_result(
                                d, d->outcome == OUTCOME_ENFORCED ? OUTCOME_WARNING : d->outcome,
                                "identity changed, denied (%s)", denial);
                }
        }

        /* The USB gate: whatever is decided for the hub itself, a device plugged in later
         * must wait for a decision instead of being authorized by the kernel's default. */
        if (dev->is_usb_root_hub) {
                r = sysfs_write_at(dev->dir_fd, "authorized_default", "0");
                if (r < 0)
                        return set_result(d, OUTCOME_FAILED,
                                          "cannot set authorized_default=0 on the root hub: %s",
                                          strerror(-r));
        }

        if (d->backend == BACKEND_AUTHORIZED)
                enforce_authorized(d);
        else if (dev->id.bus == BUS_USB)
                set_result(d, OUTCOME_FAILED, "usb device without an authorized attribute");
        else if (d->action == ACTION_ALLOW)
                gate_allow(e, d);
        else
                gate_deny(d);
}
