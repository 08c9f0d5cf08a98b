/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "decision.h"

/* The driver_override value that keeps a denied PCI function unbindable: no driver has
 * this name, so every bind fails, and it says in sysfs who set it. */
#define DEVGATE_DENY_OVERRIDE "devgate-denied"

typedef struct Enforcer {
        int bus_fd[_BUS_MAX]; /* /sys/bus/<bus>, -EBADF when the bus does not exist */
        bool dry_run;
} Enforcer;

int enforcer_open(Enforcer *e, bool dry_run);
void enforcer_close(Enforcer *e);

/* Turns drivers_autoprobe off on a bus, so that a driver registering later binds nothing
 * by itself. Returns 0 if the bus does not exist. */
int enforcer_gate_bus(Enforcer *e, Bus bus);

/* Carries out one decision through the device's directory fd, after re-reading the
 * device's identity through that fd. Fills in backend, outcome and result. */
void enforce(Enforcer *e, Decision *d);
