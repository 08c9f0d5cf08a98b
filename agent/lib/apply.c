// SPDX-License-Identifier: LGPL-2.1-or-later
#include "apply.h"
#include "enumerate.h"
#include "log.h"
#include "report.h"

static void log_decision(const Decision *d) {
        char ids[192], rule[32];
        /* The kernel log is the boot's record, one line per device; on a terminal the
         * table already says it. */
        int level = d->outcome == OUTCOME_FAILED    ? LOG_ERR
                    : d->outcome == OUTCOME_WARNING ? LOG_WARNING
                    : log_to_kmsg()                 ? LOG_INFO
                                                    : LOG_DEBUG;

        device_format_ids(d->device, ids, sizeof ids);
        decision_rule_label(d, rule, sizeof rule);
        log_internal(level, 0, "%s %s %s (%s) by %s via %s: %s", action_to_string(d->action),
                     bus_to_string(d->device->id.bus), d->device->name, ids, rule,
                     backend_to_string(d->backend), d->result);
}

static int apply_bus(Enforcer *e, const Policy *policy, const char *kernel_release, Bus bus,
                     json_object *records) {
        DeviceList devices = {};
        int failed = 0, r;

        r = enumerate_bus(bus, &devices);
        if (r < 0) {
                device_list_done(&devices);
                return log_error_errno(r, "Failed to enumerate %s devices: %m", bus_to_string(bus));
        }

        for (size_t i = 0; i < devices.n; i++) {
                Decision d;
                decide(policy, &devices.devices[i], kernel_release, &d);
                enforce(e, &d);
                log_decision(&d);
                json_object_array_add(records, decision_to_json(policy, &d));
                if (d.outcome == OUTCOME_FAILED)
                        failed++;
        }
        device_list_done(&devices);
        return failed;
}

int apply_policy(const Policy *policy, const char *kernel_release, bool dry_run,
                 json_object *records) {
        Enforcer e;
        int failed = 0, r;

        r = enforcer_open(&e, dry_run);
        if (r < 0)
                return r;

        /* From here on only explicit binds attach drivers to existing devices. USB is gated
         * per root hub, through authorized_default. */
        if (enforcer_gate_bus(&e, BUS_PCI) < 0)
                failed++;
        if (enforcer_gate_bus(&e, BUS_VIRTIO) < 0)
                failed++;

        for (Bus b = 0; b < _BUS_MAX; b++) {
                r = apply_bus(&e, policy, kernel_release, b, records);
                if (r < 0)
                        break;
                failed += r;
        }
        enforcer_close(&e);
        return r < 0 ? r : failed;
}
