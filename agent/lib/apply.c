// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdlib.h>

#include "apply.h"
#include "enumerate.h"
#include "log.h"

void apply_result_done(ApplyResult *result) {
        for (Bus b = 0; b < _BUS_MAX; b++)
                device_list_done(&result->devices[b]);
        free(result->decisions);
        *result = (ApplyResult){};
}

static void log_decision(const Decision *d, bool tabulated) {
        /* The kernel log is the boot's record, one line per device; on a terminal a
         * table may already say it. */
        int level = d->outcome == OUTCOME_FAILED    ? LOG_ERR
                    : d->outcome == OUTCOME_WARNING ? LOG_WARNING
                    : log_to_kmsg() || !tabulated   ? LOG_INFO
                                                    : LOG_DEBUG;

        if (level > log_get_max_level())
                return;
        log_internal(level, 0, "%s %s %s (%s) by %s via %s: %s", action_to_string(d->action),
                     bus_to_string(d->device->id.bus), d->device->name, d->device->ids,
                     d->rule_label, backend_to_string(d->backend), d->result);
}

void apply_device(Enforcer *e, const Policy *policy, Device *device, const char *kernel_release,
                  bool tabulated, Decision *d) {
        decide(policy, device, kernel_release, d);
        enforce(e, d);
        log_decision(d, tabulated);
}

static int apply_bus(Enforcer *e, const Policy *policy, const char *kernel_release, Bus bus,
                     ApplyResult *result) {
        DeviceList *devices = &result->devices[bus];
        int r;

        r = enumerate_bus(bus, devices);
        if (r < 0)
                return log_error_errno(r, "Failed to enumerate %s devices: %m", bus_to_string(bus));

        Decision *grown = reallocarray(result->decisions, result->n_decisions + devices->n + 1,
                                       sizeof *grown);
        if (!grown)
                return log_error_errno(-ENOMEM, "Out of memory.");
        result->decisions = grown;

        for (size_t i = 0; i < devices->n; i++) {
                Decision *d = &result->decisions[result->n_decisions++];
                apply_device(e, policy, &devices->devices[i], kernel_release, true, d);
                if (d->action == ACTION_ALLOW)
                        result->allowed++;
                else
                        result->denied++;
                if (d->outcome == OUTCOME_FAILED)
                        result->failed++;
        }
        return 0;
}

int apply_policy(const Policy *policy, const char *kernel_release, bool dry_run,
                 ApplyResult *result) {
        Enforcer e;
        int r;

        *result = (ApplyResult){};
        r = enforcer_open(&e, dry_run);
        if (r < 0)
                return r;

        /* From here on only explicit binds attach drivers to existing devices. USB is gated
         * per root hub, through authorized_default. */
        if (enforcer_gate_bus(&e, BUS_PCI) < 0)
                result->failed++;
        if (enforcer_gate_bus(&e, BUS_VIRTIO) < 0)
                result->failed++;

        for (Bus b = 0; b < _BUS_MAX; b++) {
                r = apply_bus(&e, policy, kernel_release, b, result);
                if (r < 0)
                        break;
        }
        enforcer_close(&e);
        return r;
}
