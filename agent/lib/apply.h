/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

#include "enforce.h"

/* One pass over every bus: close the gates, then for PCI, virtio and USB in turn enumerate,
 * decide and enforce. Virtio devices appear only once their PCI transport is bound, so each
 * bus is enumerated after the previous one was enforced. Appends one record per device to
 * `records` and logs each decision once. Returns the number of decisions that could not
 * be enforced, or a negative errno if a bus could not be enumerated. */
int apply_policy(const Policy *policy, const char *kernel_release, bool dry_run,
                 json_object *records);
