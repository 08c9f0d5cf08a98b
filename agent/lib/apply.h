/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "enforce.h"

typedef struct ApplyResult {
        DeviceList devices[_BUS_MAX];
        Decision *decisions; /* point into devices[] */
        size_t n_decisions;
        unsigned allowed, denied, failed;
} ApplyResult;

void apply_result_done(ApplyResult *result);

/* Decides one device, enforces the decision and logs it once: always to the kernel log,
 * elsewhere at debug level only when the caller prints the decisions as a table. */
void apply_device(Enforcer *e, const Policy *policy, Device *device, const char *kernel_release,
                  bool tabulated, Decision *d);

/* One pass over every bus: close the gates, then for PCI, virtio and USB in turn enumerate,
 * decide and enforce. Virtio devices appear only once their PCI transport is bound, so each
 * bus is enumerated after the previous one was enforced. Logs each decision once. Returns
 * 0, or a negative errno if a bus could not be enumerated; result->failed counts the
 * decisions that could not be enforced (and a gate that could not be closed). */
int apply_policy(const Policy *policy, const char *kernel_release, bool dry_run,
                 ApplyResult *result);
