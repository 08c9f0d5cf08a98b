/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "device.h"

/* Enumerates the devices of one bus from /sys/bus/<bus>/devices and loads each through
 * its directory fd.
 * Appends to the list; the list owns what it holds even on failure. */
int enumerate_bus(Bus bus, DeviceList *list);
